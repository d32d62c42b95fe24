package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// snapshotMount is where the snapshot layer puts the bucket's objects in
// the deployer's file system (DECKHAND_SNAPSHOT): Lambda extracts layers
// under /opt.
const snapshotMount = "/opt/deckhand"

// addSnapshot gives the deployer a Lambda layer with the manifest and
// templates exactly as the Upload deployment puts them in the bucket, and
// DECKHAND_SNAPSHOT naming them. On a cold start the deployer reads the
// service, template and family-latest revision of the bindings a push
// reaches under the snapshot's manifest while it fetches the bucket's, and
// keeps those reads only when the bucket's manifest has the snapshot's
// bytes (shared/aws/store/snapshot.go): the bucket stays the truth, and a
// manifest changed outside `cdk deploy` only costs the reads again.
// Both change together at every deploy.
func (s *stack) addSnapshot() {
	dir := s.writeSnapshot()
	layer := awslambda.NewLayerVersion(s.Stack, jsii.String("Snapshot"), &awslambda.LayerVersionProps{
		Code:                    awslambda.Code_FromAsset(jsii.String(dir), nil),
		CompatibleArchitectures: &[]awslambda.Architecture{awslambda.Architecture_ARM_64()},
		CompatibleRuntimes:      &[]awslambda.Runtime{awslambda.Runtime_PROVIDED_AL2023()},
		Description:             jsii.String("Deckhand: the bucket's manifest and templates as deployed, for the deployer's cold starts"),
	})
	fn := s.fns["deployer"]
	fn.AddLayers(layer)
	fn.AddEnvironment(jsii.String("DECKHAND_SNAPSHOT"), jsii.String(snapshotMount), nil)
}

// writeSnapshot writes the bucket's objects under
// <DistDir>/snapshot/<content hash>/deckhand/<key> and returns the layer's
// directory. The hash names the content, so synthesizing the same manifest
// twice writes the same files, and two manifests never share a directory.
func (s *stack) writeSnapshot() string {
	objs := append(s.objects(), s.partObjects()...)
	h := sha256.New()
	for _, o := range objs {
		fmt.Fprintf(h, "%d:%s\n%d:", len(o.key), o.key, len(o.data))
		h.Write(o.data)
	}
	dir := filepath.Join(s.cfg.DistDir, "snapshot", hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(dir); err == nil {
		return dir
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		panic(fmt.Errorf("write the deployer's snapshot: %w", err))
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "tmp-")
	if err != nil {
		panic(fmt.Errorf("write the deployer's snapshot: %w", err))
	}
	for _, o := range objs {
		path := filepath.Join(tmp, filepath.Base(snapshotMount), filepath.FromSlash(o.key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			panic(fmt.Errorf("write the deployer's snapshot: %w", err))
		}
		if err := os.WriteFile(path, o.data, 0o644); err != nil {
			panic(fmt.Errorf("write the deployer's snapshot: %w", err))
		}
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, statErr := os.Stat(dir); statErr != nil {
			panic(fmt.Errorf("write the deployer's snapshot: %w", err))
		}
		os.RemoveAll(tmp) // written at the same time by another synth
	}
	return dir
}
