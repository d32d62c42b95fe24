package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDeployerSnapshot: the deployer, and only the deployer, has the
// snapshot layer, and the layer holds exactly the objects the bucket gets,
// byte for byte, at their keys under DECKHAND_SNAPSHOT.
func TestDeployerSnapshot(t *testing.T) {
	for _, name := range []string{"example", "groups"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			layer := "${" + s.logicalID(t, "AWS::Lambda::LayerVersion", "Snapshot") + "}"
			fns := s.resources("AWS::Lambda::Function")
			for _, fn := range Functions {
				p := props(fns[s.logicalID(t, "AWS::Lambda::Function", constructID(fn))])
				var want []string
				if fn == "deployer" {
					want = []string{layer}
				}
				if diff := cmp.Diff(want, flatList(p["Layers"])); diff != "" {
					t.Errorf("%s's layers (-want +got):\n%s", fn, diff)
				}
			}
			lp := props(s.resources("AWS::Lambda::LayerVersion")[layer[2:len(layer)-1]])
			if diff := cmp.Diff([]string{"arm64"}, flatList(lp["CompatibleArchitectures"])); diff != "" {
				t.Errorf("layer architectures (-want +got):\n%s", diff)
			}

			st := &stack{cfg: s.cfg, m: mustLoad(t, s.cfg)}
			root := filepath.Join(st.writeSnapshot(), filepath.Base(snapshotMount))
			want := map[string]string{}
			for _, o := range append(st.objects(), st.partObjects()...) {
				want[o.key] = string(o.data)
			}
			got := map[string]string{}
			err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(path)
				rel, _ := filepath.Rel(root, path)
				got[filepath.ToSlash(rel)] = string(b)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("the layer's files against the bucket's objects (-want +got):\n%s", diff)
			}
		})
	}
}
