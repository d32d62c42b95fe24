package track

// The delivery metrics of issue 15 item 4 (DESIGN §13): one embedded
// metric format line per verdict (shared/engine/delivery), printed to
// Deployments.Metrics (the tracker function's stdout, which Lambda sends to
// CloudWatch Logs, where it becomes metrics with no API call).

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/delivery"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// publishMetrics prints the verdict's metrics: a deployment, a failure or
// rollback, and for a SUCCEEDED one its lead time (from the revision's
// newest deckhand:pushed-at tag) and its time to restore (from ECS's
// service-deployment records: delivery.Restore). at is the verdict's time;
// registered is the revision's registration, the bound of the records
// read when the service no longer lists the deployment. A metric that
// cannot be computed or written is logged, never a reason to judge the
// deployment again.
func (d *Deployments) publishMetrics(ctx context.Context, st state, cluster, service string, tags revision.Tags, out events.DeploymentStateChange, at, registered time.Time) {
	if d.Metrics == nil {
		return
	}
	p := delivery.Point{Binding: out.Binding, Verdict: string(out.Status), At: at}
	if out.Status == events.StatusSucceeded {
		p.LeadTime, p.HasLeadTime = delivery.LeadTime(newestPush(tags), at, tags[revision.TagTrigger])
		created := registered
		if dep := deploymentOf(st.service, st.id); dep != nil && dep.CreatedAt != nil {
			created = *dep.CreatedAt
		}
		restore, ok, err := d.restore(ctx, cluster, service, created, at)
		if err != nil {
			d.logger().WarnContext(ctx, "time to restore not measured", "binding", out.Binding, "deployment_id", out.DeploymentID, "error", err)
		}
		p.Restore, p.HasRestore = restore, ok
	}
	d.metricsMu.Lock()
	defer d.metricsMu.Unlock()
	if err := delivery.WriteEMF(d.Metrics, p); err != nil {
		d.logger().WarnContext(ctx, "delivery metrics not written", "binding", out.Binding, "error", err)
	}
}

// restore reads the service's finished deployments created before created,
// newest first, until a successful one, and measures delivery.Restore.
func (d *Deployments) restore(ctx context.Context, cluster, service string, created, at time.Time) (time.Duration, bool, error) {
	in := &ecs.ListServiceDeploymentsInput{
		Cluster: aws.String(cluster), Service: aws.String(service),
		Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusSuccessful,
			types.ServiceDeploymentStatusRollbackSuccessful, types.ServiceDeploymentStatusRollbackFailed},
		CreatedAt: &types.CreatedAt{Before: aws.Time(created)},
	}
	var records []delivery.Record
	for {
		var page *ecs.ListServiceDeploymentsOutput
		err := d.Pacer.Retry(ctx, func() error {
			var err error
			page, err = d.ECS.ListServiceDeployments(ctx, in)
			return err
		})
		if err != nil {
			return 0, false, fmt.Errorf("list service deployments of %s/%s: %w", cluster, service, err)
		}
		done := page.NextToken == nil
		for _, b := range page.ServiceDeployments {
			r := delivery.Record{Verdict: delivery.RecordVerdict(string(b.Status)), CreatedAt: aws.ToTime(b.CreatedAt), FinishedAt: aws.ToTime(b.FinishedAt)}
			records = append(records, r)
			done = done || r.Verdict == delivery.Succeeded
		}
		if done {
			break
		}
		in.NextToken = page.NextToken
	}
	r, ok := delivery.Restore(records, created, at)
	return r, ok, nil
}

// newestPush is the newest deckhand:pushed-at of a revision's containers:
// the push its deployment delivered.
func newestPush(tags revision.Tags) time.Time {
	var newest time.Time
	for k := range tags {
		c, ok := strings.CutPrefix(k, revision.TagPushedAt)
		if !ok {
			continue
		}
		if t, ok := tags.PushedAt(c); ok && t.After(newest) {
			newest = t
		}
	}
	return newest
}

// deploymentOf is the service's deployment id, or nil.
func deploymentOf(svc *types.Service, id string) *types.Deployment {
	if svc == nil {
		return nil
	}
	for i := range svc.Deployments {
		if aws.ToString(svc.Deployments[i].Id) == id {
			return &svc.Deployments[i]
		}
	}
	return nil
}

// verdictTime is when ECS says the deployment reached its state, else the
// event's time.
func verdictTime(ev events.DeploymentEvent) time.Time {
	if !ev.Detail.UpdatedAt.IsZero() {
		return ev.Detail.UpdatedAt
	}
	return ev.Time
}
