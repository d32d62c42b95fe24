package ecssim

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// An Emit that calls back into the emulator must neither deadlock nor
// reorder events: the nested call's events follow the one that caused them.
func TestReentrantEmitKeepsCausalOrder(t *testing.T) {
	clock := vclock.New(t0)
	var (
		e     *ECS
		order []string
	)
	emit := func(detailType string, _ []string, detail any) {
		d, ok := detail.(events.ECSDeploymentStateChange)
		if !ok {
			return
		}
		order = append(order, d.EventName)
		if d.EventName == events.DeploymentCompleted && len(order) == 2 {
			// A tracker reacting to the first completion deploys again.
			if _, err := e.Handle(context.Background(), "UpdateService", []byte(`{"cluster":"prod","service":"web","forceNewDeployment":true}`)); err != nil {
				t.Errorf("nested UpdateService: %v", err)
			}
			order = append(order, "nested call returned")
		}
	}
	e = New(Config{Account: "123456789012", Region: "us-west-2", Clock: clock, Emit: emit})
	f := &fixture{ecs: e, clock: clock, rec: &recorder{}}
	f.call(t, "CreateCluster", `{"clusterName":"prod"}`, nil)
	createWeb(t, f, 1, true, true)
	clock.Advance(time.Minute)
	want := []string{events.DeploymentInProgress, events.DeploymentCompleted, "nested call returned", events.DeploymentInProgress, events.DeploymentCompleted}
	if fmt.Sprint(want) != fmt.Sprint(order) {
		t.Errorf("order %v, want %v", order, want)
	}
}

// Requests and clock advances race freely; run with -race.
func TestConcurrentRequestsAndClock(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 2, true, true)
	f.register(t, "report", reportImage)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				ctx := context.Background()
				body := fmt.Sprintf(`{"cluster":"prod","taskDefinition":"report","clientToken":"t-%d-%d",%s}`, i, j, network)
				if _, err := f.ecs.Handle(ctx, "RunTask", []byte(body)); err != nil {
					t.Errorf("RunTask: %v", err)
				}
				if _, err := f.ecs.Handle(ctx, "UpdateService", []byte(`{"cluster":"prod","service":"web","forceNewDeployment":true}`)); err != nil {
					t.Errorf("UpdateService: %v", err)
				}
				if _, err := f.ecs.Handle(ctx, "ListTasks", []byte(`{"cluster":"prod"}`)); err != nil {
					t.Errorf("ListTasks: %v", err)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			f.clock.Advance(3 * time.Second)
		}
	}()
	wg.Wait()
	f.clock.Advance(10 * time.Minute)
	if n := len(f.ecs.Tasks()); n != 40 {
		t.Errorf("%d tasks, want 40", n)
	}
	for _, task := range f.ecs.Tasks() {
		if task.LastStatus != "STOPPED" {
			t.Errorf("task %s is %s after 10 minutes", task.ARN, task.LastStatus)
		}
	}
	svc, _ := f.ecs.Service("prod", "web")
	if svc.Deployments[0].RolloutState != "COMPLETED" || svc.RunningCount != 2 {
		t.Errorf("service after the storm: %+v", svc.Deployments[0])
	}
}
