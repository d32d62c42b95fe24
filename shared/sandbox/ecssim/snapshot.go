package ecssim

import "time"

// ServiceSnapshot is a copy of a service's state, for tests and the demo.
type ServiceSnapshot struct {
	ARN, Name, Cluster string
	Status             string
	TaskDefinition     string // the PRIMARY deployment's task definition ARN
	DesiredCount       int32
	RunningCount       int32
	PendingCount       int32
	Deployments        []DeploymentSnapshot // newest first, the latest INACTIVE ones included
	Events             []string             // service event messages, newest first
	Tags               map[string]string
}

// DeploymentSnapshot is a copy of one deployment.
type DeploymentSnapshot struct {
	ID, Status, TaskDefinition         string
	DesiredCount, RunningCount         int32
	PendingCount, FailedTasks          int32
	RolloutState, RolloutStateReason   string
	CreatedAt, UpdatedAt               time.Time
	CircuitBreaker, CircuitBreakerRoll bool
}

// TaskDefinitionSnapshot is a copy of one task definition revision.
type TaskDefinitionSnapshot struct {
	ARN, Family string
	Revision    int32
	Status      string
	Images      map[string]string // container name → image
	Tags        map[string]string
	// DeregisteredAt and DeleteRequestedAt are when it was deregistered
	// and asked to be deleted (zero: not yet).
	DeregisteredAt, DeleteRequestedAt time.Time
}

// StatusDeleted is the Status RevisionHistory gives a revision ECS
// deleted (DescribeTaskDefinition no longer finds it).
const StatusDeleted = statusDeleted

// TaskSnapshot is a copy of a task.
type TaskSnapshot struct {
	ARN, Cluster, TaskDefinition string
	LastStatus, DesiredStatus    string
	Version                      int64
	StartedBy, Group             string
	StopCode, StoppedReason      string
	ExitCodes                    map[string]int32 // containers that exited
}

func tagMap(tags []tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// Service returns a copy of the service name (or ARN) in cluster (name or
// ARN), and whether it exists.
func (e *ECS) Service(cluster, name string) (ServiceSnapshot, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.clusterRef(cluster)
	if err != nil {
		return ServiceSnapshot{}, false
	}
	s := e.findService(c, name)
	if s == nil {
		return ServiceSnapshot{}, false
	}
	w := e.wireService(s, true)
	snap := ServiceSnapshot{
		ARN: s.arn, Name: s.name, Cluster: c.name, Status: s.status, TaskDefinition: w.TaskDefinition,
		DesiredCount: s.desired, RunningCount: w.RunningCount, PendingCount: w.PendingCount,
		Tags: tagMap(w.Tags),
	}
	for _, d := range s.deployments {
		running, pending := d.counts()
		snap.Deployments = append(snap.Deployments, DeploymentSnapshot{
			ID: d.id, Status: d.status, TaskDefinition: d.td.arn,
			DesiredCount: d.desired, RunningCount: running, PendingCount: pending, FailedTasks: d.failed,
			RolloutState: d.rolloutState, RolloutStateReason: d.rolloutStateReason,
			CreatedAt: d.createdAt, UpdatedAt: d.updatedAt,
			CircuitBreaker: d.breaker.Enable, CircuitBreakerRoll: d.breaker.Rollback,
		})
	}
	for _, ev := range s.events {
		snap.Events = append(snap.Events, ev.Message)
	}
	return snap, true
}

// TaskDefinitions returns every revision of family not deleted, oldest first.
func (e *ECS) TaskDefinitions(family string) []TaskDefinitionSnapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []TaskDefinitionSnapshot
	for _, td := range e.families[family] {
		if td.status == statusDeleted {
			continue
		}
		out = append(out, snapTaskDef(td, e.tags[td.arn]))
	}
	return out
}

// RevisionHistory returns every revision ever registered, deleted ones
// included (Status StatusDeleted, their tags gone), by family and then
// revision: what tests check retention against.
func (e *ECS) RevisionHistory() []TaskDefinitionSnapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []TaskDefinitionSnapshot
	for _, f := range e.sortedFamilies() {
		for _, td := range e.families[f] {
			out = append(out, snapTaskDef(td, e.tags[td.arn]))
		}
	}
	return out
}

func snapTaskDef(td *taskDef, tags []tag) TaskDefinitionSnapshot {
	images := map[string]string{}
	for _, c := range td.containers {
		images[c.name] = c.image
	}
	return TaskDefinitionSnapshot{
		ARN: td.arn, Family: td.family, Revision: td.revision, Status: td.status,
		Images: images, Tags: tagMap(tags), DeregisteredAt: td.deregisteredAt, DeleteRequestedAt: td.deleteRequestedAt,
	}
}

// Task returns a copy of the task with ARN arn, and whether it exists.
func (e *ECS) Task(arn string) (TaskSnapshot, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tasks[arn]
	if !ok {
		return TaskSnapshot{}, false
	}
	return snapTask(t), true
}

// Tasks returns copies of every RunTask task, in creation order (a
// service's tasks are ServiceTasks).
func (e *ECS) Tasks() []TaskSnapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []TaskSnapshot
	for _, t := range e.taskList {
		out = append(out, snapTask(t))
	}
	return out
}

// ServiceTasks returns copies of the tasks of service name (or ARN) in
// cluster (name or ARN) that are live or still describable: live ones,
// newest deployment first, then stopped ones, oldest first.
func (e *ECS) ServiceTasks(cluster, name string) []TaskSnapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.clusterRef(cluster)
	if err != nil {
		return nil
	}
	s := e.findService(c, name)
	if s == nil {
		return nil
	}
	var out []TaskSnapshot
	for _, t := range s.serviceTasks() {
		out = append(out, snapTask(t))
	}
	return out
}

func snapTask(t *task) TaskSnapshot {
	s := TaskSnapshot{
		ARN: t.arn, Cluster: t.cluster.name, TaskDefinition: t.td.arn,
		LastStatus: t.lastStatus, DesiredStatus: t.desiredStatus, Version: t.version,
		StartedBy: t.startedBy, Group: t.group, StopCode: t.stopCode, StoppedReason: t.stoppedReason,
		ExitCodes: map[string]int32{},
	}
	for _, c := range t.containers {
		if c.exitCode != nil {
			s.ExitCodes[c.name] = *c.exitCode
		}
	}
	return s
}

// UpdateHistory returns, oldest first, every UpdateService call that changed
// a service's task definition.
func (e *ECS) UpdateHistory() []UpdateRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]UpdateRecord(nil), e.history...)
}
