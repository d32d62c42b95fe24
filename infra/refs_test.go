package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReferenceGrants: a secret a service template names with {{ secret }}
// may be described by the deployer, by its name and Secrets Manager's
// six-character suffix, and by no other function.
func TestReferenceGrants(t *testing.T) {
	s := synth(t, "groups")
	want := []statement{{Actions: []string{"secretsmanager:DescribeSecret"},
		Resources: []string{"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:shop/db-??????"}}}
	if diff := cmp.Diff(want, withAction(s.fnStatements(t, "deployer"), "secretsmanager:DescribeSecret")); diff != "" {
		t.Errorf("deployer (-want +got):\n%s", diff)
	}
	for _, fn := range []string{"runner", "tracker", "reconciler"} {
		if got := withAction(s.fnStatements(t, fn), "secretsmanager:DescribeSecret"); len(got) > 0 {
			t.Errorf("%s may describe secrets: %v", fn, got)
		}
	}
}
