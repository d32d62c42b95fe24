package revision

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// fakeECS keeps revisions per family and records calls. fail returns an
// error for the nth call of an operation before it runs; failAfter one
// after it ran (a write whose answer was lost).
type fakeECS struct {
	mu        sync.Mutex
	calls     []string
	defs      map[string][]*ecs.DescribeTaskDefinitionOutput
	fail      func(op string, n int) error
	failAfter func(op string, n int) error
	updated   []*ecs.UpdateServiceInput
}

func newFake() *fakeECS { return &fakeECS{defs: map[string][]*ecs.DescribeTaskDefinitionOutput{}} }

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

var errNoTaskDefinition = apiErr("ClientException", "Unable to describe task definition.")

func (f *fakeECS) record(op string) (int, error) {
	f.calls = append(f.calls, op)
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	if f.fail != nil {
		return n, f.fail(op, n)
	}
	return n, nil
}

// add registers a revision of family with tags, as another process would.
func (f *fakeECS) add(family string, tags Tags) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.register(&ecs.RegisterTaskDefinitionInput{Family: aws.String(family), Tags: tags.ECS()})
}

func (f *fakeECS) register(in *ecs.RegisterTaskDefinitionInput) string {
	family := aws.ToString(in.Family)
	rev := int32(len(f.defs[family]) + 1)
	arn := fmt.Sprintf("arn:aws:ecs:us-west-2:123456789012:task-definition/%s:%d", family, rev)
	f.defs[family] = append(f.defs[family], &ecs.DescribeTaskDefinitionOutput{
		TaskDefinition: &types.TaskDefinition{TaskDefinitionArn: aws.String(arn), Family: in.Family, Revision: rev},
		Tags:           in.Tags,
	})
	return arn
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.record("DescribeTaskDefinition"); err != nil {
		return nil, err
	}
	ref := aws.ToString(in.TaskDefinition)
	family, rev, hasRev := strings.Cut(ref[strings.LastIndex(ref, "/")+1:], ":")
	revs := f.defs[family]
	if len(revs) == 0 {
		return nil, errNoTaskDefinition
	}
	if !hasRev {
		return revs[len(revs)-1], nil
	}
	for _, d := range revs {
		if fmt.Sprint(d.TaskDefinition.Revision) == rev {
			return d, nil
		}
	}
	return nil, errNoTaskDefinition
}

func (f *fakeECS) ListTaskDefinitions(_ context.Context, in *ecs.ListTaskDefinitionsInput, _ ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.record("ListTaskDefinitions"); err != nil {
		return nil, err
	}
	var arns []string // newest first, as Sort DESC asks
	for family, revs := range f.defs {
		if !strings.HasPrefix(family, aws.ToString(in.FamilyPrefix)) {
			continue
		}
		for _, d := range slices.Backward(revs) {
			arns = append(arns, aws.ToString(d.TaskDefinition.TaskDefinitionArn))
		}
	}
	return &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: arns}, nil
}

func (f *fakeECS) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.record("RegisterTaskDefinition")
	if err != nil {
		return nil, err
	}
	f.register(in)
	if f.failAfter != nil {
		if err := f.failAfter("RegisterTaskDefinition", n); err != nil {
			return nil, err
		}
	}
	d := f.defs[aws.ToString(in.Family)]
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: d[len(d)-1].TaskDefinition, Tags: in.Tags}, nil
}

func (f *fakeECS) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.record("UpdateService"); err != nil {
		return nil, err
	}
	f.updated = append(f.updated, in)
	return &ecs.UpdateServiceOutput{Service: &types.Service{Deployments: []types.Deployment{
		{Id: aws.String("ecs-svc/1"), Status: aws.String("PRIMARY"), TaskDefinition: in.TaskDefinition},
		{Id: aws.String("ecs-svc/0"), Status: aws.String("ACTIVE"), TaskDefinition: aws.String("other")},
	}}}, nil
}

func (f *fakeECS) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == op {
			n++
		}
	}
	return n
}

// noSleep records the waits instead of sleeping.
type sleeps struct{ waited []time.Duration }

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.waited = append(s.waited, d)
	return nil
}
