package deploy

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/emit"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
)

// The call graph of a deployment: which calls the engine has in flight at
// once and which wait for which. Every call is held at a gate until the
// test releases it, and testing/synctest's Wait returns once every
// goroutine of the engine is blocked, so what is in flight then is exactly
// what the engine could start without another answer: no clock, no
// timing, no machine speed.

// callGate holds calls until they are released.
type callGate struct {
	mu   sync.Mutex
	held map[string][]chan struct{}
}

func newGate() *callGate { return &callGate{held: map[string][]chan struct{}{}} }

// pass blocks the calling call, named op, until it is released. A nil
// pass lets every call through.
func (g *callGate) pass(op string) {
	if g == nil {
		return
	}
	ch := make(chan struct{})
	g.mu.Lock()
	g.held[op] = append(g.held[op], ch)
	g.mu.Unlock()
	<-ch
}

// inFlight lists the held calls, sorted (a call held twice twice).
func (g *callGate) inFlight() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, op := range slices.Sorted(maps.Keys(g.held)) {
		for range g.held[op] {
			out = append(out, op)
		}
	}
	return out
}

// release lets every held call named op go on; ops nil releases all.
func (g *callGate) release(ops ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ops == nil {
		ops = slices.Collect(maps.Keys(g.held))
	}
	for _, op := range ops {
		for _, ch := range g.held[op] {
			close(ch)
		}
		delete(g.held, op)
	}
}

// gatedECS passes every call through the gate, then to the fake.
type gatedECS struct {
	g *callGate
	*fakeECS
}

func (e gatedECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	e.g.pass("ecs:DescribeServices")
	return e.fakeECS.DescribeServices(ctx, in, o...)
}

func (e gatedECS) DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, o ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	ref := aws.ToString(in.TaskDefinition)
	e.g.pass("ecs:DescribeTaskDefinition " + ref[strings.LastIndex(ref, "/")+1:])
	return e.fakeECS.DescribeTaskDefinition(ctx, in, o...)
}

func (e gatedECS) ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, o ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	e.g.pass("ecs:ListTaskDefinitions")
	return e.fakeECS.ListTaskDefinitions(ctx, in, o...)
}

func (e gatedECS) RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, o ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	e.g.pass("ecs:RegisterTaskDefinition")
	return e.fakeECS.RegisterTaskDefinition(ctx, in, o...)
}

func (e gatedECS) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, o ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	e.g.pass("ecs:UpdateService")
	return e.fakeECS.UpdateService(ctx, in, o...)
}

// gatedS3 is a bucket that answers If-None-Match like S3, behind the gate.
type gatedS3 struct {
	g       *callGate
	mu      sync.Mutex
	objects map[string]string
}

func (s *gatedS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	op := "s3:GET " + key
	if in.IfNoneMatch != nil {
		op += " (If-None-Match)"
	}
	s.g.pass(op)
	s.mu.Lock()
	body, ok := s.objects[key]
	s.mu.Unlock()
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey"}
	}
	etag := fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(body)))
	if aws.ToString(in.IfNoneMatch) == etag {
		return nil, &smithy.GenericAPIError{Code: "NotModified"}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(body)), ETag: aws.String(etag)}, nil
}

// gatedEvents passes PutEvents through the gate.
type gatedEvents struct {
	g *callGate
	*fakeEvents
}

func (e gatedEvents) Put(ctx context.Context, evs ...emit.Event) error {
	e.g.pass("events:PutEvents")
	return e.fakeEvents.Put(ctx, evs...)
}

// graphWorld is the engine test world with every call gated and the
// manifest and templates in a bucket, as the deployer reads them.
type graphWorld struct {
	*world
	g      *callGate
	bucket *gatedS3
	src    *store.S3
}

// bucketObjects are the world's manifest and templates, by key.
func bucketObjects() map[string]string {
	return map[string]string{"deckhand.yaml": testManifest, "templates/web.json": webTemplate, "templates/api.json": apiTemplate}
}

// newGraphWorld builds the world; snapshot says whether the deployer was
// deployed with a snapshot of the bucket (the CDK app's layer).
func newGraphWorld(snapshot bool) *graphWorld {
	var snap map[string]string
	if snapshot {
		snap = bucketObjects()
	}
	return newBucketWorld(newGate(), snap)
}

// newBucketWorld builds the world with the manifest and templates in a
// bucket behind g (nil: no gate) and the deployment's snapshot (nil: none).
func newBucketWorld(g *callGate, snapshot map[string]string) *graphWorld {
	gw := &graphWorld{world: newWorld(), g: g, bucket: &gatedS3{g: g, objects: bucketObjects()}}
	gw.src = store.NewS3(gw.bucket, "deckhand", "deckhand.yaml")
	if snapshot != nil {
		snap := fstest.MapFS{}
		for k, v := range snapshot {
			snap[k] = &fstest.MapFile{Data: []byte(v)}
		}
		gw.src.Snapshot = snap
	}
	gw.engine = gw.newEngine()
	return gw
}

func (gw *graphWorld) newEngine() *Engine {
	e := gw.freshEngine()
	e.ECS, e.Source, e.Events = gatedECS{gw.g, gw.ecs}, gw.src, gatedEvents{gw.g, gw.events}
	e.RegisterLimit, e.UpdateLimit = rate.NewLimiter(rate.Inf, 1), rate.NewLimiter(rate.Inf, 1)
	return e
}

// steps deploys ps, releasing every call in flight each time the engine
// can start no other, and returns what was in flight at each step.
func (gw *graphWorld) steps(t *testing.T, ps ...Push) ([][]string, []Outcome) {
	t.Helper()
	var out []Outcome
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, err = gw.engine.Deploy(context.Background(), ps)
	}()
	var steps [][]string
	for {
		synctest.Wait()
		in := gw.g.inFlight()
		if len(in) == 0 {
			break
		}
		steps = append(steps, in)
		gw.g.release()
	}
	<-done
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	return steps, out
}

const (
	getManifest    = "s3:GET deckhand.yaml"
	getTemplate    = "s3:GET templates/web.json"
	revalManifest  = getManifest + " (If-None-Match)"
	revalTemplate  = getTemplate + " (If-None-Match)"
	describeSvc    = "ecs:DescribeServices"
	describeFamily = "ecs:DescribeTaskDefinition web"
	register       = "ecs:RegisterTaskDefinition"
	update         = "ecs:UpdateService"
	putEvents      = "events:PutEvents"
)

func TestDeploymentCallGraph(t *testing.T) {
	tests := map[string]struct {
		snapshot bool
		// before runs before the measured deployment (outside the gate's
		// count: its calls are released as they come).
		before func(t *testing.T, gw *graphWorld)
		want   [][]string
	}{
		"a cold start with the deployment's snapshot reads the manifest, the template, the service and the family's latest at once": {
			snapshot: true,
			want: [][]string{
				{describeSvc, describeFamily, getManifest, getTemplate},
				{register}, {update}, {putEvents},
			},
		},
		"a warm invocation revalidates the manifest and the template beside the service, and remembers the revision it registered": {
			before: func(t *testing.T, gw *graphWorld) { gw.steps(t, push("web", "1.4.0", digestA, 0)) },
			want: [][]string{
				{describeSvc, revalManifest, revalTemplate},
				{register}, {update}, {putEvents},
			},
		},
		"a cold start without a snapshot waits for the manifest, then for the service's revision": {
			want: [][]string{
				{getManifest},
				{describeSvc, getTemplate},
				{"ecs:DescribeTaskDefinition web", "ecs:DescribeTaskDefinition web:1"},
				{register}, {update}, {putEvents},
			},
		},
		"when the service runs another revision than its family's latest, it is read after the service": {
			snapshot: true,
			before: func(t *testing.T, gw *graphWorld) {
				gw.ecs.mu.Lock()
				defer gw.ecs.mu.Unlock()
				gw.ecs.register(&ecs.RegisterTaskDefinitionInput{Family: aws.String("web")}) // web:2, never deployed
			},
			want: [][]string{
				{describeSvc, describeFamily, getManifest, getTemplate},
				{"ecs:DescribeTaskDefinition web:1"},
				{register}, {update}, {putEvents},
			},
		},
		"when the bucket's manifest is not the snapshot's, the reads made under the snapshot are made again": {
			snapshot: true,
			before: func(t *testing.T, gw *graphWorld) {
				gw.bucket.objects["deckhand.yaml"] = strings.Replace(testManifest, "circuitBreaker: on", "circuitBreaker: off", 1)
			},
			want: [][]string{
				{describeSvc, describeFamily, getManifest, getTemplate},
				{describeSvc, describeFamily}, // the template's GET is shared (store.Once)
				{register}, {update}, {putEvents},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				gw := newGraphWorld(tc.snapshot)
				if tc.before != nil {
					tc.before(t, gw)
				}
				got, out := gw.steps(t, push("web", "1.5.0", digestB, time.Minute))
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("calls in flight, step by step (-want +got):\n%s", diff)
				}
				if len(out) != 1 || out[0].Event.Status != events.StatusStarted {
					t.Errorf("outcomes = %+v, want one STARTED", out)
				}
			})
		})
	}
}

// TestRegisterWaitsForEveryRead holds back one of the cold start's first
// reads at a time: the register must wait for each (it needs the manifest,
// the template, the hold tag and the running revision), and nothing else
// may start while it waits.
func TestRegisterWaitsForEveryRead(t *testing.T) {
	for _, last := range []string{getManifest, getTemplate, describeSvc, describeFamily} {
		t.Run("the register waits for "+last, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				gw := newGraphWorld(true)
				done := make(chan struct{})
				go func() {
					defer close(done)
					if _, err := gw.engine.Deploy(context.Background(), []Push{push("web", "1.5.0", digestB, 0)}); err != nil {
						t.Errorf("Deploy: %v", err)
					}
				}()
				synctest.Wait()
				for _, op := range gw.g.inFlight() {
					if op != last {
						gw.g.release(op)
					}
				}
				synctest.Wait()
				if diff := cmp.Diff([]string{last}, gw.g.inFlight()); diff != "" {
					t.Errorf("in flight while %s is held (-want +got):\n%s", last, diff)
				}
				gw.g.release(last)
				synctest.Wait()
				if diff := cmp.Diff([]string{register}, gw.g.inFlight()); diff != "" {
					t.Errorf("in flight once %s answered (-want +got):\n%s", last, diff)
				}
				for {
					gw.g.release()
					synctest.Wait()
					if len(gw.g.inFlight()) == 0 {
						break
					}
				}
				<-done
			})
		})
	}
}
