package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPrune deploys web eight times and prunes it by hand: --dry-run lists
// what would go and writes nothing, a run removes exactly that, keeping
// the newest three and the bootstrap revision (not Deckhand's); --keep 0
// is refused.
func TestPrune(t *testing.T) {
	w := seed(t)
	for i := 1; i <= 8; i++ {
		tag := fmt.Sprintf("1.1.%d", i)
		w.push("web", tag)
		mustRun(t, w, "deploy", "web", "--image", "web:"+tag, "--wait") // web:2 … web:9
	}
	removed := func(r result) []int {
		var res []struct {
			Removed []struct {
				Revision int  `json:"revision"`
				Deleted  bool `json:"deleted"`
			} `json:"removed"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("prune -o json: %v\n%s", err, r.stdout)
		}
		var out []int
		for _, b := range res {
			for _, rm := range b.Removed {
				out = append(out, rm.Revision)
			}
		}
		return out
	}
	dry := deckhand(t, w.args("prune", "web", "--keep", "3", "--dry-run", "-o", "json")...)
	if dry.code != 0 {
		t.Fatalf("prune --dry-run: exit %d", dry.code)
	}
	// 9 serves; 9, 8, 7 are the newest 3 (8 is rollback's target); web:1
	// is the bootstrap revision, not Deckhand's.
	if diff := cmp.Diff([]int{2, 3, 4, 5, 6}, removed(dry)); diff != "" {
		t.Errorf("dry run would remove (-want +got):\n%s", diff)
	}
	if n := len(w.sb.ECS().TaskDefinitions("web")); n != 9 {
		t.Errorf("after a dry run %d revisions of web; want all 9", n)
	}
	text := deckhand(t, w.args("prune", "web", "--keep", "3", "--dry-run")...)
	for _, want := range []string{"web: keep 3 of family web; serving web:9", "-  web:2  would remove", "+  web:8  kept: among the newest 3", "would remove 5 revision(s)"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("prune --dry-run output lacks %q:\n%s", want, text.stdout)
		}
	}
	run := deckhand(t, w.args("prune", "web", "--keep", "3", "-o", "json")...)
	if run.code != 0 {
		t.Fatalf("prune: exit %d", run.code)
	}
	if diff := cmp.Diff(removed(dry), removed(run)); diff != "" {
		t.Errorf("prune removed other revisions than its dry run listed (-dry +run):\n%s", diff)
	}
	var left []int32
	for _, td := range w.sb.ECS().TaskDefinitions("web") {
		left = append(left, td.Revision)
	}
	if diff := cmp.Diff([]int32{1, 7, 8, 9}, left); diff != "" {
		t.Errorf("revisions left (-want +got):\n%s", diff)
	}
	for _, keep := range []string{"0", "-1"} {
		if r := deckhand(t, w.args("prune", "web", "--keep", keep)...); r.code != 2 || !strings.Contains(r.stderr, "the serving revision must stay") {
			t.Errorf("prune --keep %s: exit %d, stderr %q; want 2 naming why", keep, r.code, r.stderr)
		}
	}
	if r := deckhand(t, w.args("prune", "wbe")...); r.code != 3 {
		t.Errorf("prune of an unknown binding: exit %d, want 3", r.code)
	}
	if r := deckhand(t, w.args("prune", "api")...); r.code != 0 || !strings.Contains(r.stdout, "api: skipped: no retention") {
		t.Errorf("prune of a binding without retention: exit %d\n%s", r.code, r.stdout)
	}
}
