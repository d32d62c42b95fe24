package manifest

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse proves the strict parser never panics, that every rejection is
// an ErrInvalid naming the file and a line, and that what it accepts is
// usable: every binding follows repositories whose group holds it.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../../../examples/deckhand.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("version: 1\nservices:\n  - {name: a, cluster: c, service: a, template: t, images: {x: {repository: r, tags: \"semver:>=1.0.0\"}}}\n"))
	f.Add([]byte("version: 1\nservices: [{name: a}]\nbogus: 1\n"))
	f.Add([]byte("version: 1\nservices:\n  - {name: a, cluster: c, service: a, template: t, images: {x: {repository: r, tags: \"*\"}}, allow: {privileged: true, hostPaths: [/var/run], capabilities: [NET_ADMIN], registries: [docker.io]}}\n"))
	f.Add([]byte("version: 1\njobs:\n  - {name: j, schedule: rate(1 hour), cluster: c, template: t, network: {subnets: [s]}, launch: {capacityProviders: [{provider: FARGATE, base: 1}]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			var me *Error
			if !errors.As(err, &me) || len(me.Problems) == 0 {
				t.Fatalf("error lists no problems: %v", err)
			}
			for _, p := range me.Problems {
				if p.File != "fuzz.yaml" || p.Line < 0 || p.Msg == "" {
					t.Fatalf("problem without file, line or message: %+v", p)
				}
			}
			return
		}
		groups := map[string]map[string]bool{}
		for _, g := range m.Groups() {
			groups[g.ID] = map[string]bool{}
			for _, b := range g.Bindings {
				groups[g.ID][b] = true
			}
		}
		for _, s := range m.Services {
			for c, img := range s.Images {
				if img.Repository == "" {
					continue
				}
				id, ok := m.GroupOf(img.Repository)
				if !ok || !groups[id][s.Name] {
					t.Fatalf("binding %s container %s follows %s, whose group %q (found %v) does not hold it", s.Name, c, img.Repository, id, ok)
				}
			}
		}
	})
}
