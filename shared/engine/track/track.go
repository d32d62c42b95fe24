// Package track turns ECS deployment state changes into Deckhand verdicts
// (DESIGN §5, §10): SUCCEEDED when the deployment Deckhand started
// completes, ROLLED_BACK or FAILED when it fails. An event alone never
// decides: each verdict is confirmed with ECS first (the deployment's
// rolloutState on the service, or ECS's service-deployment record once the
// service no longer lists it), so a forged or stale event changes nothing.
// A rollback is never reported as success, and deployments Deckhand did not
// start are ignored with a log.
package track

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

type ecsAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	TagResource(ctx context.Context, in *ecs.TagResourceInput, optFns ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
	recordsAPI
}

var _ ecsAPI = (*ecs.Client)(nil)

type emitter interface {
	Put(ctx context.Context, evs ...emit.Event) error
}

// Deployments judges ECS deployments. It is safe for concurrent use.
type Deployments struct {
	ECS    ecsAPI
	Events emitter
	// Source, Targets and Home judge events forwarded from the manifest's
	// targets (targets.go): the manifest to find an event's binding in,
	// the ECS clients of bindings with a target, and Deckhand's own
	// account and Region (nil: every event is Deckhand's own).
	Source  store.Source
	Targets targets.Clients
	Home    func() (account, region string)
	Logger  *slog.Logger
	// Pacer retries the service tag write and the emission with backoff on
	// its clock (the zero value: 3 attempts in real time).
	Pacer revision.Pacer

	// Metrics, when set, receives one delivery-metrics line (embedded
	// metric format) per verdict (metrics.go; functions/tracker: stdout).
	Metrics   io.Writer
	metricsMu sync.Mutex

	mu   sync.Mutex
	seen map[string]bool // account/region/deploymentId/eventName already judged
}

// Verdict is what the tracker decided about one event.
type Verdict struct {
	Emitted bool
	Event   events.DeploymentStateChange
	// Ignored says why no verdict was emitted.
	Ignored string
}

// Handle judges one ECS Deployment State Change. An error (ECS could not
// be read, the rolled-back digest could not be recorded, the verdict could
// not be emitted) asks for the event again: the function's asynchronous
// retries and its DLQ keep it.
func (d *Deployments) Handle(ctx context.Context, ev events.DeploymentEvent) (Verdict, error) {
	det := ev.Detail
	switch det.EventName {
	case events.DeploymentCompleted, events.DeploymentFailed:
	default:
		// IN_PROGRESS (initial or rollback): the deployer already said STARTED.
		return d.ignore(ctx, ev, "in-progress events carry no verdict")
	}
	// Per account and Region: deployment ids are ECS's, and two targets'
	// ECS may name two deployments alike.
	key := ev.Account + "/" + ev.Region + "/" + det.DeploymentID + "/" + det.EventName
	d.mu.Lock()
	dup := d.seen[key]
	d.mu.Unlock()
	if dup {
		return d.ignore(ctx, ev, "duplicate event")
	}
	if len(ev.Resources) == 0 {
		return Verdict{}, fmt.Errorf("deployment event %s: %w: $.resources has no service ARN", ev.ID, events.ErrMalformed)
	}
	cluster, service, err := serviceOf(ev.Resources[0])
	if err != nil {
		return Verdict{}, fmt.Errorf("deployment event %s: %w", ev.ID, err)
	}
	ctx, why, err := d.inTarget(ctx, ev, cluster, service)
	if err != nil {
		return Verdict{}, err
	}
	if why != "" {
		return d.ignore(ctx, ev, why)
	}
	st, err := d.confirm(ctx, cluster, service, det.DeploymentID)
	if err != nil {
		return Verdict{}, err
	}
	if why := st.contradicts(det.EventName); why != "" {
		return d.ignore(ctx, ev, why)
	}
	td, err := d.describe(ctx, st.taskDefinition)
	if err != nil {
		return Verdict{}, err
	}
	tags := revision.TagsOf(td.Tags)
	binding, ours := tags[revision.TagBinding]
	if !ours {
		return d.ignore(ctx, ev, "deployment of a revision Deckhand did not register")
	}
	out := events.DeploymentStateChange{
		Binding: binding, Cluster: cluster, Service: service,
		NewRevision: st.taskDefinition, DeploymentID: det.DeploymentID,
		Trigger: events.Trigger(tags[revision.TagTrigger]), EventID: tags[revision.TagEventID],
		Containers: containers(tags), Reason: st.reason(det.Reason),
	}
	if reg := td.TaskDefinition.RegisteredAt; reg != nil && !det.UpdatedAt.IsZero() {
		out.DurationMS = det.UpdatedAt.Sub(*reg).Milliseconds()
	}
	if st.rollout == rolloutCompleted {
		// A rollback deployment completing runs an older Deckhand revision:
		// it is not a success of anything Deckhand started.
		latest, err := d.describe(ctx, aws.ToString(td.TaskDefinition.Family))
		if err != nil {
			return Verdict{}, err
		}
		if newer := aws.ToString(latest.TaskDefinition.TaskDefinitionArn); newer != out.NewRevision && revision.TagsOf(latest.Tags)[revision.TagBinding] == binding {
			return d.ignore(ctx, ev, fmt.Sprintf("completed deployment runs %s, older than Deckhand's newest revision %s (a rollback is never success)", out.NewRevision, newer))
		}
		out.Status = events.StatusSucceeded
	} else {
		out.Status, out.Cause = events.StatusFailed, st.cause
		if st.rolledBack {
			out.Status = events.StatusRolledBack
			if st.rollbackTo != "" && st.rollbackTo != out.NewRevision {
				out.OldRevision = st.rollbackTo
				out.Reason += " Rolled back to " + out.OldRevision + "."
			}
		}
		// Record before reporting: a rollback must stick, whatever its
		// cause and even when recording it fails, so a failed write asks
		// for the event again, and no verdict goes out before the mark is
		// written. A rollback that failed leaves the digest marked too.
		if st.rolledBack || st.rollbackFailed {
			if err := d.markRolledBack(ctx, st.service, tags); err != nil {
				return Verdict{}, err
			}
		}
	}
	if d.Events != nil {
		if err := d.Pacer.Retry(ctx, func() error { return d.Events.Put(ctx, emit.Deployments(out)...) }); err != nil {
			return Verdict{}, fmt.Errorf("emit verdict: %w", err)
		}
	}
	d.publishMetrics(ctx, st, cluster, service, tags, out, verdictTime(ev), aws.ToTime(td.TaskDefinition.RegisteredAt))
	d.mu.Lock()
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	d.seen[key] = true
	d.mu.Unlock()
	d.logger().InfoContext(ctx, "deployment verdict", "binding", binding, "cluster", cluster, "service", service,
		"outcome", string(out.Status), "cause", out.Cause, "deployment_id", out.DeploymentID, "revision", out.NewRevision, "confirmed_by", st.source)
	return Verdict{Emitted: true, Event: out}, nil
}

// describe reads a revision (or a family's latest) with its tags, retried.
func (d *Deployments) describe(ctx context.Context, ref string) (*ecs.DescribeTaskDefinitionOutput, error) {
	var out *ecs.DescribeTaskDefinitionOutput
	err := d.Pacer.Retry(ctx, func() error {
		var err error
		out, err = d.ecs(ctx).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe task definition %s: %w", ref, err)
	}
	return out, nil
}

// markRolledBack tags the service with the digests the rolled-back
// deployment changed (revision.RolledBackMarks), so neither a redelivered
// push nor the reconciler deploys them again on their own. A digest is
// added to the container's mark, which keeps earlier rollbacks' digests
// too (revision.AddRolledBack); marks the service carries already are not
// written again; a throttled or failed
// write is retried with backoff, and an error is returned when it still
// fails.
func (d *Deployments) markRolledBack(ctx context.Context, svc *types.Service, rev revision.Tags) error {
	marks := revision.AddRolledBack(revision.TagsOf(svc.Tags), revision.RolledBackMarks(rev))
	if len(marks) == 0 {
		return nil
	}
	err := d.Pacer.Retry(ctx, func() error {
		_, err := d.ecs(ctx).TagResource(ctx, &ecs.TagResourceInput{ResourceArn: svc.ServiceArn, Tags: marks.ECS()})
		return err
	})
	if err != nil {
		return fmt.Errorf("tag service %s with rolled-back digests: %w", aws.ToString(svc.ServiceName), err)
	}
	return nil
}

func (d *Deployments) ignore(ctx context.Context, ev events.DeploymentEvent, why string) (Verdict, error) {
	d.logger().InfoContext(ctx, "deployment event ignored", "deployment_id", ev.Detail.DeploymentID,
		"event", ev.Detail.EventName, "reason", why)
	return Verdict{Ignored: why}, nil
}

func (d *Deployments) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// rollbackOf finds the deployment ECS started to roll the failed one back:
// the first one created after the failed one (since) that runs an
// older revision of the family (ECS rolls back to a deployment that
// completed before, so to a revision registered before the failed one). A
// deployment Deckhand started later runs a newer revision and is never
// taken for it. When the rollback deployment is no longer listed, no target
// is named rather than a wrong one.
func rollbackOf(svc *types.Service, failedID, failedRev string, since time.Time) *types.Deployment {
	family, rev := taskdef.SplitARN(failedRev)
	var best *types.Deployment
	for i := range svc.Deployments {
		d := &svc.Deployments[i]
		f, r := taskdef.SplitARN(aws.ToString(d.TaskDefinition))
		if aws.ToString(d.Id) == failedID || f != family || r >= rev ||
			d.CreatedAt == nil || !d.CreatedAt.After(since) {
			continue
		}
		// In one instant (a clock without sub-second ticks), the lower
		// revision: ECS rolls back to the last one that completed.
		if _, br := taskdef.SplitARN(aws.ToString(bestTD(best))); best == nil || d.CreatedAt.Before(*best.CreatedAt) ||
			d.CreatedAt.Equal(*best.CreatedAt) && r < br {
			best = d
		}
	}
	return best
}

func bestTD(d *types.Deployment) *string {
	if d == nil {
		return nil
	}
	return d.TaskDefinition
}

// serviceOf splits arn:aws:ecs:region:account:service/cluster/service.
func serviceOf(arn string) (cluster, service string, err error) {
	_, res, ok := strings.Cut(arn, ":service/")
	parts := strings.Split(res, "/")
	if !ok || len(parts) != 2 {
		return "", "", fmt.Errorf("%w: $.resources[0] %q is not a service ARN with a cluster", events.ErrMalformed, arn)
	}
	return parts[0], parts[1], nil
}

func containers(tags revision.Tags) map[string]events.ContainerChange {
	out := map[string]events.ContainerChange{}
	for k, v := range tags {
		if c, ok := strings.CutPrefix(k, revision.TagDigest); ok {
			ch := out[c]
			ch.NewDigest = v
			out[c] = ch
		}
		if c, ok := strings.CutPrefix(k, revision.TagImageTag); ok {
			ch := out[c]
			ch.NewTag = v
			out[c] = ch
		}
	}
	return out
}
