package retention

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// maxDelete is how many revisions one DeleteTaskDefinitions call takes.
const maxDelete = 10

// remove deregisters each revision of revs (oldest first; those in inactive
// are INACTIVE already) and then deletes them, ten per
// DeleteTaskDefinitions call, each write paced at Limit and retried on
// throttling and 5xx. A revision whose deregistration failed is not
// deleted. With DryRun nothing is written.
func (p *Pruner) remove(ctx context.Context, binding string, revs []owned, inactive map[string]bool) []Removed {
	out := make([]Removed, len(revs))
	var deletable []int
	for i, r := range revs {
		out[i] = Removed{ARN: r.arn, Revision: r.revision}
		if p.DryRun {
			continue
		}
		if inactive[r.arn] {
			out[i].Deregistered = true
			deletable = append(deletable, i)
			continue
		}
		if err := p.deregister(ctx, r.arn); err != nil {
			out[i].Error = err.Error()
			p.logger().WarnContext(ctx, "deregister revision", "binding", binding, "revision", r.arn, "outcome", "failed", "error", err)
			continue
		}
		out[i].Deregistered = true
		deletable = append(deletable, i)
	}
	for len(deletable) > 0 {
		batch := deletable[:min(maxDelete, len(deletable))]
		deletable = deletable[len(batch):]
		p.delete(ctx, binding, out, batch)
	}
	return out
}

func (p *Pruner) deregister(ctx context.Context, arn string) error {
	if err := p.Pacer.Wait(ctx, p.limit()); err != nil {
		return err
	}
	return p.Pacer.Retry(ctx, func() error {
		_, err := p.ecs(ctx).DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)})
		return err
	})
}

// delete deletes the revisions out[batch] in one call and records each
// one's outcome: ECS answers a revision it cannot delete in failures.
func (p *Pruner) delete(ctx context.Context, binding string, out []Removed, batch []int) {
	arns := make([]string, len(batch))
	for j, i := range batch {
		arns[j] = out[i].ARN
	}
	fail := func(err error) {
		for _, i := range batch {
			out[i].Error = err.Error()
		}
		p.logger().WarnContext(ctx, "delete revisions", "binding", binding, "revisions", arns, "outcome", "failed", "error", err)
	}
	if err := p.Pacer.Wait(ctx, p.limit()); err != nil {
		fail(err)
		return
	}
	var res *ecs.DeleteTaskDefinitionsOutput
	err := p.Pacer.Retry(ctx, func() error {
		var err error
		res, err = p.ecs(ctx).DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: arns})
		return err
	})
	if err != nil {
		fail(err)
		return
	}
	failed := map[string]string{}
	for _, f := range res.Failures {
		failed[aws.ToString(f.Arn)] = aws.ToString(f.Reason)
	}
	for _, i := range batch {
		if why, ok := failed[out[i].ARN]; ok {
			out[i].Error = "DeleteTaskDefinitions: " + why
			p.logger().WarnContext(ctx, "delete revision", "binding", binding, "revision", out[i].ARN, "outcome", "failed", "reason", why)
			continue
		}
		out[i].Deleted = true
		p.logger().InfoContext(ctx, "revision removed by retention", "binding", binding, "revision", out[i].ARN, "outcome", "deleted")
	}
}

// Removals counts the revisions of results deleted (or, dry, to delete).
func Removals(results []Result) int {
	n := 0
	for _, r := range results {
		n += len(r.Removed)
	}
	return n
}
