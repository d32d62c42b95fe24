package manifest

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadExample(t *testing.T) {
	m, err := Load("../../../examples/deckhand.yaml")
	if err != nil {
		t.Fatalf("Load example: %v", err)
	}
	if got, want := len(m.Services), 5; got != want {
		t.Fatalf("services = %d, want %d", got, want)
	}
	web, ok := m.Service("web")
	if !ok {
		t.Fatal("binding web not found")
	}
	if !web.Images["web"].Policy().Match("1.4.0") || web.Images["web"].Policy().Match("2.0.0") {
		t.Errorf("web policy %q does not behave as a semver range", web.Images["web"].Tags)
	}
	api, _ := m.Service("api")
	if api.CircuitBreaker != CircuitBreakerRollback {
		t.Errorf("default circuitBreaker = %q, want rollback", api.CircuitBreaker)
	}
	job, _ := m.Job("cache-warm")
	if job.Overlap != OverlapReplace {
		t.Errorf("cache-warm overlap = %q", job.Overlap)
	}
	report, _ := m.Job("nightly-report")
	if report.TimeoutDuration().Hours() != 2 {
		t.Errorf("nightly-report timeout = %v, want 2h", report.TimeoutDuration())
	}
}

func TestGroups(t *testing.T) {
	src := `
version: 1
services:
  - {name: a, cluster: c, service: a, template: t, images: {x: {repository: shared, tags: "*"}, y: {repository: only-a, tags: "*"}}}
  - {name: b, cluster: c, service: b, template: t, images: {x: {repository: shared, tags: "*"}}}
  - {name: z, cluster: c, service: z, template: t, images: {z: {repository: lonely, tags: "*"}}}
`
	m, err := Parse("g.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Group{
		{ID: "lonely", Repositories: []string{"lonely"}, Bindings: []string{"z"}},
		{ID: "only-a", Repositories: []string{"only-a", "shared"}, Bindings: []string{"a", "b"}},
	}
	if diff := cmp.Diff(want, m.Groups()); diff != "" {
		t.Errorf("Groups() (-want +got):\n%s", diff)
	}
	if g, ok := m.GroupOf("shared"); !ok || g != "only-a" {
		t.Errorf("GroupOf(shared) = %q, %v", g, ok)
	}
	if _, ok := m.GroupOf("nope"); ok {
		t.Error("GroupOf(nope) found a group")
	}
}

func TestParseErrors(t *testing.T) {
	base := "version: 1\nroles: [arn:aws:iam::123456789012:role/r]\n"
	svc := "services:\n  - name: web\n    cluster: prod\n    service: web\n    template: t.json\n    images:\n      web: { repository: web, tags: \"semver:*\" }\n"
	tests := map[string]struct {
		src       string
		wantLine  int
		wantField string
		wantMsg   string
	}{
		"an unknown key names its path and line": {
			src:      base + svc + "    colour: blue\n",
			wantLine: 10, wantField: "services[0].colour", wantMsg: `unknown field "colour"`,
		},
		"a bad tag policy names the tags field": {
			src:      base + strings.Replace(svc, `semver:*`, `semver:>>1`, 1),
			wantLine: 9, wantField: "services[0].images.web.tags", wantMsg: "semver constraint",
		},
		"a duplicate name is reported": {
			src:      base + svc + strings.Replace(svc, "services:\n", "", 1),
			wantLine: 10, wantField: "services[1].name", wantMsg: `duplicate name "web"`,
		},
		"a role that is not an ARN": {
			src:      "version: 1\nroles: [web-task]\n",
			wantLine: 2, wantField: "roles[0]", wantMsg: "not an IAM role ARN",
		},
		"a garbage schedule": {
			src:      base + svc + "jobs:\n  - {name: j, schedule: every day, cluster: prod, template: t, images: {x: {fromService: web}}}\n",
			wantLine: 11, wantField: "jobs[0].schedule", wantMsg: "not a schedule expression",
		},
		"fromService must name a binding": {
			src:      base + svc + "jobs:\n  - {name: j, schedule: rate(1 hour), cluster: prod, template: t, images: {x: {fromService: nope}}}\n",
			wantLine: 11, wantField: "jobs[0].images.x.fromService", wantMsg: `"nope" not found; known: web`,
		},
		"an unknown time zone": {
			src:      base + svc + "jobs:\n  - name: j\n    schedule: rate(1 hour)\n    timezone: Mars/Olympus\n    cluster: prod\n    template: t\n    images: {x: {fromService: web}}\n",
			wantLine: 13, wantField: "jobs[0].timezone", wantMsg: "IANA time zone",
		},
		"a relative host path in allow": {
			src:      base + svc + "    allow: { hostPaths: [var/run] }\n",
			wantLine: 10, wantField: "services[0].allow.hostPaths[0]", wantMsg: "absolute, clean path",
		},
		"a host path that climbs": {
			src:      base + svc + "    allow: { hostPaths: [/var/../etc] }\n",
			wantLine: 10, wantField: "services[0].allow.hostPaths[0]", wantMsg: "absolute, clean path",
		},
		"an unknown capability in allow": {
			src:      base + svc + "    allow: { capabilities: [CAP_SYS_ADMIN] }\n",
			wantLine: 10, wantField: "services[0].allow.capabilities[0]", wantMsg: "without CAP_",
		},
		"a registry with a scheme in allow": {
			src:      base + svc + "    allow: { registries: [\"https://docker.io\"] }\n",
			wantLine: 10, wantField: "services[0].allow.registries[0]", wantMsg: "no scheme",
		},
		"a job's allow is checked too": {
			src:      base + svc + "jobs:\n  - {name: j, schedule: rate(1 hour), cluster: prod, template: t, images: {x: {fromService: web}}, allow: {registries: [docker]}}\n",
			wantLine: 11, wantField: "jobs[0].allow.registries[0]", wantMsg: "registry host",
		},
		"keep: 0 in a binding's retention is refused": {
			src:      base + svc + "    retention: { keep: 0 }\n",
			wantLine: 10, wantField: "services[0].retention.keep", wantMsg: "the serving revision must stay",
		},
		"a negative top-level keep is refused": {
			src:      base + "retention:\n  keep: -2\n" + svc,
			wantLine: 4, wantField: "retention.keep", wantMsg: "keep -2: want at least 1",
		},
		"an unknown key in retention": {
			src:      base + svc + "    retention: { keep: 3, days: 30 }\n",
			wantLine: 10, wantField: "services[0].retention.days", wantMsg: `unknown field "days"`,
		},
		"an unknown key in allow": {
			src:      base + svc + "    allow: { root: true }\n",
			wantLine: 10, wantField: "services[0].allow.root", wantMsg: `unknown field "root"`,
		},
		"more than 16 subnets": {
			src:      base + svc + "jobs:\n  - name: j\n    schedule: rate(1 hour)\n    cluster: prod\n    template: t\n    network: { subnets: [s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17] }\n",
			wantLine: 15, wantField: "jobs[0].network.subnets", wantMsg: "17 subnets; RunTask takes at most 16",
		},
		"more than 5 security groups": {
			src:      base + svc + "jobs:\n  - name: j\n    schedule: rate(1 hour)\n    cluster: prod\n    template: t\n    network: { subnets: [s1], securityGroups: [g1, g2, g3, g4, g5, g6] }\n",
			wantLine: 15, wantField: "jobs[0].network.securityGroups", wantMsg: "at most 5",
		},
		"a public IP on EC2": {
			src:      base + svc + "jobs:\n  - name: j\n    schedule: rate(1 hour)\n    cluster: prod\n    template: t\n    launch: { launchType: EC2 }\n    network: { subnets: [s1], assignPublicIp: ENABLED }\n",
			wantLine: 16, wantField: "jobs[0].network.assignPublicIp", wantMsg: "not supported for this launch type",
		},
		"a platform version on EC2": {
			src:      base + svc + "jobs:\n  - name: j\n    schedule: rate(1 hour)\n    cluster: prod\n    template: t\n    launch: { launchType: EC2, platformVersion: \"1.4.0\" }\n",
			wantLine: 15, wantField: "jobs[0].launch.platformVersion", wantMsg: "for Fargate",
		},
		"a launch type with capacity providers": {
			src:      base + svc + "jobs:\n  - name: j\n    schedule: rate(1 hour)\n    cluster: prod\n    template: t\n    launch: { launchType: FARGATE, capacityProviders: [{provider: FARGATE_SPOT, weight: 1}] }\n",
			wantLine: 15, wantField: "jobs[0].launch", wantMsg: "not both",
		},
		"two capacity providers with a base": {
			src:      base + svc + "jobs:\n  - name: j\n    schedule: rate(1 hour)\n    cluster: prod\n    template: t\n    launch: { capacityProviders: [{provider: FARGATE, base: 1, weight: 1}, {provider: FARGATE_SPOT, base: 2}] }\n",
			wantLine: 15, wantField: "jobs[0].launch.capacityProviders[1].base", wantMsg: "only one capacity provider",
		},
		"capacity providers all weighing 0": {
			src:      base + svc + "jobs:\n  - name: j\n    schedule: rate(1 hour)\n    cluster: prod\n    template: t\n    launch: { capacityProviders: [{provider: FARGATE}, {provider: FARGATE_SPOT}] }\n",
			wantLine: 15, wantField: "jobs[0].launch.capacityProviders", wantMsg: "weight above 0",
		},
		"a command override without a container to take it": {
			src:      base + svc + "jobs:\n  - name: j\n    schedule: rate(1 hour)\n    cluster: prod\n    template: t\n    overrides: { command: [./x] }\n",
			wantLine: 15, wantField: "jobs[0].overrides.container", wantMsg: "no images:",
		},
		"a wrong type": {
			src:      "version: one\n",
			wantLine: 1, wantMsg: "cannot unmarshal",
		},
		"a missing version": {
			src:       "roles: []\n",
			wantField: "version", wantMsg: "unsupported version 0",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("deckhand.yaml", []byte(tc.src))
			var me *Error
			if !errors.As(err, &me) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error = %v, want *manifest.Error", err)
			}
			p := me.Problems[0]
			if p.File != "deckhand.yaml" || (tc.wantLine != 0 && p.Line != tc.wantLine) || p.Field != tc.wantField || !strings.Contains(p.Msg, tc.wantMsg) {
				t.Errorf("problem = %+v\nwant line %d field %q msg containing %q", p, tc.wantLine, tc.wantField, tc.wantMsg)
			}
		})
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	src := "version: 2\nroles: [nope]\nservices:\n  - {name: '', cluster: prod, service: s, template: t, images: {}}\n"
	_, err := Parse("m.yaml", []byte(src))
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, p := range me.Problems {
		fields = append(fields, p.Field)
	}
	want := []string{"version", "roles[0]", "services[0].name", "services[0].images"}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("problem fields (-want +got):\n%s", diff)
	}
}

func TestLengthLimits(t *testing.T) {
	long := strings.Repeat("a", 64)
	src := "version: 1\nroles: [arn:aws:iam::123456789012:role/" + strings.Repeat("r", 513) + "]\nservices:\n  - {name: " + long + ", cluster: " + strings.Repeat("c", 256) + ", service: s, template: t, images: {x: {repository: x, tags: \"*\"}}}\n"
	_, err := Parse("m.yaml", []byte(src))
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, p := range me.Problems {
		fields = append(fields, p.Field)
	}
	if diff := cmp.Diff([]string{"roles[0]", "services[0].name", "services[0].cluster"}, fields); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAllow parses an allow: block that grants everything and checks what
// it lets a template do.
func TestAllow(t *testing.T) {
	src := `version: 1
services:
  - name: agent
    cluster: prod
    service: agent
    template: t.json
    images: { agent: { repository: agent, tags: "*" } }
    allow:
      privileged: true
      hostNetwork: true
      hostPID: true
      hostIPC: true
      hostPaths: [/var/run/docker.sock, /proc]
      capabilities: [SYS_PTRACE]
      registries: [docker.io, public.ecr.aws/aws-observability, "localhost:5000"]
`
	m, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	a := m.Services[0].Allow
	tests := map[string]struct{ got, want bool }{
		"the allowed socket":                  {a.AllowsHostPath("/var/run/docker.sock"), true},
		"below an allowed path":               {a.AllowsHostPath("/proc/1/ns"), true},
		"climbing out of an allowed path":     {a.AllowsHostPath("/proc/../etc/shadow"), false},
		"a sibling of an allowed file":        {a.AllowsHostPath("/var/run/docker.sock2"), false},
		"a relative path":                     {a.AllowsHostPath("proc"), false},
		"the allowed capability, as Docker":   {a.AllowsCapability("cap_sys_ptrace"), true},
		"another capability":                  {a.AllowsCapability("SYS_ADMIN"), false},
		"nothing without an allow: block":     {(*Allow)(nil).AllowsHostPath("/proc") || (*Allow)(nil).AllowsCapability("KILL"), false},
		"ALL allows every capability":         {(&Allow{Capabilities: []string{"ALL"}}).AllowsCapability("SYS_ADMIN"), true},
		"the root path allows every absolute": {(&Allow{HostPaths: []string{"/"}}).AllowsHostPath("/etc"), true},
	}
	for name, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v", name, tc.got, tc.want)
		}
	}
}

// TestJobWithoutImages: a job may leave images: out; its template's images
// run as written.
func TestJobWithoutImages(t *testing.T) {
	src := "version: 1\njobs:\n  - {name: j, schedule: rate(1 hour), cluster: prod, template: t, overrides: {container: main, command: [./x]}}\n"
	m, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if j, _ := m.Job("j"); len(j.Images) != 0 || j.Overrides.Container != "main" {
		t.Errorf("job = %+v", j)
	}
}

func TestLaunchFargate(t *testing.T) {
	tests := map[string]struct {
		launch *Launch
		want   bool
	}{
		"no launch: the cluster's default":   {nil, false},
		"the FARGATE launch type":            {&Launch{LaunchType: "FARGATE"}, true},
		"the EC2 launch type":                {&Launch{LaunchType: "EC2"}, false},
		"Fargate Spot only":                  {&Launch{CapacityProviders: []CapacityProvider{{Provider: "FARGATE_SPOT"}}}, true},
		"Fargate with an Auto Scaling group": {&Launch{CapacityProviders: []CapacityProvider{{Provider: "FARGATE"}, {Provider: "asg"}}}, false},
	}
	for name, tc := range tests {
		if got := tc.launch.Fargate(); got != tc.want {
			t.Errorf("%s: Fargate() = %v, want %v", name, got, tc.want)
		}
	}
}

func TestRetentionOf(t *testing.T) {
	src := "version: 1\nretention: { keep: 10 }\nservices:\n" +
		"  - {name: a, cluster: c, service: a, template: t.json, images: {x: {repository: r, tags: \"*\"}}}\n" +
		"  - {name: b, cluster: c, service: b, template: t.json, images: {x: {repository: r, tags: \"*\"}}, retention: {keep: 3}}\n"
	m, err := Parse("deckhand.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"a": 10, "b": 3} {
		s, _ := m.Service(name)
		if got, ok := m.RetentionOf(s); !ok || got != want {
			t.Errorf("RetentionOf(%s) = %d, %v; want %d, true", name, got, ok, want)
		}
	}
	m.Retention = nil
	s, _ := m.Service("a")
	if got, ok := m.RetentionOf(s); ok {
		t.Errorf("RetentionOf without any retention: = %d, true; want none", got)
	}
}
