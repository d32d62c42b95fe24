package manifest_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest/manifesttest"
)

// fleets are the sizes the benchmarks compare: a small platform (the 10
// bindings of BENCHMARKS.md's deploy figures) and DESIGN §12's fleet.
var fleets = []struct {
	name string
	size manifesttest.Fleet
}{
	{"services=10", manifesttest.Fleet{Services: 10, Repositories: 2, Jobs: 1, Targets: 1}},
	{"services=5000", manifesttest.Scale},
}

// bundle writes a fleet and returns its bundle, as the functions read it.
func bundle(b *testing.B, f manifesttest.Fleet) []byte {
	b.Helper()
	path, err := f.Write(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	data, err := manifest.Bundle(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkBindingsFor is the deployer's look-up for one push: a map read,
// the same at 10 and at 5,000 services (compare the two ns/op).
func BenchmarkBindingsFor(b *testing.B) {
	for _, f := range fleets {
		b.Run(f.name, func(b *testing.B) {
			m, err := manifest.Parse(filepath.Join("s3", "deckhand.yaml"), bundle(b, f.size))
			if err != nil {
				b.Fatal(err)
			}
			repo := fmt.Sprintf("team-00/app-%03d", 1%f.size.Repositories)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if len(m.BindingsFor(repo)) == 0 {
					b.Fatal("no bindings")
				}
				if _, ok := m.GroupOf(repo); !ok {
					b.Fatal("no group")
				}
			}
		})
	}
}

// BenchmarkParse is what a function pays when the manifest changed: parse,
// validate and index the bundle (a cold start, or a new ETag).
func BenchmarkParse(b *testing.B) {
	for _, f := range fleets {
		b.Run(f.name, func(b *testing.B) {
			data := bundle(b, f.size)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := manifest.Parse("s3://b/deckhand.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
