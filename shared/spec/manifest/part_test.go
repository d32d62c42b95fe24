package manifest_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest/manifesttest"
)

// TestEachPartDecidesItsGroupsPushesAsTheWholeDoes: a message group's part
// holds every binding a push of the group reaches, with the same fields,
// in the same order, and the targets they run in; so the deployer decides
// a push from the part exactly as from the whole manifest. The fleet's
// parts are a small share of it.
func TestEachPartDecidesItsGroupsPushesAsTheWholeDoes(t *testing.T) {
	path, err := manifesttest.Scale.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	whole, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	examples, err := manifest.Load(filepath.Join("..", "..", "..", "examples", "deckhand.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*manifest.Manifest{"the fleet": whole, "the example": examples} {
		t.Run(name, func(t *testing.T) {
			parts, err := m.Parts()
			if err != nil {
				t.Fatal(err)
			}
			groups := m.MessageGroups()
			if len(parts) != len(groups) {
				t.Fatalf("%d parts for %d message groups", len(parts), len(groups))
			}
			largest := 0
			for _, g := range groups {
				p, err := manifest.Parse(manifest.PartKey("parts/", g.ID), parts[g.ID])
				if err != nil {
					t.Fatalf("part %s: %v", g.ID, err)
				}
				largest = max(largest, len(parts[g.ID]))
				for _, repo := range g.Repositories {
					want, got := m.BindingsFor(repo), p.BindingsFor(repo)
					if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(manifest.Image{})); diff != "" {
						t.Errorf("group %s, repository %s: bindings (-whole +part):\n%s", g.ID, repo, diff)
					}
					for _, b := range got {
						if b.Target != "" && p.Targets[b.Target] != m.Targets[b.Target] {
							t.Errorf("binding %s's target %s is %+v in the part, %+v in the whole", b.Name, b.Target, p.Targets[b.Target], m.Targets[b.Target])
						}
					}
				}
				var names []string
				for _, s := range p.Services {
					names = append(names, s.Name)
				}
				if !slices.Equal(names, g.Bindings) && !slices.Equal(slices.Sorted(slices.Values(names)), g.Bindings) {
					t.Errorf("part %s binds %v, want its group's %v", g.ID, names, g.Bindings)
				}
				if !slices.Equal(p.Roles, m.Roles) {
					t.Errorf("part %s has %d roles, want the manifest's %d", g.ID, len(p.Roles), len(m.Roles))
				}
			}
			if name == "the fleet" {
				size := bundleSize(t, path)
				t.Logf("%d parts; the largest %d bytes of the %d-byte manifest", len(parts), largest, size)
				if largest*20 > size {
					t.Errorf("the largest part is %d bytes, not a small share of the %d-byte manifest", largest, size)
				}
			}
		})
	}
}

func bundleSize(t *testing.T, path string) int {
	t.Helper()
	b, err := manifest.Bundle(path)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}
