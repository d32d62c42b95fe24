package ecssim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/google/go-cmp/cmp"
)

// fixtureDetail loads the detail of an event fixture as a generic map.
func fixtureDetail(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Detail map[string]any `json:"detail"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	return env.Detail
}

// asMap round-trips v through JSON.
func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

var (
	deploymentIDRE = regexp.MustCompile(`^ecs-svc/\d{19}$`)
	timestampRE    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
)

func TestDeploymentEventsMatchFixtures(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 1, true, true)
	f.register(t, "web", "repo/web@sha256:bad")
	f.ecs.SetImageHealth("sha256:bad", false)
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2"}`, nil)
	f.clock.Advance(5 * time.Minute)

	fixtures := map[string]string{
		"completed":   "ecs-deployment-state-change-completed.json",
		"in progress": "ecs-deployment-state-change-in-progress.json",
		"failed":      "ecs-deployment-state-change-failed.json",
		"rollback":    "ecs-deployment-state-change-rollback.json",
	}
	reasons := map[string]*regexp.Regexp{
		"in progress": regexp.MustCompile(`^ECS deployment ecs-svc/\d{19} in progress\.$`),
		"completed":   regexp.MustCompile(`^ECS deployment ecs-svc/\d{19} completed\.$`),
		"failed":      regexp.MustCompile(`^ECS deployment circuit breaker: task failed to start\.$`),
		"rollback":    regexp.MustCompile(`^ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/\d{19}\.$`),
	}
	kind := func(m map[string]any) string {
		reason, _ := m["reason"].(string)
		for k, re := range reasons {
			if re.MatchString(reason) {
				return k
			}
		}
		return "unknown reason " + reason
	}
	var seen []string
	for _, ev := range f.rec.all() {
		if ev.DetailType != events.DetailTypeDeploymentStateChange {
			continue // the service's task state changes
		}
		got := asMap(t, ev.Detail)
		k := kind(got)
		seen = append(seen, k)
		want := fixtureDetail(t, fixtures[k])
		if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
			t.Errorf("%s: detail keys (-want +got):\n%s", k, diff)
		}
		if got["eventName"] != want["eventName"] || got["eventType"] != want["eventType"] {
			t.Errorf("%s: eventName/eventType %v/%v, want %v/%v", k, got["eventName"], got["eventType"], want["eventName"], want["eventType"])
		}
		if !deploymentIDRE.MatchString(got["deploymentId"].(string)) || !timestampRE.MatchString(got["updatedAt"].(string)) {
			t.Errorf("%s: deploymentId %v updatedAt %v", k, got["deploymentId"], got["updatedAt"])
		}
	}
	want := []string{"in progress", "completed", "in progress", "failed", "rollback", "completed"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("event sequence (-want +got):\n%s", diff)
	}
}

func TestTaskEventsMatchFixture(t *testing.T) {
	f := newFixture(t)
	f.register(t, "report", reportImage)
	f.ecs.ScriptImage(reportImage, TaskScript{RunFor: time.Minute, ExitCode: 1})
	task := f.run(t, `{"cluster":"prod","taskDefinition":"report","launchType":"FARGATE","startedBy":"deckhand/nightly-report",
		"overrides":{"containerOverrides":[{"name":"report","command":["./report"]}]},`+network+`}`)
	f.clock.Advance(5 * time.Minute)
	evs := f.rec.all()
	last := evs[len(evs)-1]
	if last.DetailType != events.DetailTypeTaskStateChange || !cmp.Equal([]string{task.TaskArn}, last.Resources) {
		t.Fatalf("last event %s %v", last.DetailType, last.Resources)
	}
	got := asMap(t, last.Detail)
	want := fixtureDetail(t, "ecs-task-state-change-stopped.json")
	if diff := cmp.Diff(keys(want), keys(got)); diff != "" {
		t.Errorf("detail keys (-want +got):\n%s", diff)
	}
	gotC := got["containers"].([]any)[0].(map[string]any)
	wantC := want["containers"].([]any)[0].(map[string]any)
	if diff := cmp.Diff(keys(wantC), keys(gotC)); diff != "" {
		t.Errorf("container keys (-want +got):\n%s", diff)
	}
	for _, k := range []string{"lastStatus", "desiredStatus", "stopCode", "stoppedReason", "group", "launchType", "startedBy", "cpu", "memory", "platformVersion"} {
		if got[k] != want[k] {
			t.Errorf("%s = %v, want %v as in the fixture", k, got[k], want[k])
		}
	}
	if gotC["exitCode"] != want["containers"].([]any)[0].(map[string]any)["exitCode"] {
		t.Errorf("exitCode %v", gotC["exitCode"])
	}
	if got["version"] != float64(5) || got["clusterArn"] != want["clusterArn"] {
		t.Errorf("version %v clusterArn %v", got["version"], got["clusterArn"])
	}
	// The typed decoder Deckhand's tracker uses reads it back.
	b, _ := json.Marshal(events.TaskEvent{DetailType: last.DetailType, Source: events.SourceECS, Resources: last.Resources, Detail: last.Detail.(events.ECSTaskStateChange)})
	back, err := events.Decode[events.TaskEvent](b, "task event")
	if err != nil || back.Detail.Overrides.ContainerOverrides[0].Command[0] != "./report" {
		t.Errorf("decode emitted task event: %v %+v", err, back.Detail.Overrides)
	}
}
