package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/delivery"
)

// ReportRequest is what `deckhand report` measures.
type ReportRequest struct {
	// Bindings are the service bindings (all when empty).
	Bindings     []string
	Since, Until time.Time
}

// BindingReport is one binding's (or the fleet's) delivery metrics.
type BindingReport struct {
	Binding     string `json:"binding"`
	Deployments int    `json:"deployments"`
	Failures    int    `json:"failures"`
	Rollbacks   int    `json:"rollbacks"`
	// ChangeFailureRate is Failures / Deployments (absent without any).
	ChangeFailureRate *float64 `json:"changeFailureRate,omitempty"`
	LeadTimesMS       []int64  `json:"leadTimesMs"`
	RestoresMS        []int64  `json:"timesToRestoreMs"`
	// Median lead time and time to restore (absent without any).
	LeadTimeMS      *int64 `json:"leadTimeMedianMs,omitempty"`
	TimeToRestoreMS *int64 `json:"timeToRestoreMedianMs,omitempty"`
	// Error says why the binding could not be read.
	Error string `json:"error,omitempty"`
}

// Report is every binding's delivery metrics over a window, and the
// fleet's.
type Report struct {
	Since    time.Time       `json:"since"`
	Until    time.Time       `json:"until"`
	Bindings []BindingReport `json:"bindings"`
	Fleet    BindingReport   `json:"fleet"`
}

// Report computes the delivery metrics the tracker publishes
// (shared/engine/delivery), after the fact: for each binding, its Deckhand
// revisions (their deckhand: tags give the push times and triggers) and
// ECS's service-deployment records of the service (verdicts, their times,
// the rollbacks restores are measured from). A binding that cannot be read
// has its Error set; the others are reported.
func (e *Env) Report(ctx context.Context, req ReportRequest) (*Report, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return nil, err
	}
	names := req.Bindings
	for _, n := range names {
		if _, err := Binding(m, n); err != nil {
			return nil, err
		}
	}
	if len(names) == 0 {
		for _, s := range m.Services {
			names = append(names, s.Name)
		}
	}
	rep := &Report{Since: req.Since, Until: req.Until, Bindings: []BindingReport{}}
	fleet := delivery.Figures{Binding: "fleet"}
	for _, name := range names {
		deps, records, err := e.DeliveryHistory(ctx, name)
		if err != nil {
			rep.Bindings = append(rep.Bindings, BindingReport{Binding: name, Error: err.Error(), LeadTimesMS: []int64{}, RestoresMS: []int64{}})
			continue
		}
		f := delivery.Compute(name, deps, records, req.Since, req.Until)
		rep.Bindings = append(rep.Bindings, reportOf(f))
		fleet.Deployments += f.Deployments
		fleet.Failures += f.Failures
		fleet.Rollbacks += f.Rollbacks
		fleet.LeadTimes = append(fleet.LeadTimes, f.LeadTimes...)
		fleet.Restores = append(fleet.Restores, f.Restores...)
	}
	rep.Fleet = reportOf(fleet)
	return rep, nil
}

func reportOf(f delivery.Figures) BindingReport {
	r := BindingReport{Binding: f.Binding, Deployments: f.Deployments, Failures: f.Failures, Rollbacks: f.Rollbacks,
		LeadTimesMS: millis(f.LeadTimes), RestoresMS: millis(f.Restores)}
	if f.Deployments > 0 {
		rate := float64(f.Failures) / float64(f.Deployments)
		r.ChangeFailureRate = &rate
	}
	if d, ok := delivery.Median(f.LeadTimes); ok {
		r.LeadTimeMS = aws.Int64(d.Milliseconds())
	}
	if d, ok := delivery.Median(f.Restores); ok {
		r.TimeToRestoreMS = aws.Int64(d.Milliseconds())
	}
	return r
}

func millis(ds []time.Duration) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.Milliseconds()
	}
	return out
}

// deliveryRevisions is how many of a binding's revisions the delivery
// history reads.
const deliveryRevisions = 100

// DeliveryHistory is a binding's deployments of Deckhand revisions as ECS's
// service-deployment records keep them (oldest first), and every record of
// the service the restores are measured from. A record's verdict is its
// status (delivery.RecordVerdict); a STOPPED one is FAILED when the revision
// is marked or seen failed (cli.History), and otherwise was superseded.
func (e *Env) DeliveryHistory(ctx context.Context, binding string) ([]delivery.Deployment, []delivery.Record, error) {
	h, err := e.History(ctx, binding, deliveryRevisions)
	if err != nil {
		return nil, nil, err
	}
	revs := map[string]Revision{}
	for _, r := range h.Revisions {
		revs[r.ARN] = r
	}
	briefs, err := e.serviceDeployments(ctx, h.Cluster, h.Service)
	if err != nil {
		return nil, nil, err
	}
	taskDefs, err := e.revisionTaskDefinitions(ctx, briefs)
	if err != nil {
		return nil, nil, err
	}
	var deps []delivery.Deployment
	var records []delivery.Record
	for _, b := range slices.Backward(briefs) { // oldest first
		verdict := delivery.RecordVerdict(string(b.Status))
		records = append(records, delivery.Record{Verdict: verdict, CreatedAt: aws.ToTime(b.CreatedAt), FinishedAt: aws.ToTime(b.FinishedAt)})
		r, ours := revs[taskDefs[aws.ToString(b.TargetServiceRevisionArn)]]
		if !ours {
			continue
		}
		if b.Status == "STOPPED" && r.Verdict == delivery.Failed {
			verdict = delivery.Failed
		}
		deps = append(deps, delivery.Deployment{Revision: r.ARN, Trigger: r.Trigger, Verdict: verdict, PushedAt: newestPush(r),
			CreatedAt: aws.ToTime(b.CreatedAt), FinishedAt: aws.ToTime(b.FinishedAt)})
	}
	return deps, records, nil
}

// newestPush is the newest push time among a revision's containers: the
// push its deployment delivered (the tracker reads the same tags).
func newestPush(r Revision) time.Time {
	var t time.Time
	for _, img := range r.Images {
		if img.PushedAt.After(t) {
			t = img.PushedAt
		}
	}
	return t
}

// serviceDeployments are ECS's records of the service's deployments,
// newest first.
func (e *Env) serviceDeployments(ctx context.Context, cluster, service string) ([]ecstypes.ServiceDeploymentBrief, error) {
	in := &ecs.ListServiceDeploymentsInput{Cluster: aws.String(cluster), Service: aws.String(service)}
	var out []ecstypes.ServiceDeploymentBrief
	for {
		page, err := e.ECS.ListServiceDeployments(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list service deployments of %s/%s: %w", cluster, service, err)
		}
		out = append(out, page.ServiceDeployments...)
		if page.NextToken == nil {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// revisionTaskDefinitions maps the service revisions the records target
// to their task definitions, 20 a call.
func (e *Env) revisionTaskDefinitions(ctx context.Context, briefs []ecstypes.ServiceDeploymentBrief) (map[string]string, error) {
	var arns []string
	for _, b := range briefs {
		if a := aws.ToString(b.TargetServiceRevisionArn); a != "" && !slices.Contains(arns, a) {
			arns = append(arns, a)
		}
	}
	out := map[string]string{}
	for batch := range slices.Chunk(arns, 20) {
		res, err := e.ECS.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: batch})
		if err != nil {
			return nil, fmt.Errorf("describe service revisions: %w", err)
		}
		for _, r := range res.ServiceRevisions {
			out[aws.ToString(r.ServiceRevisionArn)] = aws.ToString(r.TaskDefinition)
		}
	}
	return out, nil
}
