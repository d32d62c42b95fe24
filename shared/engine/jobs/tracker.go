package jobs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// Tracker is the task half of the tracker function: it turns "ECS Task State
// Change" events of Deckhand's job tasks into job verdicts and retries.
//
// ECS delivers task events at least once and out of order; detail.version
// orders them. The tracker remembers the highest version seen per task (in
// memory, per warm container) and ignores anything not newer. Its outputs
// are idempotent too: a retry's RunTask carries a client token derived from
// the job, scheduled time and attempt, so a second container handling the
// same event starts no second task.
type Tracker struct {
	Engine *Engine
	// MaxRemembered bounds the versions remembered (default 10000); the
	// oldest are forgotten first.
	MaxRemembered int

	mu        sync.Mutex
	seen      map[string]int64 // task ARN → highest version handled
	order     []string
	essential map[string]map[string]bool // task definition ARN → essential containers
}

// NewTracker returns a Tracker over e.
func NewTracker(e *Engine) *Tracker { return &Tracker{Engine: e} }

// HandleTaskEvent handles one ECS Task State Change. Events of tasks Deckhand
// did not start for a job (startedBy without the "deckhand/" prefix), older
// or repeated versions and states other than STOPPED are ignored. A STOPPED
// task gets a SUCCEEDED or FAILED verdict, or, when it failed to start for a
// transient reason and retries are left, a RETRYING event and a new attempt.
// An error means the event should be delivered again.
func (t *Tracker) HandleTaskEvent(ctx context.Context, ev events.TaskEvent) error {
	d := ev.Detail
	job, ok := strings.CutPrefix(d.StartedBy, StartedByPrefix)
	if !ok || job == "" {
		return nil
	}
	log := t.Engine.logger().With("job", job, "task", d.TaskARN, "version", d.Version, "lastStatus", d.LastStatus)
	if !t.claim(d.TaskARN, d.Version) {
		log.DebugContext(ctx, "task event not newer than one handled", "outcome", "duplicate")
		return nil
	}
	if d.LastStatus != "STOPPED" {
		return nil
	}
	if err := t.stopped(ctx, job, ev); err != nil {
		t.release(d.TaskARN, d.Version)
		return err
	}
	return nil
}

func (t *Tracker) stopped(ctx context.Context, job string, ev events.TaskEvent) error {
	e, d := t.Engine, ev.Detail
	ctx, why, err := t.inTarget(ctx, job, ev)
	if err != nil || why != "" {
		if why != "" {
			e.logger().InfoContext(ctx, "task event ignored", "job", job, "task", d.TaskARN, "outcome", "ignored", "reason", why)
		}
		return err
	}
	tasks, err := e.describeTasks(ctx, d.ClusterARN, []string{d.TaskARN})
	if err != nil {
		return err
	}
	var scheduled *time.Time
	attempt := 1
	if len(tasks) > 0 {
		attempt = attemptOf(tasks[0])
		if s, err := time.Parse(time.RFC3339, revision.TagsOf(tasks[0].Tags)[revision.TagScheduledTime]); err == nil {
			scheduled = &s
		}
	}
	essential, err := t.essentialOf(ctx, d.TaskDefinitionARN)
	if err != nil {
		return err
	}
	v := Judge(d, essential)
	if v.Status == events.JobTimedOut {
		e.logger().InfoContext(ctx, "timed-out task stopped", "job", job, "task", d.TaskARN, "outcome", "already reported")
		return nil
	}
	change := events.JobStateChange{Status: v.Status, Job: job, Cluster: clusterName(d.ClusterARN), TaskARNs: []string{d.TaskARN},
		ExitCodes: v.ExitCodes, StopCode: d.StopCode, Reason: v.Reason, ScheduledTime: scheduled, Attempt: attempt,
		DurationMS: duration(d)}
	if len(change.ExitCodes) == 0 {
		change.ExitCodes = nil
	}
	if v.Transient && scheduled != nil {
		m, err := e.Source.Manifest(ctx)
		if err != nil {
			return fmt.Errorf("load manifest: %w", err)
		}
		if spec, ok := m.Job(job); ok && attempt <= spec.Retries {
			change.Status = events.JobRetrying
			if err := e.emit(ctx, change); err != nil {
				return err
			}
			return e.rerun(ctx, spec, d.TaskDefinitionARN, *scheduled, attempt+1)
		}
	}
	return e.emit(ctx, change)
}

// essentialOf returns the essential containers of a task definition,
// cached: revisions are immutable.
func (t *Tracker) essentialOf(ctx context.Context, arn string) (map[string]bool, error) {
	t.mu.Lock()
	ess, ok := t.essential[arn]
	t.mu.Unlock()
	if ok {
		return ess, nil
	}
	out, err := t.Engine.ecs(ctx).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("describe task definition %s: %w", arn, err)
	}
	ess = map[string]bool{}
	for _, c := range out.TaskDefinition.ContainerDefinitions {
		if essentialContainer(c) {
			ess[aws.ToString(c.Name)] = true
		}
	}
	t.mu.Lock()
	if t.essential == nil {
		t.essential = map[string]map[string]bool{}
	}
	t.essential[arn] = ess
	t.mu.Unlock()
	return ess, nil
}

// essentialContainer: a container is essential unless it says otherwise.
func essentialContainer(c ecstypes.ContainerDefinition) bool {
	return c.Essential == nil || *c.Essential
}

// claim records version for the task and reports whether it is newer than
// every version handled before.
func (t *Tracker) claim(arn string, version int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen == nil {
		t.seen = map[string]int64{}
	}
	if prev, ok := t.seen[arn]; ok {
		if version <= prev {
			return false
		}
	} else {
		t.order = append(t.order, arn)
	}
	t.seen[arn] = version
	limit := t.MaxRemembered
	if limit <= 0 {
		limit = 10000
	}
	for len(t.order) > limit {
		delete(t.seen, t.order[0])
		t.order = t.order[1:]
	}
	return true
}

// release forgets a claim whose handling failed, so a redelivery is handled.
func (t *Tracker) release(arn string, version int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen[arn] == version {
		t.seen[arn] = version - 1
	}
}

func clusterName(arn string) string {
	if _, name, ok := strings.Cut(arn, ":cluster/"); ok {
		return name
	}
	return arn
}

func duration(d events.ECSTaskStateChange) int64 {
	start := d.StartedAt
	if start == nil {
		start = d.CreatedAt
	}
	if start == nil || d.StoppedAt == nil {
		return 0
	}
	return d.StoppedAt.Sub(*start).Milliseconds()
}
