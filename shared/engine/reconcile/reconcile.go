// Package reconcile is the periodic catch-up for missed push events
// (DESIGN §1, §7): for every service binding it finds the newest eligible
// image in ECR, compares it with what the service runs, and when the service
// is behind and not held it enqueues a synthetic ECR push into the deploy
// FIFO queue, where the deployer handles it like any push (trigger
// reconcile). It never calls the deploy engine itself. It also has the jobs
// engine stop job runs past their timeout.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/aws/ecrimages"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
	"github.com/deckhand-ecs/deckhand/shared/engine/gate"
	"github.com/deckhand-ecs/deckhand/shared/engine/jobs"
	"github.com/deckhand-ecs/deckhand/shared/engine/retention"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

type ecsAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	TagResource(ctx context.Context, in *ecs.TagResourceInput, optFns ...func(*ecs.Options)) (*ecs.TagResourceOutput, error)
}

type ecrAPI interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

// sender sends to the deploy FIFO queue; *queue.FIFO implements it.
type sender interface {
	Send(ctx context.Context, group, id string, body []byte) error
}

// jobsAPI is the jobs engine's timeout half.
type jobsAPI interface {
	StopOverdue(ctx context.Context, m *manifest.Manifest) ([]string, error)
}

var (
	_ ecsAPI  = (*ecs.Client)(nil)
	_ ecrAPI  = (*ecr.Client)(nil)
	_ jobsAPI = (*jobs.Engine)(nil)
)

// Reconciler runs one catch-up pass per Run. Build it once per process.
type Reconciler struct {
	ECS ecsAPI
	ECR ecrAPI
	// Queue is the deploy FIFO queue (DECKHAND_QUEUE_URL).
	Queue  sender
	Source store.Source
	// Targets gives the ECS clients of bindings with a target: (DESIGN
	// §12, targets.go; nil: such a binding is skipped with NoTargetClients).
	Targets targets.Clients
	// Jobs stops job runs past their timeout; nil skips that part.
	Jobs jobsAPI
	// Retention removes the bindings' old revisions (DESIGN §13) from the
	// service each pass reads anyway; nil skips that part.
	Retention *retention.Pruner
	// Region builds image registry hosts and the synthetic events' region.
	Region string
	// Logger receives one line per decision (default: discard).
	Logger *slog.Logger
	// Now is the clock pushed-at marks are judged on (default time.Now).
	Now func() time.Time
	// Gates and Scans read what gated bindings need (DESIGN §11, gates.go):
	// promotion sources, gated revisions, image scans; Events receives the
	// EXPIRED of an approval nobody decided; Account is Deckhand's own, for
	// the promotions it sends. Without Gates, promotions and approvals are
	// not looked at.
	Gates   gate.ECSAPI
	Scans   gate.ScanAPI
	Events  emitter
	Account string
}

// Report says what one pass did.
type Report struct {
	// Enqueued are the synthetic pushes sent to the deploy queue.
	Enqueued []Push `json:"enqueued,omitempty"`
	// Behind maps binding to the containers found behind ECR.
	Behind map[string][]string `json:"behind,omitempty"`
	// Held are bindings skipped because their service carries deckhand:hold.
	Held []string `json:"held,omitempty"`
	// Skipped maps binding to why it could not be checked (a missing
	// service, no eligible image, a container not in the running revision).
	Skipped map[string]string `json:"skipped,omitempty"`
	// TimedOut are job tasks stopped for their timeout.
	TimedOut []string `json:"timedOut,omitempty"`
	// Promotions are the promotions sent to the deploy queue.
	Promotions []Promotion `json:"promotions,omitempty"`
	// Retention is what retention removed (or left for the next pass), per
	// binding that had revisions past keep.
	Retention []retention.Result `json:"retention,omitempty"`
}

// Run checks every service binding and enqueues a push for every image a
// service is behind on, once per image per pass; then it stops overdue job
// runs. AWS errors are returned (after the other bindings were checked) so
// the pass is retried; problems of one binding are reported in Skipped.
func (r *Reconciler) Run(ctx context.Context) (Report, error) {
	m, err := r.Source.Manifest(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("load manifest: %w", err)
	}
	rep := Report{Behind: map[string][]string{}, Skipped: map[string]string{}}
	latest := map[string]latestResult{} // repository + policy → newest image
	var errs []error
	queued := map[string]bool{}
	budget := r.removalBudget()
	for i := range m.Services {
		b := &m.Services[i]
		bctx, ok, err := r.inTarget(ctx, m, b, &rep)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		if b.PromoteFrom() != "" {
			p, err := r.promotion(bctx, m, b, &rep)
			if err != nil {
				errs = append(errs, err)
			} else if p != nil {
				rep.Promotions = append(rep.Promotions, *p)
			}
			continue
		}
		pushes, err := r.binding(bctx, m, b, latest, &rep, &budget)
		if err != nil {
			errs = append(errs, err) // the pushes found before it still go
		}
		for _, p := range pushes {
			if queued[p.ID] {
				continue
			}
			queued[p.ID] = true
			group, ok := m.GroupOf(p.Repository)
			if !ok {
				continue // cannot happen: the repository comes from a binding
			}
			if err := r.enqueue(ctx, p, group); err != nil {
				errs = append(errs, err)
				continue
			}
			rep.Enqueued = append(rep.Enqueued, p)
		}
	}
	if r.Jobs != nil {
		stopped, err := r.Jobs.StopOverdue(ctx, m)
		rep.TimedOut = stopped
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(rep.Behind) == 0 {
		rep.Behind = nil
	}
	if len(rep.Skipped) == 0 {
		rep.Skipped = nil
	}
	return rep, errors.Join(errs...)
}

type latestResult struct {
	img taskdef.Image
	err error
}

// binding returns the pushes binding b is behind on.
func (r *Reconciler) binding(ctx context.Context, m *manifest.Manifest, b *manifest.Service, latest map[string]latestResult, rep *Report, budget *int) ([]Push, error) {
	log := r.logger().With("binding", b.Name, "cluster", b.Cluster, "service", b.Service)
	out, err := r.ecs(ctx).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(b.Cluster), Services: []string{b.Service},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil {
		return nil, fmt.Errorf("describe service %s/%s: %w", b.Cluster, b.Service, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		rep.Skipped[b.Name] = fmt.Sprintf("service %s/%s not found", b.Cluster, b.Service)
		log.WarnContext(ctx, "service not found", "outcome", "skipped")
		return nil, nil
	}
	svc := out.Services[0]
	// Retention failing to read the family does not hold back catch-up:
	// its error is returned with the pushes.
	retainErr := r.retain(ctx, m, b, &svc, rep, budget)
	serviceTags := revision.TagsOf(svc.Tags)
	if why, held := serviceTags[revision.TagHold]; held {
		rep.Held = append(rep.Held, b.Name)
		log.InfoContext(ctx, "service held", "outcome", "HELD", "reason", why)
		return nil, retainErr
	}
	tdARN := revision.OfService(svc)
	td, err := r.ecs(ctx).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(tdARN),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		return nil, fmt.Errorf("describe task definition %s: %w", tdARN, err)
	}
	tags := revision.TagsOf(td.Tags)
	var pushes []Push
	var moved *rollbackEvidence
	for _, c := range slices.Sorted(maps.Keys(b.Images)) {
		src := b.Images[c]
		key := src.Repository + "\x00" + src.Tags
		lr, ok := latest[key]
		if !ok {
			lr.img, lr.err = ecrimages.Newest(ctx, r.ECR, r.Region, src.Repository, src.Policy())
			latest[key] = lr
		}
		if errors.Is(lr.err, ecrimages.ErrNoEligibleImage) {
			rep.Skipped[b.Name] = lr.err.Error()
			continue
		}
		if lr.err != nil {
			return nil, lr.err
		}
		cur, ok := revision.Image(td.TaskDefinition, tags, c)
		if !ok {
			rep.Skipped[b.Name] = fmt.Sprintf("container %s is not in the running revision %s", c, tdARN)
			continue
		}
		if _, _, poisoned := tags.PushedAtAsOf(c, r.now()); poisoned {
			// A mark from an event time that was not true orders nothing
			// (issue 10 item 3): the running image's push time is unknown.
			cur.PushedAt = time.Time{}
		}
		if serviceTags.RolledBack(c, lr.img.Digest) {
			// The circuit breaker rolled this image back: the deployer would
			// skip it, so enqueuing it again would only repeat that.
			rep.Skipped[b.Name] = fmt.Sprintf("container %s: newest image %s was rolled back by the circuit breaker", c, lr.img.Digest)
			continue
		}
		if !behind(cur, lr.img) {
			log.DebugContext(ctx, "up to date", "container", c, "digest", cur.Digest, "outcome", "up to date")
			continue
		}
		if why, err := r.movedBack(ctx, &svc, b, c, lr.img.Digest, &moved); err != nil {
			return nil, err
		} else if why != "" {
			rep.Skipped[b.Name] = why
			log.InfoContext(ctx, "newest image was rolled back", "container", c, "digest", lr.img.Digest, "outcome", "skipped", "reason", why)
			continue
		}
		rep.Behind[b.Name] = append(rep.Behind[b.Name], c)
		log.InfoContext(ctx, "service behind ECR", "container", c, "digest", lr.img.Digest, "running", cur.Digest, "outcome", "enqueue")
		pushes = append(pushes, pushOf(lr.img))
	}
	gated, err := r.gates(ctx, b, &svc, pushes, rep)
	if err != nil {
		return gated, err
	}
	return gated, retainErr
}

// behind reports whether the newest eligible image should replace the one
// running: its digest differs and it was not pushed before the running
// image's pushed-at high-water mark (the deployer never moves a service to
// an older image on its own, so enqueuing one would only be skipped).
func behind(running, newest taskdef.Image) bool {
	if running.Digest == newest.Digest {
		return false
	}
	if running.PushedAt.IsZero() {
		return true
	}
	return newest.PushedAt.Truncate(time.Second).After(running.PushedAt.Truncate(time.Second))
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.New(slog.DiscardHandler)
}
