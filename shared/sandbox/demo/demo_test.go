package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemoMeetsEveryExpectation(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), &out, Options{Dir: "../../../examples"}); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"ROLLED_BACK", "ALREADY_DEPLOYED", "SUPERSEDED", "HELD", "reconcile", "all "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("timeline lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBrokenExpectationFails proves the demo checks its outcomes.
func TestBrokenExpectationFails(t *testing.T) {
	var out bytes.Buffer
	err := Run(context.Background(), &out, Options{Dir: "../../../examples", Break: true})
	if err == nil || !strings.Contains(err.Error(), "1 of") {
		t.Fatalf("demo with a broken expectation: err = %v, want one missed expectation\n%s", err, out.String())
	}
}
