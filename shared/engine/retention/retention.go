// Package retention removes Deckhand's old task-definition revisions
// (DESIGN §13, issue 15 item 3): beyond the newest `retention: { keep: N }`
// revisions Deckhand registered for a binding, it deregisters and then
// deletes (DeleteTaskDefinitions) the oldest ones, paced within ECS's rate,
// and never one of these (rules.go):
//
//   - a revision Deckhand did not register for the binding (its
//     deckhand:binding tag names another binding, or nothing);
//   - the serving revision, and every revision one of the service's
//     deployments runs (an in-flight deployment, and the one ECS's circuit
//     breaker, an alarm or a lifecycle hook would roll it back to);
//   - the revision `deckhand rollback` would return to: the newest of the
//     binding's revisions older than the serving one;
//   - a revision whose approval is pending (deckhand:approval=pending).
//
// The reconciler runs it on every pass (reconcile.Reconciler.Retention) and
// `deckhand prune` by hand; both call Pruner.Binding, the one
// implementation.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// ECSAPI is the part of the ECS client retention uses; *ecs.Client
// implements it.
type ECSAPI interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	DeregisterTaskDefinition(ctx context.Context, in *ecs.DeregisterTaskDefinitionInput, optFns ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
	DeleteTaskDefinitions(ctx context.Context, in *ecs.DeleteTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.DeleteTaskDefinitionsOutput, error)
}

var _ ECSAPI = (*ecs.Client)(nil)

// Rate paces retention's writes (DeregisterTaskDefinition and
// DeleteTaskDefinitions): half of ECS's task-definition write rate
// (revision.RegisterRate, 1 a second sustained), so that when AWS counts
// them in one bucket with RegisterTaskDefinition the deployer keeps the
// other half; a small burst, so a backlog drains over time rather than in
// one pass.
const (
	Rate  = revision.RegisterRate / 2.0
	Burst = 5
)

// DefaultMaxRemovals bounds the revisions one Pruner removes per Run (a
// reconciler pass): a backlog drains over several passes.
const DefaultMaxRemovals = 20

// DefaultScan is how many of a family's newest ACTIVE revisions a pass
// looks at (one ListTaskDefinitions page). With retention on, Deckhand's
// revisions beyond keep are removed pass after pass, so they are always
// among the newest; Sweep looks at all.
const DefaultScan = 100

// Pruner removes old revisions. Build it once per process: it remembers
// which revisions are Deckhand's (a revision's deckhand:binding tag never
// changes), so a warm pass describes only revisions it has not seen. It is
// safe for concurrent use.
type Pruner struct {
	ECS ECSAPI
	// Pacer retries throttled and 5xx calls and paces writes on its clock.
	Pacer revision.Pacer
	// Limit paces the writes (default Rate, Burst; revision.Unlimited()
	// for the sandbox, which paces with its own buckets).
	Limit *rate.Limiter
	// MaxRemovals bounds the revisions removed per Run (default
	// DefaultMaxRemovals; negative: no bound).
	MaxRemovals int
	// Sweep looks at every ACTIVE revision of a family, and at its
	// INACTIVE ones (left by an earlier delete that failed), instead of
	// the newest DefaultScan ACTIVE ones: what `deckhand prune` does.
	Sweep bool
	// DryRun decides without writing: Binding reports what it would remove.
	DryRun bool
	// Keep, when positive, replaces every binding's retention (deckhand
	// prune --keep).
	Keep int
	// Logger receives one line per removal (default: discard).
	Logger *slog.Logger

	once sync.Once
	mu   sync.Mutex
	tags map[string]revision.Tags // ARN → the revision's tags (immutable but for approval)
}

// Result is what retention decided for one binding.
type Result struct {
	Binding string `json:"binding"`
	Family  string `json:"family,omitempty"`
	Keep    int    `json:"keep"`
	Serving string `json:"serving,omitempty"`
	// Kept are Deckhand's revisions kept: the newest Keep, and older ones
	// a rule protects, each with why.
	Kept []Kept `json:"kept,omitempty"`
	// Removed are the revisions deregistered and deleted (with DryRun:
	// those that would be), oldest first.
	Removed []Removed `json:"removed,omitempty"`
	// Deferred counts revisions past keep left for a later pass
	// (MaxRemovals reached).
	Deferred int `json:"deferred,omitempty"`
	// Skipped says why the binding was not pruned (no retention, no
	// service).
	Skipped string `json:"skipped,omitempty"`
}

// Kept is a revision retention keeps, and why.
type Kept struct {
	ARN      string `json:"arn"`
	Revision int    `json:"revision"`
	Why      string `json:"why"`
}

// Removed is a revision retention removed.
type Removed struct {
	ARN      string `json:"arn"`
	Revision int    `json:"revision"`
	// Deregistered and Deleted say which writes succeeded (both false with
	// DryRun). A revision deregistered whose delete failed is INACTIVE: a
	// Sweep deletes it later.
	Deregistered bool `json:"deregistered"`
	Deleted      bool `json:"deleted"`
	// Error is why a write failed.
	Error string `json:"error,omitempty"`
}

// Binding applies the binding's retention (manifest.RetentionOf) to the
// family of the revision svc serves. budget, when not nil, is the number
// of revisions this call may still remove; it is decremented. A binding
// without retention is skipped. Errors are AWS errors reading the family;
// a failed write is reported in the result (and logged) and the rest go
// on.
func (p *Pruner) Binding(ctx context.Context, m *manifest.Manifest, b *manifest.Service, svc *types.Service, budget *int) (Result, error) {
	res := Result{Binding: b.Name}
	keep, ok := m.RetentionOf(b)
	if p.Keep > 0 {
		keep, ok = p.Keep, true
	}
	if !ok {
		res.Skipped = "no retention: set retention: { keep: N }"
		return res, nil
	}
	res.Keep = keep
	if svc == nil || aws.ToString(svc.Status) == "INACTIVE" {
		res.Skipped = fmt.Sprintf("service %s/%s not found", b.Cluster, b.Service)
		return res, nil
	}
	res.Serving = revision.OfService(*svc)
	family, servingRev := taskdef.SplitARN(res.Serving)
	res.Family = family
	revs, err := p.ours(ctx, b.Name, family)
	if err != nil {
		return res, err
	}
	plan := decide(revs, keep, protections(svc, servingRev, revs))
	res.Kept = plan.kept
	remove := plan.remove
	if budget != nil && *budget >= 0 && len(remove) > *budget {
		res.Deferred = len(remove) - *budget
		remove = remove[:*budget] // the oldest first
	}
	if budget != nil && *budget >= 0 {
		*budget -= len(remove)
	}
	res.Removed = p.remove(ctx, b.Name, remove, plan.inactive)
	return res, nil
}

// owned is one of Deckhand's revisions of a binding.
type owned struct {
	arn      string
	revision int
	tags     revision.Tags
	inactive bool // INACTIVE already (a Sweep found it): delete only
}

// ours lists the family's revisions Deckhand registered for binding, newest
// first: the newest DefaultScan ACTIVE ones, or with Sweep every ACTIVE
// and INACTIVE one.
func (p *Pruner) ours(ctx context.Context, binding, family string) ([]owned, error) {
	statuses := []types.TaskDefinitionStatus{types.TaskDefinitionStatusActive}
	if p.Sweep {
		statuses = append(statuses, types.TaskDefinitionStatusInactive)
	}
	var out []owned
	for _, status := range statuses {
		arns, err := p.list(ctx, family, status)
		if err != nil {
			return nil, err
		}
		for _, arn := range arns {
			tags, err := p.tagsOf(ctx, arn)
			if err != nil {
				return nil, err
			}
			if tags[revision.TagBinding] != binding {
				continue // not Deckhand's, or another binding's: never touched
			}
			_, n := taskdef.SplitARN(arn)
			out = append(out, owned{arn: arn, revision: n, tags: tags, inactive: status == types.TaskDefinitionStatusInactive})
		}
	}
	slices.SortFunc(out, func(a, b owned) int { return b.revision - a.revision })
	return out, nil
}

// list returns the family's revisions with status, newest first: one page
// of DefaultScan, or every page with Sweep. FamilyPrefix also matches
// longer families (web-canary for web); those are left out.
func (p *Pruner) list(ctx context.Context, family string, status types.TaskDefinitionStatus) ([]string, error) {
	in := &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family), Status: status, Sort: types.SortOrderDesc}
	if !p.Sweep {
		in.MaxResults = aws.Int32(DefaultScan)
	}
	var out []string
	for {
		var page *ecs.ListTaskDefinitionsOutput
		err := p.Pacer.Retry(ctx, func() error {
			var err error
			page, err = p.ecs(ctx).ListTaskDefinitions(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list %s revisions of %s: %w", status, family, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			if f, _ := taskdef.SplitARN(arn); f == family {
				out = append(out, arn)
			}
		}
		if !p.Sweep || aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// tagsOf returns a revision's tags, described once per process: a
// revision's content and deckhand:binding never change. The approval tag
// can (the gates' approve and reject); protections read it from here, and a
// cached pending only keeps a revision longer.
func (p *Pruner) tagsOf(ctx context.Context, arn string) (revision.Tags, error) {
	p.mu.Lock()
	tags, ok := p.tags[arn]
	p.mu.Unlock()
	if ok {
		return tags, nil
	}
	var out *ecs.DescribeTaskDefinitionOutput
	err := p.Pacer.Retry(ctx, func() error {
		var err error
		out, err = p.ecs(ctx).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String(arn), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe task definition %s: %w", arn, err)
	}
	tags = revision.TagsOf(out.Tags)
	p.mu.Lock()
	if p.tags == nil {
		p.tags = map[string]revision.Tags{}
	}
	p.tags[arn] = tags
	p.mu.Unlock()
	return tags, nil
}

func (p *Pruner) limit() *rate.Limiter {
	p.once.Do(func() {
		if p.Limit == nil {
			p.Limit = rate.NewLimiter(Rate, Burst)
		}
	})
	return p.Limit
}

func (p *Pruner) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}
