package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// TestEveryMessageGroupsPartIsUploaded: beside the manifest and the
// templates, the upload holds one manifest part per FIFO message group at
// deckhand.parts/<group>.yaml, each binding exactly its group's services,
// for the deployer (DECKHAND_MANIFEST_PARTS).
func TestEveryMessageGroupsPartIsUploaded(t *testing.T) {
	for _, name := range []string{"example", "groups", "targets"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			m := mustLoad(t, s.cfg)
			var keys []int
			for _, r := range s.resources("Custom::CDKBucketDeployment") {
				keys = append(keys, len(props(r)["SourceObjectKeys"].([]any)))
			}
			uploads := len((&stack{cfg: s.cfg, m: m}).uploads())
			groups := m.MessageGroups()
			if want := []int{uploads + len(groups)}; !slices.Equal(keys, want) {
				t.Errorf("upload sources %v, want %v: %d files and %d parts", keys, want, uploads, len(groups))
			}
			got := map[string][]string{}
			err := filepath.WalkDir(filepath.Join(filepath.Dir(testDist), "cdk.out."+name), func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.Contains(filepath.ToSlash(path), "/"+PartsPrefix) {
					return err
				}
				if strings.Contains(filepath.ToSlash(path), "/"+filepath.Base(snapshotMount)+"/"+PartsPrefix) {
					return nil // the deployer's snapshot layer (snapshot_test.go), not the bucket's upload
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				part, err := manifest.Parse(path, data)
				if err != nil {
					return err
				}
				_, key, _ := strings.Cut(filepath.ToSlash(path), "/"+PartsPrefix)
				for _, svc := range part.Services {
					got[strings.TrimSuffix(key, ".yaml")] = append(got[strings.TrimSuffix(key, ".yaml")], svc.Name)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{}
			for _, g := range groups {
				for _, svc := range m.Services {
					if slices.Contains(g.Bindings, svc.Name) {
						want[g.ID] = append(want[g.ID], svc.Name)
					}
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("parts in the cloud assembly, by group (-want +got):\n%s", diff)
			}
		})
	}
}
