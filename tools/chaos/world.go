// Package chaos is Deckhand's reliability suite: a seeded generator of
// hostile event streams (duplicates, reordering, bursts, noise, holds,
// broken images, duplicate job invocations), injected AWS faults, and the
// invariants checked after every run (RELIABILITY.md).
//
// Run drives the real deployer, tracker and runner through the sandbox on
// its virtual clock; Check turns what happened into a table of invariants.
package chaos

import (
	"fmt"
	"strings"
	"time"
)

// Config sizes and seeds one run.
type Config struct {
	// Seed drives the event stream and the sandbox's fault draws. A failing
	// run is replayed with the same seed and sizes.
	Seed uint64
	// Events is how many inputs the generator produces (default 300).
	Events int
	// Services is how many ECS services the manifest binds (default 20,
	// at least 10).
	Services int
	// FaultRate is the share of AWS calls answered with an injected fault
	// (default 0.10; negative means none).
	FaultRate float64
	// WrapECS, when set, wraps the deployer engine's ECS client. Tests use
	// it to break an engine rule on purpose and prove the suite notices.
	WrapECS func(ECSAPI) ECSAPI
	// JobsDirect delivers job invocations to the runner directly, as the
	// CDK app wired EventBridge Scheduler before the job queue (those due
	// at once run concurrently), instead of through the job FIFO queue.
	// Tests use it to prove the suite notices overlapping runs.
	JobsDirect bool
	// Progressive gives every tenth service a CANARY and every tenth a
	// LINEAR deployment with an alarm, and flips the alarms (progressive.go;
	// make chaos PROGRESSIVE=true). Off by default: it finds engine gaps
	// not fixed yet (RELIABILITY.md, "Progressive delivery").
	Progressive bool
	// TrustShare is the share of inputs drawn from the trust classes
	// (trust.go; default 0.03).
	TrustShare float64
	// Break breaks a trust promise on purpose (trust_break.go), to prove
	// invariants 1 and 8 to 12 notice.
	Break Breakage
	// Targets is how many of the world's three targets services are
	// spread over with Deckhand's own account and Region (targets.go;
	// default 3, negative none).
	Targets int
	// Keep is the manifest's retention: { keep: N } (default 3; negative:
	// no retention). Retention runs every pruneEvery seconds and in the
	// final reconcile pass (invariant 17).
	Keep int
	// BreakRetention adds a broken retention that deregisters, right after
	// each deployment starts, every other revision of the family (the one
	// a rollback returns to included), to prove invariant 17 notices.
	BreakRetention bool
	// Gates adds the gated chain dev → staging → prod and prod-eu, with
	// scans, soaks, approvals and freeze windows (gates.go; invariants 13
	// to 15). TestChaos and make chaos turn it on (-chaos.gates).
	Gates bool
	// BreakGate breaks a gate on purpose (gates_break.go), to prove
	// invariants 13 to 15 notice.
	BreakGate GateBreakage
}

func (c Config) withDefaults() Config {
	if c.Events <= 0 {
		c.Events = 300
	}
	if c.Services <= 0 {
		c.Services = 20
	}
	c.Services = max(c.Services, 10)
	if c.FaultRate == 0 {
		c.FaultRate = 0.10
	}
	if c.FaultRate < 0 {
		c.FaultRate = 0
	}
	if c.TrustShare <= 0 {
		c.TrustShare = 0.03
	}
	switch {
	case c.Targets == 0:
		c.Targets = len(chaosTargets)
	case c.Targets < 0:
		c.Targets = 0
	}
	c.Targets = min(c.Targets, len(chaosTargets))
	if c.Keep == 0 {
		c.Keep = 3
	}
	return c
}

// Names in the generated world.
const (
	cluster    = "chaos"
	appC       = "app"
	sideC      = "sidecar"
	executionR = "arn:aws:iam::123456789012:role/ecs-execution"
)

// chaosJob is one scheduled job of the world, with its own image
// repository and task-definition family (the family is the job's name).
type chaosJob struct {
	name, repo, overlap string
	retries             int
	// runFor is how long its tasks run (0: the sandbox's default).
	runFor time.Duration
}

// chaosJobs are the world's jobs: one per overlap policy. The forbid and
// replace jobs run longer than the gap between their invocations and
// retry a start failure once, through the job queue.
var chaosJobs = []chaosJob{
	{name: "chaos-job", repo: "jobimg", overlap: "allow"},
	{name: "chaos-forbid", repo: "jobimg-forbid", overlap: "forbid", retries: 1, runFor: 45 * time.Second},
	{name: "chaos-replace", repo: "jobimg-replace", overlap: "replace", retries: 1, runFor: 45 * time.Second},
}

// world is the manifest's shape: which repositories feed which services.
type world struct {
	services []service
	appRepos []string
	side     []string
	strays   []string
	// breakable are app repositories that feed only single-container
	// services; broken images are pushed to these.
	breakable []string
	// byRepo maps a repository to the services (and their container) it
	// feeds.
	byRepo map[string][]feed
	// ties are repositories of services whose policy has no version order
	// (glob, regex, *): pushes in one second go there (trust.go).
	ties []string
	// tagFormat is each repository's tag format (default 1.0.%d).
	tagFormat map[string]string
	// alarms are the deployment alarms of the canary and linear services
	// (DESIGN §10), which the run flips (progressive.go).
	alarms []string
	// targets is how many of chaosTargets the services are spread over.
	targets int
	// keep is the manifest's retention (none when not positive).
	keep int
	// gates: the gated chain is in the manifest (gates.go).
	gates bool
}

type service struct {
	name   string
	images map[string]string // container → repository
	// policy is the app container's tag policy (default semver:*).
	policy string
	// deployment is the service's deployment: block, in YAML flow style
	// ("" for none).
	deployment string
	// target is the chaosTarget it runs in ("": Deckhand's own).
	target string
}

type feed struct {
	service, container string
}

func newWorld(n int, progressive bool, targets int) *world {
	w := &world{byRepo: map[string][]feed{}, targets: targets}
	nApp := max(2, n/2)
	for i := range nApp {
		w.appRepos = append(w.appRepos, fmt.Sprintf("app-%02d", i))
	}
	for i := range max(1, n/20) {
		w.side = append(w.side, fmt.Sprintf("side-%d", i))
	}
	for i := range 3 {
		w.strays = append(w.strays, fmt.Sprintf("stray-%d", i))
	}
	multi := map[string]bool{}
	for i := range n {
		s := service{name: fmt.Sprintf("svc-%03d", i), images: map[string]string{appC: w.appRepos[i%nApp]}}
		if i%10 == 5 {
			s.images[sideC] = w.side[(i/10)%len(w.side)]
			multi[s.images[appC]] = true
		}
		if progressive {
			w.progressive(&s, i)
		}
		w.services = append(w.services, s)
		for c, r := range s.images {
			w.byRepo[r] = append(w.byRepo[r], feed{s.name, c})
		}
	}
	for _, r := range w.appRepos {
		if !multi[r] {
			w.breakable = append(w.breakable, r)
		}
	}
	w.addTieServices()
	// Every service but each (targets+1)th runs in a target, in turn; the
	// first (the poisoned one) is Deckhand's own.
	// Progressive services (canary, linear) stay in Deckhand's own account:
	// their alarms and load balancers are the hub's in this world.
	for i := range w.services {
		if w.services[i].deployment != "" {
			continue
		}
		if k := i % (targets + 1); k > 0 {
			w.services[i].target = chaosTargets[k-1].name
		}
	}
	return w
}

// manifest renders deckhand.yaml for the world.
func (w *world) manifest() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nroles:\n  - %s\n%s", executionR, w.targetsYAML())
	if w.keep > 0 {
		fmt.Fprintf(&b, "retention: { keep: %d }\n", w.keep)
	}
	b.WriteString("services:\n")
	for _, s := range w.services {
		tmpl := "single.json"
		policy := s.policy
		if policy == "" {
			policy = "semver:*"
		}
		imgs := fmt.Sprintf("%s: {repository: %s, tags: %q}", appC, s.images[appC], policy)
		if r, ok := s.images[sideC]; ok {
			tmpl = "multi.json"
			imgs += fmt.Sprintf(", %s: {repository: %s, tags: \"semver:*\"}", sideC, r)
		}
		deployment := ""
		if s.deployment != "" {
			deployment = ", deployment: " + s.deployment
		}
		target := ""
		if s.target != "" {
			target = ", target: " + s.target
		}
		fmt.Fprintf(&b, "  - {name: %s%s, cluster: %s, service: %s, template: %s, images: {%s}%s}\n", s.name, target, cluster, s.name, tmpl, imgs, deployment)
	}
	if w.gates {
		b.WriteString(gatedManifest())
	}
	b.WriteString("jobs:\n")
	for _, j := range chaosJobs {
		fmt.Fprintf(&b, `  - name: %s
    schedule: rate(1 hour)
    cluster: %s
    template: job.json
    images: { job: { repository: %s, tags: "semver:*" } }
    overlap: %s
    retries: %d
    timeout: 1h
    launch: { launchType: FARGATE }
    network: { subnets: [subnet-1] }
`, j.name, cluster, j.repo, j.overlap, j.retries)
	}
	return b.String()
}

// templates are the world's task-definition templates, by key.
var templates = map[string]string{
	"single.json": `{"family": "{{ .Service }}", "containerDefinitions": [{"name": "app", "image": "{{ .Image }}", "essential": true}]}`,
	"multi.json": `{"family": "{{ .Service }}", "containerDefinitions": [
  {"name": "app", "image": "{{ .Image }}", "essential": true},
  {"name": "sidecar", "image": "{{ (index .Images \"sidecar\").URI }}", "essential": false}]}`,
	"job.json": `{"family": "{{ .Service }}", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
  "cpu": "256", "memory": "512", "executionRoleArn": "` + executionR + `",
  "containerDefinitions": [{"name": "job", "image": "{{ .Image }}", "essential": true}]}`,
}
