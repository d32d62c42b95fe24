package main

import (
	"context"
	"sort"

	"github.com/deckhand-ecs/deckhand/shared/cli"
)

// resolveImages parses --image flags and looks them up in ECR.
func resolveImages(ctx context.Context, env *cli.Env, flags []string) ([]cli.Resolved, error) {
	var out []cli.Resolved
	for _, s := range flags {
		ref, err := cli.ParseImageRef(s)
		if err != nil {
			return nil, err
		}
		r, err := env.ResolveImage(ctx, ref)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
