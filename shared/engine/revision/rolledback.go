package revision

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// MovedBackFrom is the rolled-back check's evidence in ECS, for when the
// tracker's rolled-back marks are missing (issue 10 item 2): the service
// was moved back off Deckhand's newest revision of the binding. latest is
// the family's latest revision and svc the service (whose task definition
// is the serving one). It holds when
//
//   - latest is Deckhand's revision for binding, in the serving revision's
//     family, and newer than the serving revision;
//   - it was deployed: it is not a gated revision that waits, or waited
//     in vain, for approval (deckhand:approval other than approved);
//   - it is not in flight: no deployment of it is in progress;
//   - the service was moved back off it: a deployment of it is listed as
//     FAILED, or the deployment serving now was created after latest was
//     registered (a register whose update never happened leaves the serving
//     deployment older than the revision, and a redelivered push then
//     deploys it).
//
// It returns the marks the tracker would have written
// (RolledBackMarks of latest): the digests not to deploy again on their own.
func MovedBackFrom(svc *types.Service, latest *ecs.DescribeTaskDefinitionOutput, binding string) (Tags, bool) {
	if svc == nil || latest == nil || latest.TaskDefinition == nil {
		return nil, false
	}
	tags := TagsOf(latest.Tags)
	arn := aws.ToString(latest.TaskDefinition.TaskDefinitionArn)
	serving := OfService(*svc)
	family, rev := taskdef.SplitARN(arn)
	servingFamily, servingRev := taskdef.SplitARN(serving)
	if tags[TagBinding] != binding || family != servingFamily || rev <= servingRev {
		return nil, false
	}
	if a := tags[TagApproval]; a != "" && a != ApprovalApproved {
		return nil, false // a gated revision never deployed (DESIGN §11)
	}
	failed := false
	for _, d := range svc.Deployments {
		if aws.ToString(d.TaskDefinition) != arn {
			continue
		}
		switch d.RolloutState {
		case types.DeploymentRolloutStateInProgress:
			return nil, false
		case types.DeploymentRolloutStateFailed:
			failed = true
		}
	}
	if !failed {
		reg := latest.TaskDefinition.RegisteredAt
		primary := primaryOf(svc)
		if reg == nil || primary == nil || primary.CreatedAt == nil || !primary.CreatedAt.After(*reg) {
			return nil, false
		}
	}
	marks := RolledBackMarks(tags)
	return marks, len(marks) > 0
}

// FailedRevisions are the task definitions of the deployments ECS lists as
// FAILED for the service, other than the serving one, in the serving
// revision's family, once each, in the order listed. ECS lists a failed
// deployment while its rollback runs: every such revision was moved back
// from, and its digests (RolledBackMarks) are not to be deployed again on
// their own, whether or not the tracker has written its mark yet. An
// alarm in ALARM fails every deployment that starts while it fires, so
// there can be several, and the family's latest revision (MovedBackFrom)
// need not be the only one.
func FailedRevisions(svc *types.Service) []string {
	if svc == nil {
		return nil
	}
	serving := OfService(*svc)
	family, _ := taskdef.SplitARN(serving)
	var out []string
	for _, d := range svc.Deployments {
		arn := aws.ToString(d.TaskDefinition)
		if f, _ := taskdef.SplitARN(arn); d.RolloutState != types.DeploymentRolloutStateFailed || arn == serving || f != family || slices.Contains(out, arn) {
			continue
		}
		out = append(out, arn)
	}
	return out
}

// primaryOf is the service's PRIMARY deployment, or nil.
func primaryOf(svc *types.Service) *types.Deployment {
	for i := range svc.Deployments {
		if aws.ToString(svc.Deployments[i].Status) == "PRIMARY" {
			return &svc.Deployments[i]
		}
	}
	return nil
}
