package main

import "encoding/json"

// maxPatternChars is EventBridge's quota on an event pattern's size
// (docs/quotas.md). Rules whose pattern lists many names are split so each
// stays within it.
const maxPatternChars = 2048

// Worst-case lengths of ARN parts that resolve only at deploy time, for
// sizing patterns: aws-us-gov, ap-southeast-N and a 12-digit account.
const (
	sizingPartition = "aws-us-gov"
	sizingRegion    = "ap-southeast-2"
	sizingAccount   = "123456789012"
)

// patternSize is the size of a pattern as EventBridge counts it: its
// compact JSON.
func patternSize(pattern map[string]any) int {
	data, err := json.Marshal(pattern)
	if err != nil {
		panic(err) // maps of strings and slices always encode
	}
	return len(data)
}

// packPatterns splits items, in order, into the fewest consecutive chunks
// whose pattern (sized by sizing) fits maxPatternChars. An item too large
// for a pattern of its own is a chunk of its own; synth then fails at
// EventBridge's validation, and the fleet test reports it.
func packPatterns[T any](items []T, sizing func([]T) map[string]any) [][]T {
	var out [][]T
	var cur []T
	for _, it := range items {
		next := append(append([]T(nil), cur...), it)
		if len(cur) > 0 && patternSize(sizing(next)) > maxPatternChars {
			out = append(out, cur)
			next = []T{it}
		}
		cur = next
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
