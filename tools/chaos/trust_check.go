package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// The trust classes' invariants (trust.go). They are numbered after the
// job invariants.
const (
	InvStaysRolledBack = "8 no digest rolled back is deployed again on its own"
	InvVerdictsAgree   = "9 every verdict and rolled-back mark agrees with what ECS did"
	InvTemplates       = "10 every revision renders the template version it names"
	InvEventTimes      = "11 far-future pushes refused, skew of seconds deployed, foreign pushes SKIPPED (no DLQ)"
)

// ecsTruth is what ECS did, from the ECS deployment events the sandbox
// published (forged events never reach its bus).
type ecsTruth struct {
	// ended maps deployment id to its real SERVICE_DEPLOYMENT_* event
	// names; failedAt to the time it failed.
	ended    map[string]map[string]bool
	failedAt map[string]time.Time
}

func (c *checker) truth() ecsTruth {
	t := ecsTruth{ended: map[string]map[string]bool{}, failedAt: map[string]time.Time{}}
	for _, ev := range c.res.sb.Events() {
		if ev.Source != events.SourceECS || ev.DetailType != events.DetailTypeDeploymentStateChange {
			continue
		}
		var d events.ECSDeploymentStateChange
		if json.Unmarshal(ev.Detail, &d) != nil {
			continue
		}
		if t.ended[d.DeploymentID] == nil {
			t.ended[d.DeploymentID] = map[string]bool{}
		}
		t.ended[d.DeploymentID][d.EventName] = true
		if d.EventName == events.DeploymentFailed {
			t.failedAt[d.DeploymentID] = ev.Time
		}
	}
	return t
}

// revisionTags maps every revision of the world's services to its tags.
func (c *checker) revisionTags() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, s := range c.w.services {
		for _, td := range ecsOf(c.res.sb, c.w, s.name).TaskDefinitions(s.name) {
			out[td.ARN] = td.Tags
		}
	}
	return out
}

// staysRolledBack checks invariant 8: after ECS failed a deployment of a
// revision, no UpdateService deploys a revision with a digest that
// revision changed, in that container.
func (c *checker) staysRolledBack(t ecsTruth) Row {
	row := Row{Name: InvStaysRolledBack}
	tags := c.revisionTags()
	history := updates(c.res.sb, c.w)
	// ECS fails only a service's PRIMARY deployment, which it stops being
	// when the service's next update starts another: every later update
	// of the service in the history came after the failure, in the same
	// virtual second too (the clock does not move within a pump, and an
	// alarm in ALARM fails a deployment the instant it starts).
	type bad struct {
		service, container, digest string
		at                         time.Time
		after                      int // index in history of the failed update
	}
	var rolled []bad
	for i, u := range history {
		at, failed := t.failedAt[u.DeploymentID]
		if !failed {
			continue
		}
		for cn, d := range revision.RolledBackMarks(tags[u.TaskDefinition]) {
			rolled = append(rolled, bad{u.Service, strings.TrimPrefix(cn, revision.TagRolledBack), d, at, i})
		}
	}
	for _, b := range rolled {
		row.Checked++
		for _, u := range history[b.after+1:] {
			if u.Service != b.service || tags[u.TaskDefinition][revision.TagDigest+b.container] != b.digest {
				continue
			}
			row.Violations = append(row.Violations, fmt.Sprintf("%s/%s: %s was deployed again at %s (%s) after ECS rolled it back at %s",
				b.service, b.container, short(b.digest), u.Time.Format(time.RFC3339), u.TaskDefinition, b.at.Format(time.RFC3339)))
			break
		}
	}
	return row
}

// verdictsAgree checks invariant 9: SUCCEEDED only for deployments ECS
// completed, ROLLED_BACK and FAILED verdicts only for deployments ECS
// failed, and every rolled-back mark on a service names a digest whose
// deployment ECS failed; forged and stale events change nothing.
func (c *checker) verdictsAgree(t ecsTruth) Row {
	row := Row{Name: InvVerdictsAgree}
	for _, d := range c.res.Deployments {
		if d.DeploymentID == "" {
			continue
		}
		want := ""
		switch d.Status {
		case events.StatusSucceeded:
			want = events.DeploymentCompleted
		case events.StatusRolledBack, events.StatusFailed:
			want = events.DeploymentFailed
		default:
			continue
		}
		row.Checked++
		if !t.ended[d.DeploymentID][want] {
			row.Violations = append(row.Violations, fmt.Sprintf("%s %s for deployment %s of %s, which ECS never ended with %s",
				d.Service, d.Status, d.DeploymentID, d.NewRevision, want))
		}
	}
	tags := c.revisionTags()
	// Retention deletes old revisions, and a deleted revision's tags are
	// gone, while a mark keeps the last digests rolled back: for a deleted
	// revision, the digests its containers' images name stand in.
	images := map[string]map[string]string{} // deleted revision → container → image
	everyPlace(c.res.sb, c.w, func(e *ecssim.ECS) {
		for _, td := range e.RevisionHistory() {
			if td.Status == ecssim.StatusDeleted {
				images[td.ARN] = td.Images
			}
		}
	})
	failedDigests := map[string]bool{} // service/container/digest
	for _, u := range updates(c.res.sb, c.w) {
		if _, failed := t.failedAt[u.DeploymentID]; failed {
			for cn, d := range revision.RolledBackMarks(tags[u.TaskDefinition]) {
				failedDigests[u.Service+"/"+cn+"/"+d] = true
			}
			for cn, img := range images[u.TaskDefinition] {
				if _, d, ok := strings.Cut(img, "@"); ok {
					failedDigests[u.Service+"/"+revision.TagRolledBack+cn+"/"+d] = true
				}
			}
		}
	}
	for _, s := range c.w.services {
		snap, _ := ecsOf(c.res.sb, c.w, s.name).Service(cluster, s.name)
		for k, v := range snap.Tags {
			if !strings.HasPrefix(k, revision.TagRolledBack) {
				continue
			}
			for _, d := range strings.Fields(v) { // newest first (revision.AddRolledBack)
				row.Checked++
				if !failedDigests[s.name+"/"+k+"/"+d] {
					row.Violations = append(row.Violations, fmt.Sprintf("%s carries %s naming %s, a digest no failed deployment deployed", s.name, k, short(d)))
				}
			}
		}
	}
	return row
}

// templates checks invariant 10: a revision tagged with a version of the
// shared template changed mid-run holds that version's content (the
// changed one sets TEMPLATE=v2).
func (c *checker) templates(ctx context.Context) (Row, error) {
	row := Row{Name: InvTemplates}
	for _, s := range c.w.services {
		for _, td := range ecsOf(c.res.sb, c.w, s.name).TaskDefinitions(s.name) {
			changed, ok := c.res.Templates[td.Tags[revision.TagTemplate]]
			if !ok {
				continue
			}
			row.Checked++
			out, err := clientIn(c.res.sb, c.w.placeOf(s.name)).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td.ARN)})
			if err != nil {
				return row, fmt.Errorf("describe %s: %w", td.ARN, err)
			}
			if got := hasV2(out.TaskDefinition.ContainerDefinitions); got != changed {
				row.Violations = append(row.Violations, fmt.Sprintf("%s names template %s (changed %v) but renders the other version",
					td.ARN, td.Tags[revision.TagTemplate], changed))
			}
		}
	}
	return row, nil
}

func hasV2(cds []ecstypes.ContainerDefinition) bool {
	for _, cd := range cds {
		for _, kv := range cd.Environment {
			if aws.ToString(kv.Name) == "TEMPLATE" && aws.ToString(kv.Value) == "v2" {
				return true
			}
		}
	}
	return false
}

// deployedDigests are the images some revision of the world runs.
func (c *checker) deployedDigests() map[string]bool {
	if c.deployed == nil {
		c.deployed = map[string]bool{}
		for _, s := range c.w.services {
			for _, td := range ecsOf(c.res.sb, c.w, s.name).TaskDefinitions(s.name) {
				for _, img := range td.Images {
					_, d, _ := strings.Cut(img, "@")
					c.deployed[d] = true
				}
			}
		}
	}
	return c.deployed
}

// eventTimes checks invariant 11: a push dated 2099 is dead-lettered with
// its reason, and no revision Deckhand registered carries a pushed-at mark
// beyond the run (its image may still deploy, found in ECR by catch-up with
// ECR's own time); a push a few seconds ahead is decided like any other.
func (c *checker) eventTimes() Row {
	row := Row{Name: InvEventTimes}
	for _, s := range c.w.services {
		for _, td := range ecsOf(c.res.sb, c.w, s.name).TaskDefinitions(s.name) {
			for k, v := range td.Tags {
				if !strings.HasPrefix(k, revision.TagPushedAt) || td.Tags[revision.TagEventID] == "poisoned" {
					continue
				}
				row.Checked++
				if at, err := time.Parse(time.RFC3339Nano, v); err == nil && !at.Before(futureTime) {
					row.Violations = append(row.Violations, fmt.Sprintf("%s carries %s=%s: an event time was taken for the truth", td.ARN, k, v))
				}
			}
		}
	}
	for _, in := range c.res.Inputs {
		if in.Kind != KindFuture && in.Kind != KindSkew && in.Kind != KindForeign || in.Deduped {
			continue
		}
		row.Checked++
		m := c.res.Messages[in.MessageID]
		if m == nil {
			continue // invariant 4 reports it
		}
		inv, _ := deletingReceive(m)
		dead := inv != nil && deadLettered(inv, m.ID) || inv == nil && len(m.Receives) >= 3
		switch {
		case in.Kind == KindFuture && !dead:
			row.Violations = append(row.Violations, fmt.Sprintf("input %d dated 2099 was not refused", in.N))
		case in.Kind == KindFuture && inv != nil && !strings.Contains(inv.DeadLettered[m.ID], "EventTimeInFuture"):
			row.Violations = append(row.Violations, fmt.Sprintf("input %d dated 2099 was dead-lettered for another reason: %s", in.N, inv.DeadLettered[m.ID]))
		case in.Kind == KindSkew && dead:
			row.Violations = append(row.Violations, fmt.Sprintf("input %d, a few seconds ahead, was dead-lettered", in.N))
		case in.Kind == KindForeign && (dead || inv == nil || !skippedIn(inv, in.ID)):
			row.Violations = append(row.Violations, fmt.Sprintf("input %d from a foreign account was not SKIPPED with no DLQ", in.N))
		}
	}
	return row
}

// trackerDeadLettered reports whether a tracker event of service is in
// the tracker's DLQ (its verdict is kept there, with the reason).
func (c *checker) trackerDeadLettered(service string) bool {
	for _, d := range c.res.TrackerDLQ {
		if strings.Contains(d.Raw, ":service/"+cluster+"/"+service+`"`) {
			return true
		}
	}
	return false
}

// skippedIn reports whether inv emitted SKIPPED for event id.
func skippedIn(inv *Invocation, id string) bool {
	for _, ev := range inv.Events {
		if ev.EventID == id && ev.Status == events.StatusSkipped && strings.HasPrefix(ev.Reason, "ForeignAccount") {
			return true
		}
	}
	return false
}
