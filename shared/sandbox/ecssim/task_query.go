package ecssim

import (
	"slices"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

func (e *ECS) wireTask(t *task, withTags bool) wireTask {
	w := wireTask{
		AvailabilityZone: e.region + "a", CapacityProviderName: t.provider, ClusterArn: t.cluster.arn,
		Containers: []wireContainer{}, Cpu: t.cpu, CreatedAt: toEpoch(t.createdAt), DesiredStatus: t.desiredStatus,
		EnableExecuteCommand: t.execCommand, ExecutionStoppedAt: toEpoch(t.executionStoppedAt), Group: t.group,
		LastStatus: t.lastStatus, LaunchType: t.launchType, Memory: t.memory, PlatformVersion: t.platformVersion,
		PullStartedAt: toEpoch(t.pullStartedAt), PullStoppedAt: toEpoch(t.pullStoppedAt),
		StartedAt: toEpoch(t.startedAt), StartedBy: t.startedBy, StopCode: t.stopCode, StoppedAt: toEpoch(t.stoppedAt),
		StoppedReason: t.stoppedReason, StoppingAt: toEpoch(t.stoppingAt), TaskArn: t.arn,
		TaskDefinitionArn: t.td.arn, Version: t.version, ConnectivityAt: toEpoch(t.connectivityAt),
	}
	if !t.connectivityAt.IsZero() {
		w.Connectivity = "CONNECTED"
	}
	if t.launchType == "FARGATE" {
		w.PlatformFamily = "Linux"
	}
	ov := t.overrides
	ov.ContainerOverrides = append([]containerOverride{}, ov.ContainerOverrides...)
	w.Overrides = &ov
	if t.attachmentID != "" {
		status := map[string]string{"PROVISIONING": "PRECREATED", "PENDING": "ATTACHED", "RUNNING": "ATTACHED",
			"DEPROVISIONING": "DETACHING", "STOPPED": "DELETED"}[t.lastStatus]
		a := wireAttachment{ID: t.attachmentID, Type: "ElasticNetworkInterface", Status: status, Details: []keyValue{}}
		if subnets := t.network.AwsvpcConfiguration.Subnets; len(subnets) > 0 {
			a.Details = append(a.Details, keyValue{Name: "subnetId", Value: subnets[0]})
		}
		w.Attachments = []wireAttachment{a}
	}
	for _, c := range t.containers {
		wc := wireContainer{
			ContainerArn: c.arn, TaskArn: t.arn, Name: c.name, Image: c.image, RuntimeID: c.runtimeID,
			LastStatus: c.lastStatus, ExitCode: c.exitCode, Reason: c.reason, Cpu: itoa(c.cpu),
		}
		if c.memory != nil {
			wc.Memory = itoa(*c.memory)
		}
		if _, digest, ok := strings.Cut(c.image, "@"); ok {
			wc.ImageDigest = digest
		}
		if c.lastStatus == "RUNNING" {
			wc.HealthStatus = "UNKNOWN"
		}
		w.Containers = append(w.Containers, wc)
	}
	if withTags {
		w.Tags = e.tagsOf(t.arn)
	}
	return w
}

func (e *ECS) describeTasks(body []byte, _ time.Time) (any, error) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
		Include []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := e.clusterRef(in.Cluster)
	if err != nil {
		return nil, err
	}
	if len(in.Tasks) == 0 || len(in.Tasks) > 100 {
		return nil, awsproto.InvalidParameter("tasks must contain between 1 and 100 task ids or ARNs.")
	}
	withTags := slices.Contains(in.Include, "TAGS")
	out := struct {
		Tasks    []wireTask `json:"tasks"`
		Failures []failure  `json:"failures"`
	}{Tasks: []wireTask{}, Failures: []failure{}}
	for _, ref := range in.Tasks {
		t := e.tasks[e.arn("task/"+c.name+"/"+taskID(ref))]
		if t == nil {
			arn := ref
			if _, isARN := resourcePath(ref); !isARN {
				arn = e.arn("task/" + c.name + "/" + ref)
			}
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.Tasks = append(out.Tasks, e.wireTask(t, withTags))
	}
	return out, nil
}

// listTasks lists task ARNs: RunTask tasks in creation order, then service
// tasks service by service. desiredStatus defaults to RUNNING (tasks not yet
// told to stop, pending ones included); STOPPED lists stopped tasks ECS
// still shows. A serviceName filter lists that service's tasks only; a
// startedBy filter that is not a deployment id ("ecs-svc/…") skips the
// service tasks without walking them.
func (e *ECS) listTasks(body []byte, _ time.Time) (any, error) {
	var in struct {
		Cluster       string `json:"cluster"`
		Family        string `json:"family"`
		StartedBy     string `json:"startedBy"`
		ServiceName   string `json:"serviceName"`
		DesiredStatus string `json:"desiredStatus"`
		LaunchType    string `json:"launchType"`
		NextToken     string `json:"nextToken"`
		MaxResults    *int32 `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, err := e.clusterRef(in.Cluster)
	if err != nil {
		return nil, err
	}
	if in.DesiredStatus == "" {
		in.DesiredStatus = "RUNNING"
	}
	switch in.DesiredStatus {
	case "RUNNING", "PENDING", "STOPPED":
	default:
		return nil, awsproto.InvalidParameter("desiredStatus must be RUNNING, PENDING or STOPPED.")
	}
	var only *service
	if in.ServiceName != "" {
		if only = e.findService(c, in.ServiceName); only == nil || only.status == "INACTIVE" {
			return nil, awsproto.Errorf(400, "ServiceNotFoundException", "Service not found.")
		}
	}
	match := func(t *task) bool {
		switch {
		case t.cluster != c,
			in.Family != "" && t.td.family != in.Family,
			in.StartedBy != "" && t.startedBy != in.StartedBy,
			in.LaunchType != "" && t.launchType != in.LaunchType,
			in.DesiredStatus == "STOPPED" && t.desiredStatus != "STOPPED",
			in.DesiredStatus != "STOPPED" && t.desiredStatus == "STOPPED",
			in.DesiredStatus == "PENDING" && t.lastStatus != "PROVISIONING" && t.lastStatus != "PENDING":
			return false
		}
		return true
	}
	arns := []string{}
	if only == nil {
		for _, t := range e.taskList {
			if match(t) {
				arns = append(arns, t.arn)
			}
		}
	}
	if in.StartedBy == "" || strings.HasPrefix(in.StartedBy, "ecs-svc/") {
		for _, s := range e.services {
			if s.cluster != c || only != nil && s != only {
				continue
			}
			for _, t := range s.serviceTasks() {
				if match(t) {
					arns = append(arns, t.arn)
				}
			}
		}
	}
	pg, next, err := page(arns, in.NextToken, in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		TaskArns  []string `json:"taskArns"`
		NextToken *string  `json:"nextToken,omitempty"`
	}{append([]string{}, pg...), next}, nil
}
