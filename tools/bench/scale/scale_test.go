package scale

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

func TestManifestBindsFiveToThePushedRepository(t *testing.T) {
	m, err := manifest.Parse("deckhand.yaml", Manifest(50))
	if err != nil {
		t.Fatal(err)
	}
	if n, got := len(m.Services), len(m.BindingsFor(repo)); n != 50 || got != Pushed {
		t.Errorf("%d bindings, %d on the pushed repository; want 50 and %d", n, got, Pushed)
	}
}

// TestAColdDeployerDeploysThePush starts the real deployer binary (built
// first, under no deadline) against a 20-binding manifest.
func TestAColdDeployerDeploysThePush(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, "github.com/deckhand-ecs/deckhand/functions/deployer")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sb := sandboxtest.Start(t)
	f, err := Setup(t.Context(), sb, 20)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Measure(t.Context(), f, bin)
	if err != nil {
		t.Fatal(err)
	}
	if l.Invocation <= 0 || l.HWMKiB <= 0 {
		t.Errorf("launch %+v: want an invocation time and a peak RSS", l)
	}
}
