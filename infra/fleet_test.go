package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest/manifesttest"
)

// AWS quotas the fleet must stay within, each from docs/quotas.md (which
// gives the source). Where AWS gives a default and a lower figure for some
// Regions, the default is asserted and the Region noted in the doc.
const (
	quotaTemplateBytes      = 1_000_000 // CloudFormation: template body in an S3 object (1 MB)
	quotaResources          = 500       // CloudFormation: resources per template
	quotaOutputs            = 200       // CloudFormation: outputs per template
	quotaParameters         = 200       // CloudFormation: parameters per template
	quotaRulesPerBus        = 300       // EventBridge: rules per event bus (100 in af-south-1, eu-south-1)
	quotaTargetsPerRule     = 5         // EventBridge: targets per rule
	quotaPatternChars       = 2048      // EventBridge: event pattern size
	quotaBusPolicyChars     = 10_240    // EventBridge: event bus policy size
	quotaRolePolicyChars    = 10_240    // IAM: inline policies of a role, together (whitespace not counted)
	quotaTrustPolicyChars   = 2_048     // IAM: role trust policy (default; adjustable to 4,096)
	quotaManagedPolicyChars = 6_144     // IAM: customer managed policy (CDK moves what overflows a role's inline policy there)
	quotaManagedPerRole     = 10        // IAM: managed policies per role (default; adjustable to 20)
	quotaQueuePolicyBytes   = 8_192     // SQS: queue policy size
	quotaQueuePolicyStmts   = 20        // SQS: statements per queue policy
	quotaSchedules          = 10_000_000
	quotaScheduleGroups     = 500
	quotaLambdaEnvBytes     = 4_096 // Lambda: environment variables, together
	quotaStackSetInstances  = 100_000
)

// fleetAssembly is the fleet manifest synthesized once, as `make synth`
// writes it, shared by the fleet tests.
var fleetAssembly struct {
	once sync.Once
	dir  string
	took time.Duration
	m    *manifest.Manifest
	err  error
}

// synthFleet generates DESIGN §12's fleet (5,000 services, 1,000
// repositories, 500 jobs, 50 targets) and synthesizes it into a cloud
// assembly directory.
func synthFleet(t *testing.T) (string, *manifest.Manifest) {
	t.Helper()
	f := &fleetAssembly
	f.once.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				f.err = fmt.Errorf("synthesize the fleet: %v", r)
			}
		}()
		root := filepath.Join(filepath.Dir(testDist), "fleet")
		path, err := manifesttest.Scale.Write(root)
		if err != nil {
			f.err = err
			return
		}
		cfg := Config{ManifestPath: path, DistDir: testDist, EventBus: "default", ReconcileSchedule: "rate(5 minutes)",
			LogRetentionDays: 30, HubAccount: "123456789012", HubRegion: "eu-west-1"}
		start := time.Now()
		if f.m, f.err = Load(cfg); f.err != nil {
			return
		}
		f.dir = filepath.Join(root, "cdk.out")
		app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false), Outdir: jsii.String(f.dir)})
		NewApp(app, cfg, f.m, &awscdk.StackProps{})
		app.Synth(nil)
		f.took = time.Since(start)
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	t.Logf("fleet synthesized in %s", f.took.Round(time.Millisecond))
	return f.dir, f.m
}

// templateFile is one synthesized template: a stack's or a nested stack's.
type templateFile struct {
	name  string
	bytes int
	tpl   map[string]any
}

func fleetTemplates(t *testing.T, dir string) []templateFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no templates in %s: %v", dir, err)
	}
	var out []templateFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var tpl map[string]any
		if err := json.Unmarshal(data, &tpl); err != nil {
			t.Fatal(err)
		}
		out = append(out, templateFile{name: filepath.Base(p), bytes: len(data), tpl: tpl})
	}
	return out
}

// compact sizes a policy or pattern the way AWS counts it: JSON without
// whitespace, with intrinsics flattened (${AWS::Partition} and the like
// stand in for what they resolve to, and are longer than it).
func compact(v any) int {
	data, err := json.Marshal(flatten(v))
	if err != nil {
		panic(err)
	}
	return len(data)
}

// flatten replaces intrinsic functions in v by the string flat renders.
func flatten(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range []string{"Ref", "Fn::GetAtt", "Fn::Join"} {
			if _, ok := v[k]; ok && len(v) == 1 {
				return flat(v)
			}
		}
		out := map[string]any{}
		for k, x := range v {
			out[k] = flatten(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = flatten(x)
		}
		return out
	}
	return v
}

// TestFleetWithinQuotas synthesizes the fleet and asserts every quota
// Deckhand relies on against its documented number (docs/quotas.md).
func TestFleetWithinQuotas(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes 5,000 services; skipped with -short")
	}
	dir, m := synthFleet(t)
	files := fleetTemplates(t, dir)
	rulesPerBus := map[string]int{}
	schedules, groups := 0, 0
	largest := map[string]int{}
	stacks := 0
	for _, f := range files {
		if !strings.Contains(f.name, ".nested.") {
			stacks++
		}
		res, _ := f.tpl["Resources"].(map[string]any)
		outputs, _ := f.tpl["Outputs"].(map[string]any)
		params, _ := f.tpl["Parameters"].(map[string]any)
		largest["parameters"] = max(largest["parameters"], len(params))
		largest["outputs"] = max(largest["outputs"], len(outputs))
		for what, got := range map[string][2]int{
			"template bytes": {f.bytes, quotaTemplateBytes},
			"resources":      {len(res), quotaResources},
			"outputs":        {len(outputs), quotaOutputs},
			"parameters":     {len(params), quotaParameters},
		} {
			if got[0] > got[1] {
				t.Errorf("%s: %d %s, over the quota of %d", f.name, got[0], what, got[1])
			}
		}
		policies := map[string]int{} // role → inline policy characters
		managed := map[string]int{}  // role → managed policies
		for id, r := range res {
			r := r.(map[string]any)
			p := props(r)
			switch r["Type"] {
			case "AWS::Events::Rule":
				bus := "default"
				if b, ok := p["EventBusName"]; ok {
					bus = flat(b)
				}
				rulesPerBus[stackOf(f.name)+" "+bus]++
				if n := len(p["Targets"].([]any)); n > quotaTargetsPerRule {
					t.Errorf("%s: rule %s has %d targets, over %d", f.name, id, n, quotaTargetsPerRule)
				}
				if n := compact(p["EventPattern"]); n > quotaPatternChars {
					t.Errorf("%s: rule %s pattern is %d characters, over %d", f.name, id, n, quotaPatternChars)
				}
			case "AWS::Events::EventBusPolicy":
				if n := compact(p["Statement"]); n > quotaBusPolicyChars {
					t.Errorf("%s: bus policy is %d characters, over %d", f.name, n, quotaBusPolicyChars)
				}
			case "AWS::IAM::Policy":
				for _, role := range flatList(p["Roles"]) {
					policies[role] += compact(p["PolicyDocument"])
				}
			case "AWS::IAM::ManagedPolicy":
				if n := compact(p["PolicyDocument"]); n > quotaManagedPolicyChars {
					t.Errorf("%s: managed policy %s is %d characters, over %d", f.name, id, n, quotaManagedPolicyChars)
				}
				for _, role := range flatList(p["Roles"]) {
					managed[role]++
				}
			case "AWS::IAM::Role":
				if n := compact(p["AssumeRolePolicyDocument"]); n > quotaTrustPolicyChars {
					t.Errorf("%s: role %s trust policy is %d characters, over %d", f.name, id, n, quotaTrustPolicyChars)
				}
			case "AWS::SQS::QueuePolicy":
				doc := p["PolicyDocument"].(map[string]any)
				if n := compact(doc); n > quotaQueuePolicyBytes {
					t.Errorf("%s: queue policy %s is %d bytes, over %d", f.name, id, n, quotaQueuePolicyBytes)
				}
				if n := len(doc["Statement"].([]any)); n > quotaQueuePolicyStmts {
					t.Errorf("%s: queue policy %s has %d statements, over %d", f.name, id, n, quotaQueuePolicyStmts)
				}
			case "AWS::Scheduler::Schedule":
				schedules++
			case "AWS::Scheduler::ScheduleGroup":
				groups++
			case "AWS::Lambda::Function":
				if env, ok := p["Environment"].(map[string]any); ok {
					if n := compact(env["Variables"]); n > quotaLambdaEnvBytes {
						t.Errorf("%s: function %s environment is %d bytes, over %d", f.name, id, n, quotaLambdaEnvBytes)
					}
				}
			}
		}
		for role, n := range managed {
			if n > quotaManagedPerRole {
				t.Errorf("%s: role %s has %d managed policies, over %d", f.name, role, n, quotaManagedPerRole)
			}
		}
		for role, n := range policies {
			largest["role policy"] = max(largest["role policy"], n)
			if n > quotaRolePolicyChars {
				t.Errorf("%s: role %s has %d characters of inline policy, over %d", f.name, role, n, quotaRolePolicyChars)
			}
		}
	}
	for bus, n := range rulesPerBus {
		if n > quotaRulesPerBus {
			t.Errorf("%s: %d rules, over %d", bus, n, quotaRulesPerBus)
		}
	}
	if want := len(m.Jobs) + 1; schedules != want || schedules > quotaSchedules {
		t.Errorf("%d schedules, want %d (one per job and the reconciler's), within %d", schedules, want, quotaSchedules)
	}
	if groups > quotaScheduleGroups {
		t.Errorf("%d schedule groups, over %d", groups, quotaScheduleGroups)
	}
	t.Logf("largest: %v", largest)
	if want := 1 + len(places(m)); stacks != want {
		t.Errorf("%d stacks, want the hub and %d target stacks", stacks, want-1)
	}
	t.Logf("%d templates (%d stacks); rules per bus: %v; %d schedules", len(files), stacks, rulesPerBus, schedules)
	for _, f := range files {
		if !strings.HasPrefix(f.name, "DeckhandTarget") || strings.HasPrefix(f.name, "DeckhandTarget-210000000000-") {
			t.Logf("  %s: %d bytes, %d resources", f.name, f.bytes, len(f.tpl["Resources"].(map[string]any)))
		}
	}
}

var stackName = regexp.MustCompile(`^([^.]+)`)

func stackOf(file string) string { return stackName.FindString(file) }

// TestFleetSynthesizesCleanly: cdk-nag reports no error on any stack of the
// fleet (`cdk synth` would fail on one), and every push rule's repository
// reaches its message group.
func TestFleetSynthesizesCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes 5,000 services; skipped with -short")
	}
	dir, m := synthFleet(t)
	// The assembly's manifest.json and the stacks' <stack>.metadata.json
	// carry the annotations `cdk synth` fails on.
	metadata, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	errorRe := regexp.MustCompile(`AwsSolutions-[A-Z0-9]+\[[^\]]*\]`)
	for _, p := range metadata {
		if strings.HasSuffix(p, ".template.json") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(data), `"aws:cdk:error"`); n > 0 {
			t.Errorf("%s: %d errors (cdk-nag or CDK), such as %v", filepath.Base(p), n, errorRe.FindString(string(data)))
		}
	}
	pushed := map[string]string{}
	for _, f := range fleetTemplates(t, dir) {
		for _, r := range f.tpl["Resources"].(map[string]any) {
			p := props(r.(map[string]any))
			if r.(map[string]any)["Type"] != "AWS::Events::Rule" || !strings.Contains(fmt.Sprint(p["EventPattern"]), "aws.ecr") {
				continue
			}
			group := p["Targets"].([]any)[0].(map[string]any)["SqsParameters"].(map[string]any)["MessageGroupId"].(string)
			for _, repo := range flatList(p["EventPattern"].(map[string]any)["detail"].(map[string]any)["repository-name"]) {
				pushed[repo] = group
			}
		}
	}
	for _, repo := range m.Repositories() {
		want, _ := m.GroupOf(repo)
		if pushed[repo] != want {
			t.Errorf("repository %s: push rule sends to message group %q, GroupOf says %q", repo, pushed[repo], want)
		}
	}
}

// BenchmarkSynth is `make synth`'s work (load, build, cdk-nag, write the
// cloud assembly) for the example manifest and for DESIGN §12's fleet;
// compare the two in one run (make bench, BENCHMARKS.md).
func BenchmarkSynth(b *testing.B) {
	fleetDir := b.TempDir()
	fleetPath, err := manifesttest.Scale.Write(fleetDir)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"manifest=example", variants["example"].cfg},
		{"manifest=fleet", Config{ManifestPath: fleetPath, EventBus: "default", ReconcileSchedule: "rate(5 minutes)",
			LogRetentionDays: 30, HubAccount: "123456789012", HubRegion: "eu-west-1"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg
			cfg.DistDir = testDist
			for b.Loop() {
				m, err := Load(cfg)
				if err != nil {
					b.Fatal(err)
				}
				app := awscdk.NewApp(&awscdk.AppProps{AnalyticsReporting: jsii.Bool(false), Outdir: jsii.String(b.TempDir())})
				NewApp(app, cfg, m, &awscdk.StackProps{})
				app.Synth(nil)
			}
		})
	}
}
