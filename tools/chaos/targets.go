package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Targets (DESIGN §12). The world's services are spread over Deckhand's own
// account and Region and three targets: another account in another Region,
// the same account in a third Region (one role serving both), and a third
// account in Deckhand's own Region. Every place has a cluster named
// "chaos", and every service has a decoy of the same name in every other
// place, so a call that lands in the wrong account or Region finds a
// service to deploy, and invariant 16 sees it.

// chaosTarget is one target of the world.
type chaosTarget struct{ name, account, region string }

var chaosTargets = []chaosTarget{
	{"chaos-eu", "210987654321", "eu-central-1"},
	{"chaos-use", "210987654321", "us-east-1"},
	{"chaos-peer", "310987654321", "us-west-2"},
}

func (t chaosTarget) role() string { return "arn:aws:iam::" + t.account + ":role/deckhand-target" }

// InvIsolated is the targets' invariant.
const InvIsolated = "16 every binding's revisions, updates and sessions are in its own account and Region"

// place is where a service runs: a target's account and Region, or ""
// and "" for Deckhand's own.
type place struct{ account, region string }

// targetOf returns a service's target, if it has one.
func (w *world) targetOf(name string) (chaosTarget, bool) {
	for _, s := range w.services {
		if s.name == name && s.target != "" {
			for _, t := range chaosTargets {
				if t.name == s.target {
					return t, true
				}
			}
		}
	}
	return chaosTarget{}, false
}

// placeOf is where a service runs.
func (w *world) placeOf(name string) place {
	if t, ok := w.targetOf(name); ok {
		return place{t.account, t.region}
	}
	return place{}
}

// places are Deckhand's own place and every target's.
func (w *world) places() []place {
	out := []place{{}}
	for _, t := range chaosTargets[:w.targets] {
		out = append(out, place{t.account, t.region})
	}
	return out
}

// ecsOf is the ECS emulator a service runs in.
func ecsOf(sb *sandbox.Sandbox, w *world, name string) *ecssim.ECS {
	p := w.placeOf(name)
	return sb.ECSIn(p.account, p.region)
}

// updates is every place's UpdateService history, each place's in order.
func updates(sb *sandbox.Sandbox, w *world) []ecssim.UpdateRecord {
	var out []ecssim.UpdateRecord
	for _, p := range w.places() {
		out = append(out, sb.ECSIn(p.account, p.region).UpdateHistory()...)
	}
	return out
}

// everyPlace applies f to the ECS of every place.
func everyPlace(sb *sandbox.Sandbox, w *world, f func(*ecssim.ECS)) {
	for _, p := range w.places() {
		f(sb.ECSIn(p.account, p.region))
	}
}

// targetsYAML is the manifest's targets: section and the target: of each
// service (targetLine).
func (w *world) targetsYAML() string {
	if w.targets == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("targets:\n")
	for _, t := range chaosTargets[:w.targets] {
		fmt.Fprintf(&b, "  %s: { account: %q, region: %s, role: %q }\n", t.name, t.account, t.region, t.role())
	}
	return b.String()
}

// decoys creates, in every place, a service of the same name for each
// service that runs elsewhere, on a revision Deckhand did not register
// and with no tasks: nothing may ever deploy them.
func (r *runner) decoys(ctx context.Context) error {
	if r.w.targets == 0 {
		return nil
	}
	for _, p := range r.w.places() {
		e := r.sb.ECSIn(p.account, p.region)
		out, err := e.Handle(ctx, "RegisterTaskDefinition", []byte(`{"family":"decoy","containerDefinitions":[{"name":"app","image":"decoy@sha256:0","essential":true}]}`))
		if err != nil {
			return fmt.Errorf("decoy revision: %w", err)
		}
		arn := decoyARN(out)
		for _, s := range r.w.services {
			if r.w.placeOf(s.name) == p {
				continue
			}
			body := fmt.Sprintf(`{"cluster":%q,"serviceName":%q,"taskDefinition":%q,"desiredCount":0}`, cluster, s.name, arn)
			if _, err := e.Handle(ctx, "CreateService", []byte(body)); err != nil {
				return fmt.Errorf("decoy %s in %v: %w", s.name, p, err)
			}
		}
	}
	return nil
}

// isolated checks invariant 16: every revision tagged with a binding and
// every UpdateService of a service name is in that binding's own place
// (a decoy is never touched), and every STS session was for the role of
// the binding's target, with the external id and tags naming the binding.
func (c *checker) isolated() Row {
	row := Row{Name: InvIsolated}
	for _, p := range c.w.places() {
		e := c.res.sb.ECSIn(p.account, p.region)
		for _, u := range e.UpdateHistory() {
			row.Checked++
			if u.Cluster == cluster && c.w.placeOf(u.Service) != p {
				row.Violations = append(row.Violations, fmt.Sprintf("%s was updated to %s in account %q, %q: its decoy, not the binding's service in %v",
					u.Service, u.TaskDefinition, p.account, p.region, c.w.placeOf(u.Service)))
			}
		}
		for _, s := range c.w.services {
			for _, td := range e.TaskDefinitions(s.name) {
				if b := td.Tags[revision.TagBinding]; b != "" && c.w.placeOf(b) != p {
					row.Violations = append(row.Violations, fmt.Sprintf("revision %s of binding %s was registered in account %q, %q, not in its own %v",
						td.ARN, b, p.account, p.region, c.w.placeOf(b)))
				}
			}
		}
	}
	for _, s := range c.res.sb.Sessions() {
		row.Checked++
		b := s.Tags[targets.TagBinding]
		t, ok := c.w.targetOf(b)
		switch {
		case !ok:
			row.Violations = append(row.Violations, fmt.Sprintf("session %s of %s names binding %q, which has no target", s.SessionName, s.RoleARN, b))
		case s.RoleARN != t.role() || s.Tags[targets.TagTarget] != t.name || s.ExternalID != local.ExternalID(c.res.sb) || s.SessionName != targets.SessionName(b):
			row.Violations = append(row.Violations, fmt.Sprintf("session %s of %s (target tag %q, external id %q) is not binding %s's in %s",
				s.SessionName, s.RoleARN, s.Tags[targets.TagTarget], s.ExternalID, b, t.name))
		}
	}
	return row
}

// decoyARN reads the revision's ARN from a RegisterTaskDefinition answer.
func decoyARN(out any) string {
	raw, _ := json.Marshal(out)
	var reg struct {
		TaskDefinition struct {
			TaskDefinitionArn string `json:"taskDefinitionArn"`
		} `json:"taskDefinition"`
	}
	_ = json.Unmarshal(raw, &reg)
	return reg.TaskDefinition.TaskDefinitionArn
}

// clientIn is an ECS client in a place, as that account's administrator
// (the sandbox takes a 12-digit access key id for its root): for the
// checks, never faulted by then.
func clientIn(sb *sandbox.Sandbox, p place) *ecs.Client {
	cfg := sb.AWSConfig()
	if p.account != "" {
		cfg.Region, cfg.Credentials = p.region, credentials.NewStaticCredentialsProvider(p.account, "chaos", "")
	}
	return ecs.NewFromConfig(cfg)
}

// targetFaults are the targets' own faults: STS throttles a share of
// AssumeRole calls (the engines retry them: a session, then the message),
// and a share of ECS calls is refused as signed with expired credentials
// (a target's session is renewed and the call retried; Deckhand's own
// credentials fail the message, which is retried). Sessions also expire
// on the virtual clock over a run, and are renewed before they do.
func (r *runner) targetFaults() {
	if r.w.targets == 0 || r.cfg.FaultRate <= 0 {
		return
	}
	r.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceSTS, Op: "AssumeRole", Kind: sandbox.FaultThrottle, Probability: 0.3})
	r.sb.InjectFault(sandbox.Fault{Service: sandbox.ServiceECS, Kind: sandbox.FaultExpiredToken, Probability: r.cfg.FaultRate / 10})
}

// homeClients hands every target binding Deckhand's own ECS client
// (BreakTargetIsolation).
type homeClients struct{ home targets.ECS }

func (h homeClients) ECS(context.Context, string, manifest.Target, string) (targets.ECS, error) {
	return h.home, nil
}

// TargetStats sums up a run's targets: how many, the services in them,
// the AssumeRole calls (and how many STS throttled) and the sessions
// issued, for how many bindings.
type TargetStats struct {
	Targets, Bindings, AssumeRoles, Throttled, Sessions, SessionBindings int
}

func (c *checker) targetStats() TargetStats {
	st := TargetStats{Targets: c.w.targets}
	for _, s := range c.w.services {
		if s.target != "" {
			st.Bindings++
		}
	}
	for _, call := range c.res.Calls {
		if call.Service == sandbox.ServiceSTS && call.Op == "AssumeRole" {
			st.AssumeRoles++
			if call.Status == 400 {
				st.Throttled++
			}
		}
	}
	bindings := map[string]bool{}
	for _, s := range c.res.sb.Sessions() {
		st.Sessions++
		bindings[s.Tags[targets.TagBinding]] = true
	}
	st.SessionBindings = len(bindings)
	return st
}
