package ecssim

import (
	"strings"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/google/go-cmp/cmp"
)

const reportImage = "123456789012.dkr.ecr.us-west-2.amazonaws.com/report@sha256:74b2"

type describedContainer struct {
	Name        string `json:"name"`
	LastStatus  string `json:"lastStatus"`
	ExitCode    *int32 `json:"exitCode"`
	Reason      string `json:"reason"`
	ImageDigest string `json:"imageDigest"`
}

type describedTask struct {
	TaskArn       string               `json:"taskArn"`
	LastStatus    string               `json:"lastStatus"`
	DesiredStatus string               `json:"desiredStatus"`
	Group         string               `json:"group"`
	StartedBy     string               `json:"startedBy"`
	StopCode      string               `json:"stopCode"`
	StoppedReason string               `json:"stoppedReason"`
	Version       int64                `json:"version"`
	StartedAt     *float64             `json:"startedAt"`
	Containers    []describedContainer `json:"containers"`
	Tags          []tag                `json:"tags"`
}

type runOut struct {
	Tasks    []describedTask `json:"tasks"`
	Failures []failure       `json:"failures"`
}

const runReport = `{"cluster":"prod","taskDefinition":"report","launchType":"FARGATE","startedBy":"deckhand/nightly-report",` + network + `}`

func (f *fixture) run(t *testing.T, body string) describedTask {
	t.Helper()
	var out runOut
	f.call(t, "RunTask", body, &out)
	if len(out.Tasks) != 1 {
		t.Fatalf("RunTask %s: %d tasks, failures %v", body, len(out.Tasks), out.Failures)
	}
	return out.Tasks[0]
}

func (f *fixture) describeTask(t *testing.T, arn string) describedTask {
	t.Helper()
	var out runOut
	f.call(t, "DescribeTasks", `{"cluster":"prod","tasks":["`+arn+`"],"include":["TAGS"]}`, &out)
	if len(out.Tasks) != 1 {
		t.Fatalf("DescribeTasks %s: failures %v", arn, out.Failures)
	}
	return out.Tasks[0]
}

type transition struct {
	Status  string
	Version int64
	At      time.Time
}

func transitions(evs []events.ECSTaskStateChange) []transition {
	var out []transition
	for _, ev := range evs {
		out = append(out, transition{ev.LastStatus, ev.Version, *ev.UpdatedAt})
	}
	return out
}

func int32p(v int32) *int32 { return &v }

func TestTaskLifecycleAndExitCodes(t *testing.T) {
	tests := map[string]struct {
		script      TaskScript
		stop        func(t *testing.T, f *fixture, arn string) // after RUNNING; nil lets it run
		want        []transition                               // times relative to t0 as offsets
		wantStop    describedTask
		wantExit    *int32
		wantReason  string
		wantStarted bool
	}{
		"runs for the scripted time and exits with the scripted code": {
			script: TaskScript{RunFor: 2 * time.Minute, ExitCode: 1},
			want: []transition{{"PROVISIONING", 1, t0}, {"PENDING", 2, t0.Add(5 * time.Second)}, {"RUNNING", 3, t0.Add(15 * time.Second)},
				{"DEPROVISIONING", 4, t0.Add(135 * time.Second)}, {"STOPPED", 5, t0.Add(140 * time.Second)}},
			wantStop:    describedTask{StopCode: "EssentialContainerExited", StoppedReason: "Essential container in task exited"},
			wantExit:    int32p(1),
			wantStarted: true,
		},
		"a start failure stops the task without running": {
			script: TaskScript{StartFailure: "CannotPullContainerError: pull image manifest has been retried 5 time(s)"},
			want: []transition{{"PROVISIONING", 1, t0}, {"PENDING", 2, t0.Add(5 * time.Second)},
				{"DEPROVISIONING", 3, t0.Add(15 * time.Second)}, {"STOPPED", 4, t0.Add(20 * time.Second)}},
			wantStop:   describedTask{StopCode: "TaskFailedToStart", StoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)"},
			wantReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
		},
		"StopTask stops with UserInitiated and exit code 143": {
			stop: func(t *testing.T, f *fixture, arn string) {
				var out struct {
					Task describedTask `json:"task"`
				}
				f.call(t, "StopTask", `{"cluster":"prod","task":"`+arn+`","reason":"deckhand: job timed out"}`, &out)
				if out.Task.DesiredStatus != "STOPPED" || out.Task.LastStatus != "RUNNING" {
					t.Errorf("StopTask response: desired %s last %s", out.Task.DesiredStatus, out.Task.LastStatus)
				}
			},
			want: []transition{{"PROVISIONING", 1, t0}, {"PENDING", 2, t0.Add(5 * time.Second)}, {"RUNNING", 3, t0.Add(15 * time.Second)},
				{"DEPROVISIONING", 4, t0.Add(17 * time.Second)}, {"STOPPED", 5, t0.Add(22 * time.Second)}},
			wantStop:    describedTask{StopCode: "UserInitiated", StoppedReason: "deckhand: job timed out"},
			wantExit:    int32p(143),
			wantStarted: true,
		},
		"FinishTask exits now with the given code": {
			stop: func(t *testing.T, f *fixture, arn string) {
				if err := f.ecs.FinishTask(arn, map[string]int32{"report": 3}); err != nil {
					t.Fatal(err)
				}
			},
			want: []transition{{"PROVISIONING", 1, t0}, {"PENDING", 2, t0.Add(5 * time.Second)}, {"RUNNING", 3, t0.Add(15 * time.Second)},
				{"DEPROVISIONING", 4, t0.Add(15 * time.Second)}, {"STOPPED", 5, t0.Add(20 * time.Second)}},
			wantStop:    describedTask{StopCode: "EssentialContainerExited", StoppedReason: "Essential container in task exited"},
			wantExit:    int32p(3),
			wantStarted: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.register(t, "report", reportImage)
			f.ecs.ScriptImage("sha256:74b2", tc.script)
			task := f.run(t, runReport)
			if task.LastStatus != "PROVISIONING" || task.Version != 1 || task.Group != "family:report" || task.StartedBy != "deckhand/nightly-report" {
				t.Errorf("RunTask response: %+v", task)
			}
			f.clock.Advance(15 * time.Second)
			if tc.stop != nil {
				tc.stop(t, f, task.TaskArn)
			}
			for range 30 {
				f.clock.Advance(5 * time.Second)
			}
			if diff := cmp.Diff(tc.want, transitions(f.rec.tasks(task.TaskArn))); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
			got := f.describeTask(t, task.TaskArn)
			if got.LastStatus != "STOPPED" || got.DesiredStatus != "STOPPED" || got.StopCode != tc.wantStop.StopCode || got.StoppedReason != tc.wantStop.StoppedReason {
				t.Errorf("stopped task: %+v", got)
			}
			wantC := []describedContainer{{Name: "report", LastStatus: "STOPPED", ExitCode: tc.wantExit, Reason: tc.wantReason, ImageDigest: "sha256:74b2"}}
			if diff := cmp.Diff(wantC, got.Containers); diff != "" {
				t.Errorf("containers (-want +got):\n%s", diff)
			}
			if (got.StartedAt != nil) != tc.wantStarted {
				t.Errorf("startedAt %v, want set=%t", got.StartedAt, tc.wantStarted)
			}
			last := f.rec.tasks(task.TaskArn)
			if ev := last[len(last)-1]; ev.StopCode != tc.wantStop.StopCode || !cmp.Equal(ev.Containers[0].ExitCode, tc.wantExit) {
				t.Errorf("STOPPED event: stopCode %s exit %v", ev.StopCode, ev.Containers[0].ExitCode)
			}
		})
	}
}

func TestFinishTaskRefusesTasksThatAreNotRunning(t *testing.T) {
	f := newFixture(t)
	f.register(t, "report", reportImage)
	task := f.run(t, runReport)
	if err := f.ecs.FinishTask(task.TaskArn, nil); err == nil || !strings.Contains(err.Error(), "PROVISIONING") {
		t.Errorf("FinishTask on a provisioning task: %v", err)
	}
	if err := f.ecs.FinishTask("arn:nope", nil); err == nil {
		t.Error("FinishTask on a missing task succeeded")
	}
}

func TestRunTaskClientToken(t *testing.T) {
	f := newFixture(t)
	f.register(t, "report", reportImage)
	body := `{"cluster":"prod","taskDefinition":"report","launchType":"FARGATE","clientToken":"tok-1",` + network + `}`
	first := f.run(t, body)
	f.clock.Advance(15 * time.Second)
	again := f.run(t, body)
	if again.TaskArn != first.TaskArn || again.LastStatus != "RUNNING" || len(f.ecs.Tasks()) != 1 {
		t.Errorf("replay: %s (%s), %d tasks; want the first task, now RUNNING, and no new task", again.TaskArn, again.LastStatus, len(f.ecs.Tasks()))
	}
	changed := strings.Replace(body, `"launchType":"FARGATE"`, `"launchType":"FARGATE","startedBy":"other"`, 1)
	if err := f.fail(t, "RunTask", changed); err.Code != "ConflictException" || err.Status != 400 {
		t.Errorf("same token, other params: %d %s", err.Status, err.Code)
	}
	other := f.run(t, strings.Replace(body, "tok-1", "tok-2", 1))
	if other.TaskArn == first.TaskArn {
		t.Error("a new token reused the first task")
	}
}

func TestRunTaskCapacityFailures(t *testing.T) {
	tests := map[string]struct {
		unavailable string
		strategy    string
	}{
		"the UNAVAILABLE provider never has capacity": {strategy: `[{"capacityProvider":"UNAVAILABLE","weight":1}]`},
		"a provider scripted unavailable":             {unavailable: "FARGATE_SPOT", strategy: `[{"capacityProvider":"FARGATE_SPOT","weight":1}]`},
		"the highest weight is chosen":                {unavailable: "FARGATE_SPOT", strategy: `[{"capacityProvider":"FARGATE","weight":1},{"capacityProvider":"FARGATE_SPOT","weight":3}]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.register(t, "report", reportImage)
			if tc.unavailable != "" {
				f.ecs.SetCapacityAvailable(tc.unavailable, false)
			}
			var out runOut
			f.call(t, "RunTask", `{"cluster":"prod","taskDefinition":"report","capacityProviderStrategy":`+tc.strategy+`,`+network+`}`, &out)
			if len(out.Tasks) != 0 || len(out.Failures) != 1 || out.Failures[0].Reason != unavailableMessage || out.Failures[0].Arn == "" {
				t.Errorf("got %+v, want one capacity failure and no task", out)
			}
			if len(f.rec.all()) != 0 {
				t.Errorf("a failed placement emitted %d events", len(f.rec.all()))
			}
		})
	}
	f := newFixture(t)
	f.register(t, "report", reportImage)
	f.ecs.SetCapacityAvailable("FARGATE_SPOT", false)
	f.ecs.SetCapacityAvailable("FARGATE_SPOT", true)
	f.run(t, `{"cluster":"prod","taskDefinition":"report","capacityProviderStrategy":[{"capacityProvider":"FARGATE_SPOT","weight":1}],`+network+`}`)
}

func TestRunTaskErrors(t *testing.T) {
	f := newFixture(t)
	f.register(t, "report", reportImage)
	tests := map[string]struct {
		body, code string
	}{
		"unknown task definition":   {`{"cluster":"prod","taskDefinition":"nope",` + network + `}`, "ClientException"},
		"unknown cluster":           {`{"cluster":"nope","taskDefinition":"report",` + network + `}`, "ClusterNotFoundException"},
		"count above 10":            {`{"cluster":"prod","taskDefinition":"report","count":11,` + network + `}`, "InvalidParameterException"},
		"startedBy over 128 chars":  {`{"cluster":"prod","taskDefinition":"report","startedBy":"` + strings.Repeat("x", 129) + `",` + network + `}`, "InvalidParameterException"},
		"override of no container":  {`{"cluster":"prod","taskDefinition":"report","overrides":{"containerOverrides":[{"name":"web"}]},` + network + `}`, "InvalidParameterException"},
		"launch type and providers": {`{"cluster":"prod","taskDefinition":"report","launchType":"FARGATE","capacityProviderStrategy":[{"capacityProvider":"FARGATE"}],` + network + `}`, "InvalidParameterException"},
		"awsvpc without network":    {`{"cluster":"prod","taskDefinition":"report"}`, "InvalidParameterException"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := f.fail(t, "RunTask", tc.body); err.Code != tc.code {
				t.Errorf("code %s (%s), want %s", err.Code, err.Message, tc.code)
			}
		})
	}
}

func TestListAndDescribeTasks(t *testing.T) {
	f := newFixture(t)
	f.register(t, "report", reportImage)
	f.register(t, "cleanup", "repo/cleanup:1")
	f.call(t, "TagResource", `{"resourceArn":"`+td("report:1")+`","tags":[{"key":"team","value":"data"}]}`, nil)
	a := f.run(t, `{"cluster":"prod","taskDefinition":"report","startedBy":"job-a","propagateTags":"TASK_DEFINITION","tags":[{"key":"run","value":"1"}],`+network+`}`)
	b := f.run(t, `{"cluster":"prod","taskDefinition":"report","startedBy":"job-b",`+network+`}`)
	c := f.run(t, `{"cluster":"prod","taskDefinition":"cleanup","startedBy":"job-a","group":"maintenance",`+network+`}`)
	f.clock.Advance(15 * time.Second)
	f.call(t, "StopTask", `{"cluster":"prod","task":"`+taskID(b.TaskArn)+`"}`, nil)
	f.clock.Advance(10 * time.Second)

	tests := map[string]struct {
		body string
		want []string
	}{
		"running tasks by default": {`{"cluster":"prod"}`, []string{a.TaskArn, c.TaskArn}},
		"by startedBy":             {`{"cluster":"prod","startedBy":"job-a"}`, []string{a.TaskArn, c.TaskArn}},
		"by family":                {`{"cluster":"prod","family":"report"}`, []string{a.TaskArn}},
		"stopped tasks":            {`{"cluster":"prod","desiredStatus":"STOPPED"}`, []string{b.TaskArn}},
		"stopped by family":        {`{"cluster":"prod","desiredStatus":"STOPPED","family":"cleanup"}`, []string{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out struct {
				TaskArns []string `json:"taskArns"`
			}
			f.call(t, "ListTasks", tc.body, &out)
			if diff := cmp.Diff(tc.want, out.TaskArns); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	if got := f.describeTask(t, a.TaskArn); !cmp.Equal([]tag{{"team", "data"}, {"run", "1"}}, got.Tags) {
		t.Errorf("propagated tags %v", got.Tags)
	}
	if got := f.describeTask(t, b.TaskArn); got.StopCode != "UserInitiated" || got.StoppedReason != "Task stopped by user" {
		t.Errorf("stopped by id: %+v", got)
	}
	if got := f.describeTask(t, c.TaskArn); got.Group != "maintenance" {
		t.Errorf("group %q", got.Group)
	}
	var out runOut
	f.call(t, "DescribeTasks", `{"cluster":"prod","tasks":["`+a.TaskArn+`","0123"]}`, &out)
	want := []failure{{Arn: "arn:aws:ecs:us-west-2:123456789012:task/prod/0123", Reason: "MISSING"}}
	if diff := cmp.Diff(want, out.Failures); diff != "" || len(out.Tasks) != 1 {
		t.Errorf("describe with a missing task (-want +got):\n%s", diff)
	}
}

// TestScriptedUntilStoppedRunsUntilStopTask pins the per-image script that
// keeps a RunTask task running, so a waiter polling in real time sees it
// RUNNING however far the clock moves, until StopTask.
//
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html
func TestScriptedUntilStoppedRunsUntilStopTask(t *testing.T) {
	f := newFixture(t)
	f.register(t, "report", "repo/report@sha256:server")
	f.ecs.ScriptImage("repo/report@sha256:server", TaskScript{RunFor: UntilStopped})
	task := f.run(t, runReport)
	f.clock.Advance(24 * time.Hour)
	if got := f.describeTask(t, task.TaskArn); got.LastStatus != "RUNNING" {
		t.Fatalf("after a day: %s, want RUNNING", got.LastStatus)
	}
	f.call(t, "StopTask", `{"cluster":"prod","task":"`+task.TaskArn+`"}`, nil)
	f.clock.Advance(time.Minute)
	got := f.describeTask(t, task.TaskArn)
	if got.LastStatus != "STOPPED" || got.StopCode != "UserInitiated" || *got.Containers[0].ExitCode != 143 {
		t.Errorf("after StopTask: %s %s exit %v", got.LastStatus, got.StopCode, got.Containers[0].ExitCode)
	}
}
