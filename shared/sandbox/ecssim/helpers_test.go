package ecssim

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

var t0 = time.Date(2026, 11, 16, 1, 0, 0, 0, time.UTC)

// emitted is one event passed to Config.Emit.
type emitted struct {
	DetailType string
	Resources  []string
	Detail     any
}

// recorder collects emitted events.
type recorder struct {
	mu     sync.Mutex
	events []emitted
}

func (r *recorder) emit(detailType string, resources []string, detail any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, emitted{detailType, resources, detail})
}

func (r *recorder) all() []emitted {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]emitted(nil), r.events...)
}

// deployments returns the deployment state changes, in order.
func (r *recorder) deployments() []events.ECSDeploymentStateChange {
	var out []events.ECSDeploymentStateChange
	for _, ev := range r.all() {
		if d, ok := ev.Detail.(events.ECSDeploymentStateChange); ok {
			out = append(out, d)
		}
	}
	return out
}

// tasks returns the task state changes of taskARN, in order.
func (r *recorder) tasks(taskARN string) []events.ECSTaskStateChange {
	var out []events.ECSTaskStateChange
	for _, ev := range r.all() {
		if d, ok := ev.Detail.(events.ECSTaskStateChange); ok && d.TaskARN == taskARN {
			out = append(out, d)
		}
	}
	return out
}

type fixture struct {
	ecs   *ECS
	clock *vclock.Clock
	rec   *recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: vclock.New(t0), rec: &recorder{}}
	f.ecs = New(Config{Account: "123456789012", Region: "us-west-2", Clock: f.clock, Emit: f.rec.emit})
	f.call(t, "CreateCluster", `{"clusterName":"prod"}`, nil)
	return f
}

// call runs op and decodes the response into out (when not nil). It fails
// the test on error.
func (f *fixture) call(t *testing.T, op, body string, out any) {
	t.Helper()
	resp, err := f.ecs.Handle(context.Background(), op, []byte(body))
	if err != nil {
		t.Fatalf("%s %s: %v", op, body, err)
	}
	if out == nil {
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatalf("%s: encode response: %v", op, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: decode response %s: %v", op, b, err)
	}
}

// fail runs op, which must fail, and returns the AWS error.
func (f *fixture) fail(t *testing.T, op, body string) *awsproto.Error {
	t.Helper()
	_, err := f.ecs.Handle(context.Background(), op, []byte(body))
	var ae *awsproto.Error
	if !errors.As(err, &ae) {
		t.Fatalf("%s %s: got error %v, want *awsproto.Error", op, body, err)
	}
	return ae
}

// register registers a one-container task definition and returns its ARN.
func (f *fixture) register(t *testing.T, family, image string) string {
	t.Helper()
	var out struct {
		TaskDefinition struct {
			TaskDefinitionArn string `json:"taskDefinitionArn"`
		} `json:"taskDefinition"`
	}
	body, _ := json.Marshal(map[string]any{
		"family": family, "networkMode": "awsvpc", "cpu": "256", "memory": "512",
		"requiresCompatibilities": []string{"FARGATE"},
		"containerDefinitions":    []map[string]any{{"name": family, "image": image}},
	})
	f.call(t, "RegisterTaskDefinition", string(body), &out)
	return out.TaskDefinition.TaskDefinitionArn
}

const network = `"networkConfiguration":{"awsvpcConfiguration":{"subnets":["subnet-1"],"securityGroups":["sg-1"]}}`
