package coldstart

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// build compiles a function the way make build does, for the host. It runs
// before any measurement and under no deadline: how long a build takes on a
// busy machine must never decide a test.
func build(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func TestHelloAnswersUnderTheRuntimeAPI(t *testing.T) {
	bin := build(t, "github.com/deckhand-ecs/deckhand/tools/bench/hello")
	ctx := t.Context()
	sb := sandboxtest.Start(t)
	f, err := Setup(ctx, sb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Measure(ctx, f, bin, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.Results[0].Body); got != `"hello"` {
		t.Errorf("hello answered %s", got)
	}
	if s.Init <= 0 || s.FirstResponse < s.Init || s.HWMKiB <= 0 {
		t.Errorf("launch = %+v: want init > 0, first response after init, a peak RSS", s.Launch)
	}
}

// TestDeployerMakesNoCallsAtInit starts the real deployer binary and
// checks that it reaches the Runtime API before any AWS call, then deploys
// a batch. Nothing here has a deadline: the build and the launch take what
// the machine needs, and go test's own -timeout catches a hang.
func TestDeployerMakesNoCallsAtInit(t *testing.T) {
	bin := build(t, "github.com/deckhand-ecs/deckhand/functions/deployer")
	ctx := t.Context()
	sb := sandboxtest.Start(t)
	f, err := Setup(ctx, sb, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Measure(ctx, f, bin, f.Batch(3))
	if err != nil {
		t.Fatal(err)
	}
	if s.CallsAtInit != 0 {
		t.Errorf("the deployer made %d AWS calls before its first invocation, want 0: %+v", s.CallsAtInit, sb.Calls()[:s.CallsAtInit])
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(s.Results[0].Body, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch response %s (%v), want no failures", s.Results[0].Body, err)
	}
	if n := sb.CountCalls(sandbox.ServiceECS, "UpdateService"); n != 3 {
		t.Errorf("UpdateService calls = %d, want 3", n)
	}
}
