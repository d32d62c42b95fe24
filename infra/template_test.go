package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cfnLintIgnored are cfn-lint checks that fire on what aws-cdk-lib itself
// generates, each with the reason it is accepted.
var cfnLintIgnored = []string{
	// W3005: CDK adds DependsOn on a function's role policy although
	// Properties/Role already references the role. The explicit
	// dependency is how CDK makes sure the policy exists before the
	// function; it is redundant, not wrong.
	"W3005",
}

// TestCfnLint runs cfn-lint over every synthesized template. Any error or
// warning other than the ones listed above fails the test.
func TestCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not on PATH; install it with `pip install cfn-lint` to lint the synthesized templates")
	}
	for _, name := range []string{"example", "groups", "targets"} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, name)
			templates := map[string]map[string]any{"hub": s.json}
			for id := range s.stacks.Targets {
				_, templates[id] = s.targetTemplate(t, id)
			}
			cfnLint(t, lint, templates)
		})
	}
}

// cfnLint runs cfn-lint over templates (by name) and fails on any finding
// but the ignored ones.
func cfnLint(t *testing.T, lint string, templates map[string]map[string]any) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"--format", "parseable"}
	for _, c := range cfnLintIgnored {
		args = append(args, "--ignore-checks", c)
	}
	args = append(args, "--")
	for name, tpl := range templates {
		data, err := json.MarshalIndent(tpl, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".template.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	out, err := exec.Command(lint, args...).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	} else if err != nil {
		t.Fatalf("run cfn-lint: %v", err)
	}
}

// volatile values of a synthesized template: asset hashes change with the
// function binaries, aws-cdk-lib's bundled assets and the uploaded files.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<asset-hash>"},
}

// normalize parses a template and replaces its volatile values, so golden
// files compare what the stack means, not how its assets hash.
func normalize(t *testing.T, tpl map[string]any) any {
	t.Helper()
	data, err := json.Marshal(tpl)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range volatile {
		data = v.re.ReplaceAll(data, []byte(v.with))
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGoldenTemplate compares the example stack with
// testdata/deckhand.template.golden.json. Refresh it with
// `go test ./infra -update` and review the diff like code.
func TestGoldenTemplate(t *testing.T) {
	got := normalize(t, synth(t, "example").json)
	golden := filepath.Join("testdata", "deckhand.template.golden.json")
	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(got); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with `go test ./infra -update`)", err)
	}
	var want any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("parse %s: %v", golden, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("synthesized template differs from %s; if intended, refresh with `go test ./infra -update` (-want +got):\n%s", golden, diff)
	}
}
