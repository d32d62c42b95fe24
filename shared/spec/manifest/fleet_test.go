package manifest_test

import (
	"testing"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest/manifesttest"
)

// TestFleetManifest loads the generated fleet (DESIGN §12's scale) through
// its includes and checks it has what it claims.
func TestFleetManifest(t *testing.T) {
	path, err := manifesttest.Scale.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatalf("Load fleet: %v", err)
	}
	got := manifesttest.Fleet{Services: len(m.Services), Repositories: len(m.Repositories()), Jobs: len(m.Jobs), Targets: len(m.Targets)}
	if got != manifesttest.Scale {
		t.Errorf("fleet = %+v, want %+v", got, manifesttest.Scale)
	}
	if n := len(m.MessageGroups()); n != manifest.MaxMessageGroups {
		t.Errorf("%d message groups, want %d (1,000 groups packed)", n, manifest.MaxMessageGroups)
	}
	if b := m.BindingsFor("team-07/app-013"); len(b) != 5 {
		t.Errorf("BindingsFor(team-07/app-013) = %d bindings, want 5", len(b))
	}
}
