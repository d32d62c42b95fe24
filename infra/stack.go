package main

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// DeckhandStackProps configures NewDeckhandStack.
type DeckhandStackProps struct {
	awscdk.StackProps
	Config   Config
	Manifest *manifest.Manifest
}

// stack carries what the parts of the Deckhand stack share while it is built.
// Each file adds one part (storage, functions, deploy path, tracker,
// schedules, operations); IAM lives in iam.go.
type stack struct {
	awscdk.Stack
	cfg Config
	m   *manifest.Manifest

	bucket awss3.Bucket
	bus    awsevents.IEventBus
	fns    map[string]awslambda.Function

	deployQueue awssqs.Queue
	jobQueue    awssqs.Queue
	deployDLQ   awssqs.Queue
	topic       awssns.Topic
	// dlqs are every dead-letter queue, by construct id, for the alarms.
	dlqs []awssqs.Queue
}

// NewDeckhandStack builds everything in DESIGN §1 and §9 for one manifest:
// the bucket, the four functions, the deploy path, the tracker rules, the
// schedules, least-privilege IAM and the alarms and dashboard.
func NewDeckhandStack(scope constructs.Construct, id string, props *DeckhandStackProps) awscdk.Stack {
	s := &stack{
		Stack: awscdk.NewStack(scope, &id, &props.StackProps),
		cfg:   props.Config,
		m:     props.Manifest,
		fns:   map[string]awslambda.Function{},
	}
	s.bus = awsevents.EventBus_FromEventBusName(s.Stack, jsii.String("Bus"), jsii.String(s.cfg.EventBus))

	s.addStorage()
	s.addFunctions()
	s.addPartsEnvironment()
	s.addSnapshot()
	s.addDeployPath()
	s.addTracker()
	s.addJobQueue()
	s.addSchedules()
	s.grantAll()
	s.addOperations()
	s.suppressNag()
	return s.Stack
}

// arn builds an ARN in this stack's account, Region and partition.
func (s *stack) arn(service, resource, name string) *string {
	return s.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String(service),
		Resource:     jsii.String(resource),
		ResourceName: jsii.String(name),
	})
}

// hubScope is the hub's own ECS scope: the clusters of services and jobs
// without a target, and the roles in no target's account (or in the hub's).
func (s *stack) hubScope() ecsScope {
	targetAccounts := map[string]bool{}
	for _, t := range s.m.Targets {
		targetAccounts[t.Account] = t.Account != s.cfg.HubAccount
	}
	var roles []string
	for _, r := range s.m.Roles {
		if !targetAccounts[manifest.RoleAccount(r)] {
			roles = append(roles, r)
		}
	}
	return ecsScope{arn: s.arn, clusters: s.m.ClustersIn(""), roles: roles}
}

// maxListedRepositories bounds the repository ARNs a statement lists, so a
// fleet's function policies stay well within IAM's 10,240 characters per
// role (docs/quotas.md) and CDK never moves statements into overflow
// managed policies, which the role's cdk-nag suppressions would not reach:
// beyond it, repositories are granted by namespace (repository/<ns>/*),
// and beyond that as repository/* (ecr:DescribeImages only).
const maxListedRepositories = 20

// repositoryARNs are the ARNs of the manifest's ECR repositories: each, or
// by namespace, or all, whichever is the first to fit maxListedRepositories.
func (s *stack) repositoryARNs() []*string {
	repos := s.m.Repositories()
	names := repos
	if len(names) > maxListedRepositories {
		set := map[string]bool{}
		for _, r := range repos {
			if ns, _, ok := strings.Cut(r, "/"); ok {
				set[ns+"/*"] = true
			} else {
				set[r] = true
			}
		}
		names = slices.Sorted(maps.Keys(set))
	}
	if len(names) > maxListedRepositories {
		names = []string{"*"}
	}
	var out []*string
	for _, r := range names {
		out = append(out, s.arn("ecr", "repository", r))
	}
	return out
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9]+`)

// constructID turns a manifest name (repository, job) into a readable
// construct id: "team/web-api" becomes "TeamWebApi".
func constructID(name string) string {
	var b strings.Builder
	for _, part := range unsafeID.Split(name, -1) {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func strs(ss []string) *[]*string { return jsii.Strings(ss...) }
