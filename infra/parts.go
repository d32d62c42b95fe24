package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// PartsPrefix is where the manifest's parts go in the bucket, one per
// FIFO message group (manifest.Parts): the deployer reads its group's
// (DECKHAND_MANIFEST_PARTS) instead of the whole manifest, so a cold
// deployer parses a few dozen bindings, not a fleet's thousands
// (BENCHMARKS.md §7). Everything else reads the whole manifest.
const PartsPrefix = "deckhand.parts/"

// partUploads are the manifest's parts, by key. A group whose part does
// not validate on its own has none (the deployer reads the whole for it).
func (s *stack) partUploads() []awss3deployment.ISource {
	var out []awss3deployment.ISource
	for _, o := range s.partObjects() {
		out = append(out, awss3deployment.Source_Data(jsii.String(o.key), jsii.String(string(o.data)), nil))
	}
	return out
}

// partObjects are the manifest's parts as the bucket gets them, by key
// (partUploads), for the deployer's snapshot: a cold deployer reading its
// group's part knows it beforehand, as it knows the whole manifest.
func (s *stack) partObjects() []object {
	parts, err := s.m.Parts()
	if err != nil {
		panic(fmt.Errorf("manifest parts: %w", err))
	}
	var out []object
	for _, group := range slices.Sorted(maps.Keys(parts)) {
		out = append(out, object{key: manifest.PartKey(PartsPrefix, group), data: parts[group]})
	}
	return out
}

// addPartsEnvironment tells the deployer where the parts are.
func (s *stack) addPartsEnvironment() {
	s.fns["deployer"].AddEnvironment(jsii.String("DECKHAND_MANIFEST_PARTS"), jsii.String(PartsPrefix), nil)
}
