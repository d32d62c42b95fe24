package local

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestRetentionAfterThirtyDeploys (issue 15's acceptance): with
// retention: { keep: 3 } on web, 30 pushes deploy 30 revisions through the
// deployer, the last one rolled back by the circuit breaker; one reconciler
// pass removes 20 (retention.DefaultMaxRemovals), the next the 6 left, and
// then exactly these stay: the newest 3, the serving revision (older than
// them after the rollback) and rollback's target (the one before it), and
// the revision the service was created on (not Deckhand's). Everything
// else of web's is deleted.
func TestRetentionAfterThirtyDeploys(t *testing.T) {
	sb := sandboxtest.Start(t)
	ctx := context.Background()
	raw, err := os.ReadFile("../../../examples/deckhand.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(raw), "    circuitBreaker: rollback\n", "    circuitBreaker: rollback\n    retention: { keep: 3 }\n", 1)
	st, err := New(ctx, sb, Options{Dir: "../../../examples", Manifest: []byte(yaml), InitialTags: ExampleTags})
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := st.Running("web")
	for i := 1; i <= 30; i++ {
		d := sb.PushImage("web", fmt.Sprintf("1.1.%d", i))
		if i >= 29 {
			sb.ECS().SetImageHealth(d, false) // 29 and 30 are rolled back
		}
		st.mustSettle(t)
	}
	serving, _, _ := st.Running("web")
	revs := sb.ECS().TaskDefinitions("web")
	byRev := map[int32]string{}
	for _, r := range revs {
		byRev[r.Revision] = r.ARN
	}
	last := revs[len(revs)-1].Revision // 31: the seed's revision is 1
	if last != 31 || serving != byRev[29] {
		t.Fatalf("after 30 pushes: latest revision %d, serving %s; want 31 and revision 29 (30 and 31 rolled back)", last, serving)
	}
	rep, err := st.Reconciler.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Retention) != 1 || rep.Retention[0].Binding != "web" || len(rep.Retention[0].Removed) != 20 || rep.Retention[0].Deferred != 6 {
		t.Fatalf("first pass's retention %+v; want web's, 20 removed and 6 deferred", rep.Retention)
	}
	if rep, err = st.Reconciler.Run(ctx); err != nil || len(rep.Retention) != 1 || len(rep.Retention[0].Removed) != 6 {
		t.Fatalf("second pass's retention %+v (%v); want the 6 left removed", rep.Retention, err)
	}
	var left []int32
	for _, r := range sb.ECS().TaskDefinitions("web") {
		left = append(left, r.Revision)
		if r.Status != "ACTIVE" {
			t.Errorf("revision %d is %s: a kept revision must stay ACTIVE", r.Revision, r.Status)
		}
	}
	// 1: the seed's (not Deckhand's); 28: rollback's target; 29: serving;
	// 30, 31: rolled back, and with 29 the newest 3.
	if diff := cmp.Diff([]int32{1, 28, 29, 30, 31}, left); diff != "" {
		t.Errorf("revisions left (-want +got):\n%s", diff)
	}
	if first != byRev[1] {
		t.Errorf("web started on %s, want revision 1", first)
	}
	// The service still rolls back and forward: deckhand rollback's target
	// and a new push both work.
	sb.PushImage("web", "1.2.0")
	st.mustSettle(t)
	if now, _, _ := st.Running("web"); !strings.HasSuffix(now, ":32") {
		t.Errorf("a push after pruning runs %s; want revision 32", now)
	}
	for _, r := range sb.ECS().TaskDefinitions("web") {
		if tags := r.Tags; r.Revision > 1 && tags[revision.TagBinding] != "web" {
			t.Errorf("revision %d is not Deckhand's: %v", r.Revision, tags)
		}
	}
}
