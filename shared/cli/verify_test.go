package cli

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTrustsECSTasks(t *testing.T) {
	tests := map[string]struct {
		doc     string
		want    bool
		wantWhy string
	}{
		"the usual task-role trust": {
			doc:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			want: true,
		},
		"a single statement object and lists of services and actions": {
			doc:  `{"Statement":{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","ecs-tasks.amazonaws.com"]},"Action":["sts:TagSession","sts:AssumeRole"]}}`,
			want: true,
		},
		"another service only": {
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			wantWhy: "it trusts lambda.amazonaws.com",
		},
		"ECS named in a Deny": {
			doc:     `{"Statement":[{"Effect":"Deny","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
			wantWhy: "it trusts no service",
		},
		"ECS allowed another action": {
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:TagSession"}]}`,
			wantWhy: "it trusts ecs-tasks.amazonaws.com",
		},
		"an account principal": {
			doc:     `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`,
			wantWhy: "it trusts no service",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// IAM answers the document URL-encoded; a decoded one works too.
			for _, doc := range []string{url.QueryEscape(tc.doc), tc.doc} {
				ok, why := trustsECSTasks(doc)
				if diff := cmp.Diff([]any{tc.want, tc.wantWhy}, []any{ok, why}); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}
