package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestBindingsSharingATemplateFetchItOncePerInvocation is issue 17's
// acceptance: 20 services bound to one repository share one template. One
// push deploys all 20 from a cold and then a warm deployer, and each
// invocation reads the template with one GET (a 304 when warm), as it reads
// the manifest: two GetObject calls per invocation in all.
func TestBindingsSharingATemplateFetchItOncePerInvocation(t *testing.T) {
	const n = 20
	dir := t.TempDir()
	var m strings.Builder
	m.WriteString("version: 1\nservices:\n")
	for i := range n {
		fmt.Fprintf(&m, "  - {name: svc%02d, cluster: shared, service: svc%02d, template: service.json, images: {app: {repository: app, tags: \"semver:*\"}}, vars: {N: \"%d\"}}\n", i, i, i)
	}
	tmpl := `{"family": "{{ .Service }}", "containerDefinitions": [{"name": "app", "image": "{{ .Image }}", "essential": true,
  "environment": [{"name": "N", "value": "{{ .Vars.N }}"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, "service.json"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.Start(t)
	st, err := New(context.Background(), sb, Options{Dir: dir, Manifest: []byte(m.String()), InitialTags: map[string]string{"app": "1.0.0"}, DesiredCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, invocation := range []struct {
		name, tag string
		gets      []int // statuses of the GetObject calls
	}{
		{"cold", "1.1.0", []int{200, 200}},
		{"warm", "1.2.0", []int{304, 304}},
	} {
		sb.ResetCalls()
		before := len(st.Deployments())
		digest := sb.PushImage("app", invocation.tag)
		stats, err := st.Pump(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if stats.DeployerInvocations != 1 {
			t.Errorf("%s: %d deployer invocations, want 1", invocation.name, stats.DeployerInvocations)
		}
		var gets []int
		for _, c := range sb.Calls() {
			if c.Service == "s3" && c.Op == "GetObject" {
				gets = append(gets, c.Status)
			}
		}
		if diff := cmp.Diff(invocation.gets, gets); diff != "" {
			t.Errorf("%s: S3 GetObject statuses, one for the manifest and one for the shared template (-want +got):\n%s", invocation.name, diff)
		}
		started := map[string]bool{}
		for _, d := range st.Deployments()[before:] {
			if d.Status == events.StatusStarted {
				started[d.Binding] = true
			} else if d.Status != events.StatusSucceeded {
				t.Errorf("%s: %s %s: %s", invocation.name, d.Binding, d.Status, d.Reason)
			}
		}
		if len(started) != n {
			t.Errorf("%s: %d of %d bindings STARTED", invocation.name, len(started), n)
		}
		if err := st.Settle(context.Background(), 2*time.Minute, 15*time.Second); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			b := fmt.Sprintf("svc%02d", i)
			if img := st.image(t, b, "app"); !strings.HasSuffix(img, "@"+digest) {
				t.Errorf("%s: %s runs %s, want %s", invocation.name, b, img, digest)
			}
		}
	}
}
