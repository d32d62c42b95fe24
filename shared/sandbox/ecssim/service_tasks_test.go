package ecssim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// taskView is what the tests read of a DescribeTasks task.
type taskView struct {
	TaskArn           string `json:"taskArn"`
	TaskDefinitionArn string `json:"taskDefinitionArn"`
	LastStatus        string `json:"lastStatus"`
	DesiredStatus     string `json:"desiredStatus"`
	StartedBy         string `json:"startedBy"`
	Group             string `json:"group"`
	LaunchType        string `json:"launchType"`
	StopCode          string `json:"stopCode"`
}

// listTasks lists task ARNs with a ListTasks body.
func (f *fixture) listTasks(t *testing.T, body string) []string {
	t.Helper()
	var out struct {
		TaskArns []string `json:"taskArns"`
	}
	f.call(t, "ListTasks", body, &out)
	return out.TaskArns
}

// describeTasks describes up to 100 tasks of cluster prod.
func (f *fixture) describeTaskList(t *testing.T, arns []string) ([]taskView, []failure) {
	t.Helper()
	var out struct {
		Tasks    []taskView `json:"tasks"`
		Failures []failure  `json:"failures"`
	}
	body, _ := json.Marshal(map[string]any{"cluster": "prod", "tasks": arns})
	f.call(t, "DescribeTasks", string(body), &out)
	return out.Tasks, out.Failures
}

// clusterCounts returns DescribeClusters' running and pending task counts
// of prod.
func (f *fixture) clusterCounts(t *testing.T) [2]int32 {
	t.Helper()
	var out struct {
		Clusters []wireCluster `json:"clusters"`
	}
	f.call(t, "DescribeClusters", `{"clusters":["prod"]}`, &out)
	return [2]int32{out.Clusters[0].RunningTasksCount, out.Clusters[0].PendingTasksCount}
}

// taskSummary is a task reduced to what a rollout changes.
func summary(ts []taskView) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s %s %s %s %s", t.TaskDefinitionArn[strings.LastIndex(t.TaskDefinitionArn, "/")+1:],
			t.LastStatus, t.StartedBy, t.Group, t.StopCode))
	}
	slices.Sort(out)
	return out
}

// TestServiceTasksAreTasksConsistentWithEveryCount pins that a service's
// tasks are task objects: listed by ListTasks (by service, by startedBy,
// by cluster), described by DescribeTasks, started by their deployment
// ("ecs-svc/…") in group "service:<name>", named in the service events,
// counted alike by DescribeServices and DescribeClusters, and replaced on
// a rollout (the old ones STOPPED by the scheduler).
//
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html (startedBy, group)
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
func TestServiceTasksAreTasksConsistentWithEveryCount(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 2, true, true)
	first := f.describeWeb(t).Deployments[0].ID
	running := f.listTasks(t, `{"cluster":"prod","serviceName":"web"}`)
	tasks, failures := f.describeTaskList(t, running)
	want := []string{"web:1 RUNNING " + first + " service:web ", "web:1 RUNNING " + first + " service:web "}
	if diff := cmp.Diff(want, summary(tasks)); diff != "" || len(failures) != 0 {
		t.Errorf("service tasks (-want +got):\n%s\nfailures %v", diff, failures)
	}
	if got := f.listTasks(t, `{"cluster":"prod","startedBy":"`+first+`"}`); !slices.Equal(got, running) {
		t.Errorf("ListTasks startedBy %s = %v, want %v", first, got, running)
	}
	if got := f.listTasks(t, `{"cluster":"prod"}`); !slices.Equal(got, running) {
		t.Errorf("ListTasks of the cluster = %v, want the service's %v", got, running)
	}
	events := f.describeWeb(t).Events
	started := ""
	for _, ev := range events {
		if strings.Contains(ev.Message, "has started 2 tasks") {
			started = ev.Message
		}
	}
	for _, arn := range running {
		if !strings.Contains(started, "(task "+taskID(arn)+")") {
			t.Errorf("service event %q does not name task %s", started, taskID(arn))
		}
	}
	if got := f.clusterCounts(t); got != [2]int32{2, 0} {
		t.Errorf("cluster running/pending = %v, want [2 0]", got)
	}

	f.register(t, "web", "repo/web@sha256:next")
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2"}`, nil)
	second := f.describeWeb(t).Deployments[0].ID
	steps := []struct {
		after            time.Duration
		running, pending int32
		listed, stopped  int
		serviceRunning   int32
	}{
		{0, 2, 2, 4, 0, 2},
		{10 * time.Second, 4, 0, 4, 0, 4},
		{30 * time.Second, 2, 0, 2, 2, 2},
	}
	for _, st := range steps {
		f.clock.Advance(st.after)
		listed := f.listTasks(t, `{"cluster":"prod","serviceName":"web"}`)
		stopped := f.listTasks(t, `{"cluster":"prod","serviceName":"web","desiredStatus":"STOPPED"}`)
		got := []any{f.clusterCounts(t), len(listed), len(stopped), f.describeWeb(t).RunningCount}
		if diff := cmp.Diff([]any{[2]int32{st.running, st.pending}, st.listed, st.stopped, st.serviceRunning}, got); diff != "" {
			t.Errorf("after +%s: cluster counts, listed, stopped, service running (-want +got):\n%s", st.after, diff)
		}
	}
	now, _ := f.describeTaskList(t, f.listTasks(t, `{"cluster":"prod","serviceName":"web"}`))
	old, _ := f.describeTaskList(t, running)
	want = []string{"web:2 RUNNING " + second + " service:web ", "web:2 RUNNING " + second + " service:web "}
	if diff := cmp.Diff(want, summary(now)); diff != "" {
		t.Errorf("tasks after the rollout (-want +got):\n%s", diff)
	}
	want = []string{"web:1 STOPPED " + first + " service:web ServiceSchedulerInitiated", "web:1 STOPPED " + first + " service:web ServiceSchedulerInitiated"}
	if diff := cmp.Diff(want, summary(old)); diff != "" {
		t.Errorf("replaced tasks (-want +got):\n%s", diff)
	}
}

// TestServiceTasksOnRollback pins the tasks of a circuit-breaker rollback:
// every failed attempt is a task STOPPED with TaskFailedToStart, and the
// tasks that run afterwards belong to the rollback deployment and run the
// last completed revision.
//
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
func TestServiceTasksOnRollback(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 2, true, true)
	f.register(t, "web", "repo/web@sha256:bad")
	f.ecs.SetImageHealth("repo/web@sha256:bad", false)
	f.call(t, "UpdateService", `{"cluster":"prod","service":"web","taskDefinition":"web:2"}`, nil)
	f.clock.Advance(2 * time.Minute)
	svc := f.describeWeb(t)
	if len(svc.Deployments) != 1 || svc.TaskDefinition != td("web:1") {
		t.Fatalf("after the rollback: deployments %+v", svc.Deployments)
	}
	rollback := svc.Deployments[0].ID
	now, _ := f.describeTaskList(t, f.listTasks(t, `{"cluster":"prod","serviceName":"web"}`))
	want := []string{"web:1 RUNNING " + rollback + " service:web ", "web:1 RUNNING " + rollback + " service:web "}
	if diff := cmp.Diff(want, summary(now)); diff != "" {
		t.Errorf("tasks after the rollback (-want +got):\n%s", diff)
	}
	stopped, _ := f.describeTaskList(t, f.listTasks(t, `{"cluster":"prod","serviceName":"web","desiredStatus":"STOPPED"}`))
	failed := 0
	for _, task := range stopped {
		if task.StopCode == "TaskFailedToStart" && strings.HasSuffix(task.TaskDefinitionArn, "web:2") {
			failed++
		}
	}
	if failed != int(breakerThreshold(2)) {
		t.Errorf("%d web:2 tasks stopped with TaskFailedToStart, want the breaker threshold %d; stopped: %v",
			failed, breakerThreshold(2), summary(stopped))
	}
	if got := f.clusterCounts(t); got != [2]int32{2, 0} {
		t.Errorf("cluster running/pending = %v, want [2 0]", got)
	}
}

// TestStopTaskOnAServiceTaskStartsAReplacement pins the scheduler's answer
// to a stopped service task: it goes through the task lifecycle to STOPPED
// (UserInitiated) and the service starts another one.
//
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html
func TestStopTaskOnAServiceTaskStartsAReplacement(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 2, true, true)
	running := f.listTasks(t, `{"cluster":"prod","serviceName":"web"}`)
	f.call(t, "StopTask", `{"cluster":"prod","task":"`+running[0]+`"}`, nil)
	f.clock.Advance(time.Minute)
	gone, _ := f.describeTaskList(t, running[:1])
	now := f.listTasks(t, `{"cluster":"prod","serviceName":"web"}`)
	if gone[0].LastStatus != "STOPPED" || gone[0].StopCode != "UserInitiated" || len(now) != 2 || slices.Contains(now, running[0]) {
		t.Errorf("stopped task %+v; service tasks now %v (want 2 without it)", gone[0], now)
	}
	if got := f.describeWeb(t).RunningCount; got != 2 {
		t.Errorf("running count %d, want 2", got)
	}
}

// TestStoppedServiceTasksAreKeptBounded pins the retention of stopped
// service tasks: at most maxStoppedServiceTasks per service stay
// describable; older ones are MISSING, as ECS forgets stopped tasks.
func TestStoppedServiceTasksAreKeptBounded(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 2, true, true)
	first := f.listTasks(t, `{"cluster":"prod","serviceName":"web"}`)
	for range maxStoppedServiceTasks {
		f.call(t, "UpdateService", `{"cluster":"prod","service":"web","forceNewDeployment":true}`, nil)
		f.clock.Advance(time.Minute)
	}
	if got := len(f.listTasks(t, `{"cluster":"prod","serviceName":"web","desiredStatus":"STOPPED","maxResults":100}`)); got != maxStoppedServiceTasks {
		t.Errorf("%d stopped tasks listed, want %d", got, maxStoppedServiceTasks)
	}
	if _, failures := f.describeTaskList(t, first); len(failures) != 2 || failures[0].Reason != "MISSING" {
		t.Errorf("first tasks: failures %v, want both MISSING", failures)
	}
	if got := len(f.ecs.tasks); got > maxStoppedServiceTasks+2 {
		t.Errorf("%d tasks kept, want at most %d", got, maxStoppedServiceTasks+2)
	}
}

// TestSupersededDeploymentsAreDropped pins AWS-sized answers while the
// clock stands still: a deployment superseded before it started any task
// is dropped (its pending tasks stopped), so fifty updates leave the
// PRIMARY and the serving deployment, and the UpdateService answer stays
// small.
//
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html
func TestSupersededDeploymentsAreDropped(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 2, true, true)
	serving := f.describeWeb(t).Deployments[0].ID
	var size int
	for i := range 50 {
		f.register(t, "web", fmt.Sprintf("repo/web@sha256:%02d", i))
		resp, err := f.ecs.Handle(t.Context(), "UpdateService", []byte(fmt.Sprintf(`{"cluster":"prod","service":"web","taskDefinition":"web:%d"}`, i+2)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(resp)
		size = len(b)
	}
	svc := f.describeWeb(t)
	var got []string
	for _, d := range svc.Deployments {
		got = append(got, d.Status+" "+d.TaskDefinition[strings.LastIndex(d.TaskDefinition, "/")+1:])
	}
	if diff := cmp.Diff([]string{"PRIMARY web:51", "ACTIVE web:1"}, got); diff != "" || svc.Deployments[1].ID != serving {
		t.Errorf("deployments (-want +got):\n%s", diff)
	}
	if size > 16<<10 {
		t.Errorf("UpdateService answer is %d bytes, want an AWS-sized answer under 16 KiB", size)
	}
	if got := f.clusterCounts(t); got != [2]int32{2, 2} {
		t.Errorf("cluster running/pending = %v, want [2 2]: the serving tasks and the new deployment's", got)
	}
	f.clock.Advance(time.Minute)
	if got := f.describeWeb(t); len(got.Deployments) != 1 || got.RunningCount != 2 || len(got.Events) > maxServiceEvents {
		t.Errorf("after a minute: %d deployments, running %d, %d events", len(got.Deployments), got.RunningCount, len(got.Events))
	}
}

// TestUpdateServiceOnADeletedService pins ECS's error for updating an
// INACTIVE service: ServiceNotActiveException; a service that never
// existed is ServiceNotFoundException.
//
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html#API_UpdateService_Errors
func TestUpdateServiceOnADeletedService(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 1, true, true)
	f.call(t, "DeleteService", `{"cluster":"prod","service":"web","force":true}`, nil)
	draining := f.fail(t, "UpdateService", `{"cluster":"prod","service":"web","desiredCount":1}`).Code
	f.clock.Advance(time.Minute)
	inactive := f.fail(t, "UpdateService", `{"cluster":"prod","service":"web","desiredCount":1}`).Code
	missing := f.fail(t, "UpdateService", `{"cluster":"prod","service":"nope","desiredCount":1}`).Code
	want := []string{"ServiceNotActiveException", "ServiceNotActiveException", "ServiceNotFoundException"}
	if diff := cmp.Diff(want, []string{draining, inactive, missing}); diff != "" {
		t.Errorf("draining, inactive, missing (-want +got):\n%s", diff)
	}
	if got := f.listTasks(t, `{"cluster":"prod","desiredStatus":"RUNNING"}`); len(got) != 0 {
		t.Errorf("tasks of the deleted service still running: %v", got)
	}
}

// TestManagedTags pins --enable-ecs-managed-tags: RunTask tasks get
// aws:ecs:clusterName, service tasks aws:ecs:clusterName and
// aws:ecs:serviceName.
//
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html#managed-tags
func TestManagedTags(t *testing.T) {
	f := newFixture(t)
	f.register(t, "web", "repo/web@sha256:good")
	f.call(t, "CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web:1","desiredCount":1,
		"enableECSManagedTags":true,"propagateTags":"SERVICE","tags":[{"key":"team","value":"a"}],`+network+`}`, nil)
	var run struct {
		Tasks []struct {
			TaskArn string `json:"taskArn"`
		} `json:"tasks"`
	}
	f.call(t, "RunTask", `{"cluster":"prod","taskDefinition":"web:1","enableECSManagedTags":true,`+network+`}`, &run)
	tags := func(arn string) map[string]string {
		var out struct {
			Tags []tag `json:"tags"`
		}
		f.call(t, "ListTagsForResource", `{"resourceArn":"`+arn+`"}`, &out)
		return tagMap(out.Tags)
	}
	svcTask := f.listTasks(t, `{"cluster":"prod","serviceName":"web"}`)
	got := map[string]map[string]string{"run task": tags(run.Tasks[0].TaskArn), "service task": tags(svcTask[0])}
	want := map[string]map[string]string{
		"run task":     {"aws:ecs:clusterName": "prod"},
		"service task": {"aws:ecs:clusterName": "prod", "aws:ecs:serviceName": "web", "team": "a"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("task tags (-want +got):\n%s", diff)
	}
}

// TestUpdatesFasterThanRolloutsKeepTheServingDeployment pins the scheduler
// under updates that come faster than rollouts complete: each update scales
// in the previous, unfinished deployment, so the service keeps the PRIMARY
// and the deployment serving before them, and never runs more than
// maximumPercent (200%) of its tasks.
//
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
func TestUpdatesFasterThanRolloutsKeepTheServingDeployment(t *testing.T) {
	f := newFixture(t)
	createWeb(t, f, 2, true, true)
	serving := f.describeWeb(t).Deployments[0].ID
	most := [2]int32{}
	for i := range 10 {
		f.register(t, "web", fmt.Sprintf("repo/web@sha256:%02d", i))
		f.call(t, "UpdateService", fmt.Sprintf(`{"cluster":"prod","service":"web","taskDefinition":"web:%d"}`, i+2), nil)
		f.clock.Advance(30 * time.Second) // tasks started, not yet healthy
		if got := f.clusterCounts(t); got[0] > most[0] {
			most = got
		}
		svc := f.describeWeb(t)
		if len(svc.Deployments) != 2 || svc.Deployments[1].ID != serving {
			t.Fatalf("update %d: deployments %+v, want the PRIMARY and %s", i, svc.Deployments, serving)
		}
	}
	if most[0] > 4 {
		t.Errorf("up to %d tasks ran, want at most 4 (200%% of 2)", most[0])
	}
	f.clock.Advance(time.Minute)
	if got := f.describeWeb(t); len(got.Deployments) != 1 || got.TaskDefinition != td("web:11") || got.RunningCount != 2 {
		t.Errorf("after the last rollout: %d deployments on %s, running %d", len(got.Deployments), got.TaskDefinition, got.RunningCount)
	}
}
