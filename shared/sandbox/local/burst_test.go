package local

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestBurstWithDuplicatesAndReordering delivers 50 pushes across 10 services,
// shuffled and with duplicates, and checks that every service ends on its
// newest image with no duplicate revisions.
func TestBurstWithDuplicatesAndReordering(t *testing.T) {
	const services, pushes = 10, 50
	dir := t.TempDir()
	var m strings.Builder
	m.WriteString("version: 1\nservices:\n")
	initial := map[string]string{}
	for i := range services {
		fmt.Fprintf(&m, "  - {name: svc%d, cluster: burst, service: svc%d, template: t.json, images: {app: {repository: r%d, tags: \"semver:*\"}}}\n", i, i, i)
		initial[fmt.Sprintf("r%d", i)] = "0.1.0"
	}
	tmpl := `{"family":"{{ .Service }}","containerDefinitions":[{"name":"app","image":"{{ .Image }}"}]}`
	if err := os.WriteFile(filepath.Join(dir, "t.json"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.Start(t)
	st, err := New(context.Background(), sb, Options{Dir: dir, Manifest: []byte(m.String()), InitialTags: initial, DesiredCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(7, 7))
	newest := map[string]string{}
	var raws [][]byte
	for i := range pushes {
		repo := fmt.Sprintf("r%d", i%services)
		tag := fmt.Sprintf("1.0.%d", i)
		digest := sb.PushImageSilently(repo, tag)
		newest[repo] = digest
		raw, _ := json.Marshal(events.ImageActionEvent{
			Version: "0", ID: fmt.Sprintf("burst-%d", i), DetailType: events.DetailTypeImageAction, Source: events.SourceECR,
			Account: sb.Account(), Region: sb.Region(), Time: sb.Clock().Now(), Resources: []string{},
			Detail: events.ECRImageAction{Result: events.ResultSuccess, ActionType: events.ActionPush, RepositoryName: repo, ImageDigest: digest, ImageTag: tag},
		})
		raws = append(raws, raw)
		sb.Clock().Advance(time.Second)
	}
	for range 15 { // at-least-once delivery: duplicates with new delivery ids
		var ev events.Raw
		_ = json.Unmarshal(raws[rnd.IntN(len(raws))], &ev)
		ev.ID += fmt.Sprintf("-dup%d", rnd.IntN(1000))
		raw, _ := json.Marshal(ev)
		raws = append(raws, raw)
	}
	rnd.Shuffle(len(raws), func(i, j int) { raws[i], raws[j] = raws[j], raws[i] })
	for _, raw := range raws {
		if err := st.Router.Deliver(raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Settle(context.Background(), 3*time.Minute, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := range services {
		b := fmt.Sprintf("svc%d", i)
		_, imgs, err := st.Running(b)
		if err != nil {
			t.Fatal(err)
		}
		if want := newest[fmt.Sprintf("r%d", i)]; !strings.HasSuffix(imgs["app"], want) {
			t.Errorf("%s runs %s, want its newest digest %s", b, imgs["app"], want)
		}
		hashes := map[string]int{}
		for _, td := range sb.ECS().TaskDefinitions(b) {
			if h := td.Tags[revision.TagContentHash]; h != "" {
				hashes[h]++
				if hashes[h] > 1 {
					t.Errorf("family %s has two revisions with content hash %s", b, h)
				}
			}
		}
	}
	// No service ever moved to an older image: the pushed-at of every
	// revision UpdateService pointed at only grows.
	pushedAt := map[string]string{}
	for i := range services {
		for _, td := range sb.ECS().TaskDefinitions(fmt.Sprintf("svc%d", i)) {
			pushedAt[td.ARN] = td.Tags[revision.TagPushedAt+"app"]
		}
	}
	last := map[string]string{}
	for _, u := range sb.ECS().UpdateHistory() {
		at := pushedAt[u.TaskDefinition]
		if at < last[u.Service] {
			t.Errorf("%s moved back from an image pushed %s to one pushed %s", u.Service, last[u.Service], at)
		}
		last[u.Service] = at
	}
	if len(last) != services {
		t.Errorf("update history covers %d services, want %d", len(last), services)
	}
	var started int
	for _, d := range st.Deployments() {
		if d.Status == events.StatusFailed {
			t.Errorf("a FAILED deployment in a clean burst: %+v", d)
		}
		if d.Status == events.StatusStarted {
			started++
		}
	}
	t.Logf("%d deliveries, %d deployments started", len(raws), started)
}
