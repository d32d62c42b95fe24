package ecssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// task is a task: started by RunTask, or by a service's deployment
// (service_tasks.go).
type task struct {
	arn, id                   string
	cluster                   *cluster
	td                        *taskDef
	service                   *service    // nil for a RunTask task
	deployment                *deployment // the deployment that started a service task
	lastStatus, desiredStatus string
	version                   int64
	startedBy, group          string
	launchType, provider      string
	platformVersion           string
	cpu, memory               string
	network                   *networkConfiguration
	overrides                 taskOverride
	containers                []*taskContainer
	attachmentID              string
	execCommand               bool
	stopCode, stoppedReason   string

	createdAt, connectivityAt, pullStartedAt, pullStoppedAt time.Time
	startedAt, stoppingAt, executionStoppedAt, stoppedAt    time.Time

	next time.Time // the next lifecycle transition; zero once STOPPED
}

type taskContainer struct {
	name, image, arn string
	runtimeID        string
	lastStatus       string
	exitCode         *int32
	reason           string
	essential        bool
	cpu              int32
	memory           *int32
}

// runRecord remembers a RunTask call by clientToken.
type runRecord struct {
	params   string
	tasks    []*task
	failures []failure
}

// unavailableMessage is ECS's reason for a capacity failure.
const unavailableMessage = "Capacity is unavailable at this time. Please try again later or in a different availability zone"

type runTaskInput struct {
	Cluster                  string                `json:"cluster"`
	TaskDefinition           string                `json:"taskDefinition"`
	Count                    *int32                `json:"count"`
	LaunchType               string                `json:"launchType"`
	CapacityProviderStrategy []strategyItem        `json:"capacityProviderStrategy"`
	PlatformVersion          string                `json:"platformVersion"`
	NetworkConfiguration     *networkConfiguration `json:"networkConfiguration"`
	Overrides                *taskOverride         `json:"overrides"`
	StartedBy                string                `json:"startedBy"`
	Group                    string                `json:"group"`
	Tags                     []tag                 `json:"tags"`
	PropagateTags            string                `json:"propagateTags"`
	EnableECSManagedTags     bool                  `json:"enableECSManagedTags"`
	EnableExecuteCommand     bool                  `json:"enableExecuteCommand"`
	ReferenceID              string                `json:"referenceId"`
	ClientToken              string                `json:"clientToken"`
	PlacementConstraints     json.RawMessage       `json:"placementConstraints"`
	PlacementStrategy        json.RawMessage       `json:"placementStrategy"`
	VolumeConfigurations     json.RawMessage       `json:"volumeConfigurations"`
}

type runTaskOutput struct {
	Tasks    []wireTask `json:"tasks"`
	Failures []failure  `json:"failures"`
}

func (e *ECS) runTask(body []byte, now time.Time) (any, error) {
	var in runTaskInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.ClientToken) > 64 {
		return nil, awsproto.InvalidParameter("clientToken can have at most 64 characters.")
	}
	token := in.ClientToken
	in.ClientToken = ""
	canon, _ := json.Marshal(in)
	if rec, ok := e.tokens[token]; ok && token != "" {
		if rec.params != string(canon) {
			return nil, awsproto.Errorf(http.StatusBadRequest, "ConflictException",
				"The RunTask request could not be processed due to conflicts. The provided clientToken is already in use with a different RunTask request.")
		}
		return e.runTaskOutput(rec), nil
	}
	c, err := e.clusterRef(in.Cluster)
	if err != nil {
		return nil, err
	}
	td, err := e.usableTaskDef(in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	if err := e.checkRunTask(&in, td); err != nil {
		return nil, err
	}
	rec := &runRecord{params: string(canon), failures: []failure{}}
	provider, launchType := placement(in.LaunchType, in.CapacityProviderStrategy, c.strategy)
	if !e.available(provider) {
		rec.failures = append(rec.failures, failure{
			Arn:    e.arn("capacity-provider/" + provider),
			Reason: unavailableMessage,
			Detail: fmt.Sprintf("capacity provider %s has no capacity in the sandbox", provider),
		})
	} else {
		tags := in.Tags
		if in.PropagateTags == "TASK_DEFINITION" {
			tags = append(e.tagsOf(td.arn), in.Tags...)
		}
		if in.EnableECSManagedTags {
			tags = append(tags, tag{"aws:ecs:clusterName", c.name})
		}
		for range *in.Count {
			t := e.newTask(c, td, &in, provider, launchType, now)
			e.addTags(t.arn, tags)
			rec.tasks = append(rec.tasks, t)
		}
	}
	if token != "" {
		e.tokens[token] = rec
	}
	return e.runTaskOutput(rec), nil
}

// checkRunTask validates the RunTask input and fills defaults.
func (e *ECS) checkRunTask(in *runTaskInput, td *taskDef) error {
	if in.Count == nil {
		one := int32(1)
		in.Count = &one
	}
	if *in.Count < 1 || *in.Count > 10 {
		return awsproto.InvalidParameter("count must be between 1 and 10.")
	}
	if len(in.StartedBy) > 128 {
		return awsproto.InvalidParameter("startedBy can have at most 128 characters.")
	}
	if len(in.Group) > 255 {
		return awsproto.InvalidParameter("group can have at most 255 characters.")
	}
	if in.PropagateTags != "" && in.PropagateTags != "TASK_DEFINITION" && in.PropagateTags != "NONE" {
		return awsproto.InvalidParameter("propagateTags must be TASK_DEFINITION or NONE for RunTask.")
	}
	if err := checkLaunch(in.LaunchType, in.CapacityProviderStrategy, in.NetworkConfiguration, td); err != nil {
		return err
	}
	if in.Overrides != nil {
		for _, o := range in.Overrides.ContainerOverrides {
			if !slices.ContainsFunc(td.containers, func(c tdContainer) bool { return c.name == o.Name }) {
				return awsproto.InvalidParameter("Override for container named %s is not a container in the TaskDefinition.", o.Name)
			}
		}
	}
	return checkTags(in.Tags)
}

// placement picks the capacity provider a task lands on: the launch type, or
// the strategy item with a base, else the highest weight (first on ties). It
// returns the provider and the task's launch type.
func placement(launchType string, strategy, clusterDefault []strategyItem) (provider, lt string) {
	if launchType != "" {
		return launchType, launchType
	}
	if len(strategy) == 0 {
		strategy = clusterDefault
	}
	if len(strategy) == 0 {
		return "EC2", "EC2"
	}
	best := strategy[0]
	for _, s := range strategy[1:] {
		if (s.Base > best.Base) || (best.Base == 0 && s.Weight > best.Weight) {
			best = s
		}
	}
	lt = "EC2"
	if best.CapacityProvider == "FARGATE" || best.CapacityProvider == "FARGATE_SPOT" {
		lt = "FARGATE"
	}
	return best.CapacityProvider, lt
}

func (e *ECS) available(provider string) bool {
	if provider == "UNAVAILABLE" {
		return false
	}
	ok, set := e.capacity[provider]
	return !set || ok
}

func (e *ECS) newTask(c *cluster, td *taskDef, in *runTaskInput, provider, launchType string, now time.Time) *task {
	id := e.hexID("task")
	t := &task{
		arn: e.arn("task/" + c.name + "/" + id), id: id, cluster: c, td: td,
		lastStatus: "PROVISIONING", desiredStatus: "RUNNING", version: 1,
		startedBy: in.StartedBy, group: in.Group, launchType: launchType,
		cpu: td.cpu, memory: td.memory, network: in.NetworkConfiguration,
		execCommand: in.EnableExecuteCommand, createdAt: now, next: now.Add(e.timing.Provision),
	}
	if t.group == "" {
		t.group = "family:" + td.family
	}
	if in.LaunchType == "" && (len(in.CapacityProviderStrategy) > 0 || len(c.strategy) > 0) {
		t.provider = provider
	}
	if launchType == "FARGATE" {
		t.platformVersion = in.PlatformVersion
		if t.platformVersion == "" || t.platformVersion == "LATEST" {
			t.platformVersion = "1.4.0"
		}
	}
	if in.Overrides != nil {
		if in.Overrides.Cpu != "" {
			t.cpu = in.Overrides.Cpu
		}
		if in.Overrides.Memory != "" {
			t.memory = in.Overrides.Memory
		}
	}
	e.addContainers(t, in.Overrides)
	if t.network != nil && t.network.AwsvpcConfiguration != nil {
		t.attachmentID = e.uuid("eni")
	}
	e.tasks[t.arn] = t
	e.taskList = append(e.taskList, t)
	e.live = append(e.live, t)
	e.publishTask(t, now)
	return t
}

// addContainers gives t one container per container of its task definition
// and records the overrides: the given ones, and a name-only override for
// every other container, as ECS reports them.
func (e *ECS) addContainers(t *task, given *taskOverride) {
	if given != nil {
		t.overrides = *given
		t.overrides.ContainerOverrides = nil
	}
	for _, tc := range t.td.containers {
		o := containerOverride{Name: tc.name}
		if given != nil {
			for _, g := range given.ContainerOverrides {
				if g.Name == tc.name {
					o = g
				}
			}
		}
		t.overrides.ContainerOverrides = append(t.overrides.ContainerOverrides, o)
		t.containers = append(t.containers, &taskContainer{
			name: tc.name, image: tc.image, lastStatus: "PENDING",
			arn:       e.arn("container/" + t.cluster.name + "/" + t.id + "/" + e.uuid("container")),
			essential: tc.essential, cpu: tc.cpu, memory: tc.memory,
		})
	}
}

func (e *ECS) runTaskOutput(rec *runRecord) runTaskOutput {
	out := runTaskOutput{Tasks: []wireTask{}, Failures: append([]failure{}, rec.failures...)}
	for _, t := range rec.tasks {
		out.Tasks = append(out.Tasks, e.wireTask(t, false))
	}
	return out
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
