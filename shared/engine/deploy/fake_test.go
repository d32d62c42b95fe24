package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// fakeECS is an in-memory ECS that records every call. Func fields inject
// failures per operation.
type fakeECS struct {
	mu       sync.Mutex
	calls    []string
	services map[string]*types.Service // "cluster/service"
	defs     map[string][]*ecs.DescribeTaskDefinitionOutput
	deps     int
	// fail returns an error for an operation before it runs, or nil.
	fail func(op string, n int) error
	// throttleFamily makes every register of that family throttle.
	throttleFamily string
	// failAfter returns an error after an operation ran (a crash after a
	// successful write).
	failAfter func(op string) error
	// clock moves one second per write: revisions' registeredAt and
	// deployments' createdAt.
	clock time.Time
}

func (f *fakeECS) tick() time.Time {
	if f.clock.IsZero() {
		f.clock = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	}
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

func newFakeECS() *fakeECS {
	return &fakeECS{services: map[string]*types.Service{}, defs: map[string][]*ecs.DescribeTaskDefinitionOutput{}}
}

func (f *fakeECS) record(op string) error {
	f.calls = append(f.calls, op)
	if f.fail != nil {
		n := 0
		for _, c := range f.calls {
			if c == op {
				n++
			}
		}
		return f.fail(op, n)
	}
	return nil
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

func (f *fakeECS) writes() int { return f.count("RegisterTaskDefinition") + f.count("UpdateService") }

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: code + " (fake)"} }

func (f *fakeECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("DescribeServices"); err != nil {
		return nil, err
	}
	out := &ecs.DescribeServicesOutput{}
	for _, name := range in.Services {
		if s, ok := f.services[aws.ToString(in.Cluster)+"/"+name]; ok {
			out.Services = append(out.Services, *s)
		} else {
			out.Failures = append(out.Failures, types.Failure{Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("DescribeTaskDefinition"); err != nil {
		return nil, err
	}
	ref := aws.ToString(in.TaskDefinition)
	ref = ref[strings.LastIndex(ref, "/")+1:]
	family, rev, hasRev := strings.Cut(ref, ":")
	revs := f.defs[family]
	if len(revs) == 0 {
		return nil, &smithy.GenericAPIError{Code: "ClientException", Message: "Unable to describe task definition."}
	}
	if !hasRev {
		return revs[len(revs)-1], nil
	}
	for _, d := range revs {
		if fmt.Sprint(d.TaskDefinition.Revision) == rev {
			return d, nil
		}
	}
	return nil, &smithy.GenericAPIError{Code: "ClientException", Message: "Unable to describe task definition."}
}

func (f *fakeECS) ListTaskDefinitions(_ context.Context, in *ecs.ListTaskDefinitionsInput, _ ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListTaskDefinitions"); err != nil {
		return nil, err
	}
	out := &ecs.ListTaskDefinitionsOutput{}
	for family, revs := range f.defs {
		if !strings.HasPrefix(family, aws.ToString(in.FamilyPrefix)) {
			continue
		}
		for i := len(revs) - 1; i >= 0; i-- {
			out.TaskDefinitionArns = append(out.TaskDefinitionArns, aws.ToString(revs[i].TaskDefinition.TaskDefinitionArn))
		}
	}
	return out, nil
}

func (f *fakeECS) RegisterTaskDefinition(_ context.Context, in *ecs.RegisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("RegisterTaskDefinition"); err != nil {
		return nil, err
	}
	if aws.ToString(in.Family) == f.throttleFamily {
		return nil, apiErr("ThrottlingException")
	}
	td := f.register(in)
	if f.failAfter != nil {
		if err := f.failAfter("RegisterTaskDefinition"); err != nil {
			return nil, err
		}
	}
	return &ecs.RegisterTaskDefinitionOutput{TaskDefinition: td.TaskDefinition, Tags: td.Tags}, nil
}

func (f *fakeECS) register(in *ecs.RegisterTaskDefinitionInput) *ecs.DescribeTaskDefinitionOutput {
	family := aws.ToString(in.Family)
	rev := int32(len(f.defs[family]) + 1)
	td := &ecs.DescribeTaskDefinitionOutput{
		TaskDefinition: &types.TaskDefinition{
			TaskDefinitionArn:    aws.String(fmt.Sprintf("arn:aws:ecs:us-west-2:123456789012:task-definition/%s:%d", family, rev)),
			Family:               in.Family,
			Revision:             rev,
			ContainerDefinitions: in.ContainerDefinitions,
			RegisteredAt:         aws.Time(f.tick()),
		},
		Tags: in.Tags,
	}
	f.defs[family] = append(f.defs[family], td)
	return td
}

func (f *fakeECS) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("UpdateService"); err != nil {
		return nil, err
	}
	s, ok := f.services[aws.ToString(in.Cluster)+"/"+aws.ToString(in.Service)]
	if !ok {
		return nil, apiErr("ServiceNotFoundException")
	}
	f.deps++
	s.TaskDefinition = in.TaskDefinition
	s.DeploymentConfiguration = in.DeploymentConfiguration
	s.Deployments = []types.Deployment{{Id: aws.String(fmt.Sprintf("ecs-svc/%019d", f.deps)), Status: aws.String("PRIMARY"), TaskDefinition: in.TaskDefinition,
		RolloutState: types.DeploymentRolloutStateInProgress, CreatedAt: aws.Time(f.tick())}}
	return &ecs.UpdateServiceOutput{Service: s}, nil
}

// addService creates a service running a new revision of family with the
// given container images (a revision registered outside Deckhand: no tags).
func (f *fakeECS) addService(cluster, name, family string, images map[string]string, tags ...types.Tag) {
	in := &ecs.RegisterTaskDefinitionInput{Family: aws.String(family)}
	for _, c := range slices.Sorted(maps.Keys(images)) {
		in.ContainerDefinitions = append(in.ContainerDefinitions, types.ContainerDefinition{Name: aws.String(c), Image: aws.String(images[c])})
	}
	td := f.register(in)
	f.services[cluster+"/"+name] = &types.Service{
		ServiceName: aws.String(name), Status: aws.String("ACTIVE"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, Tags: tags,
	}
}

func (f *fakeECS) running(cluster, name string) *ecs.DescribeTaskDefinitionOutput {
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := aws.ToString(f.services[cluster+"/"+name].TaskDefinition)
	ref := arn[strings.LastIndex(arn, "/")+1:]
	family, rev, _ := strings.Cut(ref, ":")
	for _, d := range f.defs[family] {
		if fmt.Sprint(d.TaskDefinition.Revision) == rev {
			return d
		}
	}
	return nil
}

// fakeSource serves a manifest and templates from memory.
type fakeSource struct {
	manifest  string
	templates map[string]string
	version   string
}

func (s *fakeSource) Manifest(context.Context) (*manifest.Manifest, error) {
	return manifest.Parse("deckhand.yaml", []byte(s.manifest))
}

func (s *fakeSource) Template(_ context.Context, key string) (store.Template, error) {
	b, ok := s.templates[key]
	if !ok {
		return store.Template{}, fmt.Errorf("template %s: %w", key, store.ErrNotFound)
	}
	v := s.version
	if v == "" {
		v = "v1"
	}
	return store.Template{Key: key, Body: []byte(b), Version: key + "@" + v}, nil
}

// fakeEvents records emitted events.
type fakeEvents struct {
	mu  sync.Mutex
	evs []emit.Event
	err error // returned by every Put when set
	put int
}

func (f *fakeEvents) Put(_ context.Context, evs ...emit.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.put++
	if f.err != nil {
		return f.err
	}
	f.evs = append(f.evs, evs...)
	return nil
}

var noSleep = func(context.Context, time.Duration) error { return nil }
