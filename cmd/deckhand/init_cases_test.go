package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// TestInitRoundTrips adopts three differently shaped running things into
// one manifest, then renders each entry offline with the running images:
// the result is the running revision, field for field as the SDK reads
// both, apart from the bound images, which are the running digests.
func TestInitRoundTrips(t *testing.T) {
	w := seedAdopt(t)
	reg := "123456789012.dkr.ecr.us-west-2.amazonaws.com/"
	cases := []struct {
		name    string
		init    []string
		ref     string            // the revision adopted
		bound   map[string]string // containers bound under images: → the running repo:tag
		printed []string          // what init must say it guessed, bound, kept, added
	}{
		{
			name: "a service with sidecars from ECR and public registries",
			init: []string{"init", "--cluster", "prod", "--service", "shop"}, ref: "shop:1",
			bound: map[string]string{"shop": "shop:1.4.2", "envoy": "envoy:v1.29.1"},
			printed: []string{`container shop: bound to repository shop, tags "semver:^1", guessed from the running tag 1.4.2`,
				`container envoy: bound to repository envoy, tags "semver:^1", guessed from the running tag v1.29.1`,
				"container datadog runs datadog/agent:7, not from this account's ECR",
				"container log-router runs public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
				"allow: container datadog runs datadog/agent:7"},
		},
		{
			name: "a service pinned by digest with secrets, a log configuration and roles",
			init: []string{"init", "--cluster", "arn:aws:ecs:us-west-2:123456789012:cluster/prod",
				"--service", "arn:aws:ecs:us-west-2:123456789012:service/prod/billing", "--binding", "payments"}, ref: "billing:1",
			bound: map[string]string{"app": "billing:release-42"},
			printed: []string{`container app: bound to repository billing, tags "regex:release-[0-9]+", guessed from the running tag release-42`,
				"roles: added arn:aws:iam::123456789012:role/billing-task", "roles: added arn:aws:iam::123456789012:role/ecs-execution"},
		},
		{
			name: "a crontab job's task definition",
			init: []string{"init", "--cluster", "prod", "--task-definition", "report", "--subnet", "subnet-0a1b", "--security-group", "sg-0a1b"}, ref: "report:1",
			bound: map[string]string{"report": "report:0.9.3"},
			printed: []string{`container report: bound to repository report, tags "semver:~0.9", guessed from the running tag 0.9.3`,
				"schedule: left empty for you to fill in"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := deckhand(t, w.args(tc.init...)...)
			if r.code != 0 {
				t.Fatalf("init exit %d: %s", r.code, r.stderr)
			}
			for _, p := range tc.printed {
				if !strings.Contains(r.stdout, p) {
					t.Errorf("init does not say %q", p)
				}
			}
			binding := "report"
			if i := indexOf(tc.init, "--binding"); i >= 0 {
				binding = tc.init[i+1]
			} else if i := indexOf(tc.init, "--service"); i >= 0 {
				binding = tc.init[i+1]
			}
			checkTemplate(t, filepath.Join(w.dir, "templates", binding+".json"), tc.bound)
			args := []string{"render", binding, "-o", "json"}
			var containers []string
			for c, ref := range tc.bound {
				repo, _, _ := strings.Cut(ref, ":")
				args = append(args, "--image", repo+"@"+w.digests[ref])
				containers = append(containers, c)
			}
			rr := deckhand(t, w.local(args...)...)
			if rr.code != 0 {
				t.Fatalf("render exit %d: %s", rr.code, rr.stderr)
			}
			want, _ := w.running(t, tc.ref, containers...)
			got, images := rendered(t, rr.stdout, containers...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("render differs from the running revision %s apart from the images (-want +got):\n%s", tc.ref, diff)
			}
			for c, ref := range tc.bound {
				repo, _, _ := strings.Cut(ref, ":")
				if want := reg + repo + "@" + w.digests[ref]; images[c] != want {
					t.Errorf("container %s renders %s, want the running image's digest: %s", c, images[c], want)
				}
			}
		})
	}
	m, _ := manifest.Load(filepath.Join(w.dir, "deckhand.yaml"))
	if b, ok := m.Service("payments"); !ok || b.Cluster != "prod" || b.Service != "billing" {
		t.Errorf("a service adopted by its ARN: binding %+v, want cluster prod and service billing by name", b)
	}
	// The job's schedule is left for a person: validate says so and fails;
	// filled in, the whole manifest validates.
	path := filepath.Join(w.dir, "deckhand.yaml")
	v := deckhand(t, "validate", "--manifest", path)
	if v.code != 1 || !strings.Contains(v.stdout+v.stderr, "jobs[0].schedule: "+manifest.ScheduleMissing) {
		t.Errorf("validate with the schedule unfilled: exit %d, want 1 naming jobs[0].schedule", v.code)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	filled := strings.Replace(string(raw), `schedule: ""`, `schedule: cron(0 3 * * ? *)`, 1)
	if err := os.WriteFile(path, []byte(filled), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := deckhand(t, "validate", "--manifest", path); v.code != 0 {
		t.Errorf("validate with the schedule filled in: exit %d, want 0", v.code)
	}
}

func indexOf(s []string, v string) int {
	for i, e := range s {
		if e == v {
			return i
		}
	}
	return -1
}

// checkTemplate checks the template file: no output-only fields or tags,
// and placeholders for the bound containers' images only.
func checkTemplate(t *testing.T, path string, bound map[string]string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, k := range []string{"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt", "registeredBy", "tags", "taskDefinition"} {
		if _, ok := doc[k]; ok {
			t.Errorf("%s has %s", path, k)
		}
	}
	defs, _ := doc["containerDefinitions"].([]any)
	for _, d := range defs {
		c := d.(map[string]any)
		img, _ := c["image"].(string)
		_, isBound := bound[c["name"].(string)]
		if isBound != strings.HasPrefix(img, "{{") {
			t.Errorf("%s: container %s image %q; bound: %v", path, c["name"], img, isBound)
		}
	}
}

func TestInitBadInput(t *testing.T) {
	w := seedAdopt(t)
	path := filepath.Join(w.dir, "deckhand.yaml")
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"a service that does not exist", []string{"init", "--cluster", "prod", "--service", "nope"}, 3,
			`service "prod/nope" not found; deckhand init adopts a running service`},
		{"a cluster that does not exist", []string{"init", "--cluster", "nowhere", "--service", "shop"}, 3, `cluster "nowhere" not found`},
		{"a job's cluster that does not exist", []string{"init", "--cluster", "nowhere", "--task-definition", "report"}, 3, `cluster "nowhere" not found`},
		{"a family without an active revision", []string{"init", "--cluster", "prod", "--task-definition", "nothing"}, 3, `task definition "nothing" not found`},
		{"both a service and a task definition", []string{"init", "--cluster", "prod", "--service", "shop", "--task-definition", "report"}, 2, "not both or neither"},
		{"no cluster", []string{"init", "--service", "shop"}, 2, "--cluster is required"},
		{"an awsvpc job without subnets", []string{"init", "--cluster", "prod", "--task-definition", "report"}, 2, "pass --subnet"},
		{"a service with a job's network", []string{"init", "--cluster", "prod", "--service", "shop", "--subnet", "subnet-1"}, 2, "are a job's network"},
	}
	for _, tc := range cases {
		r := deckhand(t, w.args(tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, r.code, r.stderr, tc.code, tc.stderr)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%s: a manifest was written", tc.name)
		}
	}

	// An existing binding is refused and nothing changes; --force replaces it.
	if r := deckhand(t, w.args("init", "--cluster", "prod", "--service", "shop")...); r.code != 0 {
		t.Fatalf("first init: exit %d", r.code)
	}
	before, _ := os.ReadFile(path)
	tmplBefore, _ := os.ReadFile(filepath.Join(w.dir, "templates", "shop.json"))
	r := deckhand(t, w.args("init", "--cluster", "prod", "--service", "billing", "--binding", "shop")...)
	if r.code != 1 || !strings.Contains(r.stderr, "already has a service binding named shop; pass --force to replace it") {
		t.Errorf("init of an existing binding: exit %d, stderr %q", r.code, r.stderr)
	}
	after, _ := os.ReadFile(path)
	tmplAfter, _ := os.ReadFile(filepath.Join(w.dir, "templates", "shop.json"))
	if string(before) != string(after) || string(tmplBefore) != string(tmplAfter) {
		t.Errorf("a refused init changed the files")
	}
	r = deckhand(t, w.args("init", "--cluster", "prod", "--service", "billing", "--binding", "shop", "--force")...)
	if r.code != 0 || !strings.Contains(r.stdout, "replaced shop in") {
		t.Fatalf("init --force: exit %d", r.code)
	}
	m, err := manifest.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Services) != 1 || m.Services[0].Service != "billing" {
		t.Errorf("after --force the manifest has %+v, want one binding shop of service billing", m.Services)
	}
}

// TestInitImageNotInECR: a service whose image ECR no longer has (deleted,
// or never pushed to this registry) is adopted with a policy guessed from
// its reference, and init says so.
func TestInitImageNotInECR(t *testing.T) {
	w := seedAdopt(t)
	w.register(t, "ghost", `{"family": "ghost", "containerDefinitions": [
	  {"name": "ghost", "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/ghost:2.3.0", "essential": true, "memory": 128}]}`)
	if _, err := w.ecs.CreateService(context.Background(), &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("ghost"),
		DesiredCount: aws.Int32(1), TaskDefinition: aws.String("ghost")}); err != nil {
		t.Fatal(err)
	}
	r := deckhand(t, w.args("init", "--cluster", "prod", "--service", "ghost")...)
	if r.code != 0 || !strings.Contains(r.stderr, "ECR does not know 123456789012.dkr.ecr.us-west-2.amazonaws.com/ghost:2.3.0") ||
		!strings.Contains(r.stdout, `tags "semver:^2", guessed from the running tag 2.3.0`) {
		t.Errorf("init of a service whose image ECR does not have: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
