package sandbox

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
)

// LogLine is one line a container writes to its standard output After it
// started, as scripted with ScriptLogs.
type LogLine struct {
	After   time.Duration
	Message string
}

// taskLogs remembers what task containers write with the awslogs driver:
// the scripted lines per image, and the streams of running tasks.
type taskLogs struct {
	mu      sync.Mutex
	scripts map[string][]LogLine       // image reference or digest → lines
	streams map[string][]taskLogStream // task ARN → its containers' streams
}

type taskLogStream struct {
	logs          *logsService
	group, stream string
}

// ScriptLogs sets the lines that containers running image (a full
// reference, or a digest "sha256:…" matching images pinned to it) write,
// each After the container started. Containers whose task definition uses
// the awslogs driver write them to their log stream, stamped with the
// task's virtual times; lines after the container stopped are never
// written. Without a script a container writes nothing.
func (s *Sandbox) ScriptLogs(image string, lines []LogLine) {
	s.tasklogs.mu.Lock()
	defer s.tasklogs.mu.Unlock()
	if s.tasklogs.scripts == nil {
		s.tasklogs.scripts = map[string][]LogLine{}
	}
	s.tasklogs.scripts[image] = append([]LogLine(nil), lines...)
}

func (t *taskLogs) script(image string) []LogLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.scripts[image]; ok {
		return l
	}
	if _, digest, ok := strings.Cut(image, "@"); ok {
		return t.scripts[digest]
	}
	return nil
}

type awslogsContainer struct {
	Name             string `json:"name"`
	Image            string `json:"image"`
	LogConfiguration *struct {
		LogDriver string            `json:"logDriver"`
		Options   map[string]string `json:"options"`
	} `json:"logConfiguration"`
}

// awslogs writes the output of a task's awslogs containers when the task
// starts running, and cuts it when its containers stopped (stoppingAt). As ECS names
// them, streams are awslogs-stream-prefix/container/task-id (the container's
// runtime id without a prefix), in awslogs-group of awslogs-region; a group
// that does not exist is created only with awslogs-create-group "true", and
// otherwise nothing is written (ECS would fail the task to start; the
// sandbox does not).
func (s *Sandbox) awslogs(sc *scope, ev events.Raw) {
	var d events.ECSTaskStateChange
	if json.Unmarshal(ev.Detail, &d) != nil {
		return
	}
	switch d.LastStatus {
	case "RUNNING":
		s.startTaskLogs(sc, d, ev.Time)
	case "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED":
		// The containers have exited: nothing after stoppingAt is written.
		s.tasklogs.mu.Lock()
		streams := s.tasklogs.streams[d.TaskARN]
		if d.LastStatus == "STOPPED" {
			delete(s.tasklogs.streams, d.TaskARN)
		}
		s.tasklogs.mu.Unlock()
		cut := ev.Time
		if d.StoppingAt != nil {
			cut = *d.StoppingAt
		}
		for _, st := range streams {
			st.logs.truncate(st.group, st.stream, cut.UnixMilli())
		}
	}
}

func (s *Sandbox) startTaskLogs(sc *scope, d events.ECSTaskStateChange, at time.Time) {
	s.tasklogs.mu.Lock()
	_, seen := s.tasklogs.streams[d.TaskARN]
	if s.tasklogs.streams == nil {
		s.tasklogs.streams = map[string][]taskLogStream{}
	}
	s.tasklogs.streams[d.TaskARN] = nil
	s.tasklogs.mu.Unlock()
	if seen {
		return
	}
	if d.StartedAt != nil {
		at = *d.StartedAt
	}
	body, _ := json.Marshal(map[string]string{"taskDefinition": d.TaskDefinitionARN})
	out, err := sc.ecs.Handle(context.Background(), "DescribeTaskDefinition", body)
	if err != nil {
		return
	}
	raw, _ := json.Marshal(out)
	var td struct {
		TaskDefinition struct {
			ContainerDefinitions []awslogsContainer `json:"containerDefinitions"`
		} `json:"taskDefinition"`
	}
	if json.Unmarshal(raw, &td) != nil {
		return
	}
	taskID := d.TaskARN[strings.LastIndex(d.TaskARN, "/")+1:]
	var streams []taskLogStream
	for _, c := range td.TaskDefinition.ContainerDefinitions {
		if c.LogConfiguration == nil || c.LogConfiguration.LogDriver != "awslogs" {
			continue
		}
		opts := c.LogConfiguration.Options
		stream := opts["awslogs-stream-prefix"] + "/" + c.Name + "/" + taskID
		if opts["awslogs-stream-prefix"] == "" {
			stream = runtimeID(d, c.Name)
		}
		logs := s.scope(sc.account, opts["awslogs-region"]).logs
		if logs.startStream(opts["awslogs-group"], stream, opts["awslogs-create-group"] == "true", at, s.tasklogs.script(c.Image)) {
			streams = append(streams, taskLogStream{logs: logs, group: opts["awslogs-group"], stream: stream})
		}
	}
	s.tasklogs.mu.Lock()
	s.tasklogs.streams[d.TaskARN] = streams
	s.tasklogs.mu.Unlock()
}

// runtimeID is a container's runtime id from a task state change, or one
// derived from the task and container.
func runtimeID(d events.ECSTaskStateChange, container string) string {
	for _, c := range d.Containers {
		if c.Name == container && c.RuntimeID != "" {
			return c.RuntimeID
		}
	}
	return idSuffix(d.TaskARN+"/"+container, 64)
}

// startStream creates a container's stream and writes its scripted lines,
// stamped from start. It reports whether the group existed (or was created).
func (l *logsService) startStream(group, stream string, create bool, start time.Time, lines []LogLine) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if group == "" || l.groups[group] == nil && !create {
		return false
	}
	st := l.ensureStream(l.ensureGroup(group), stream)
	for _, line := range lines {
		ts := start.Add(line.After).UnixMilli()
		l.append(st, ts, ts, line.Message)
	}
	return true
}

// truncate drops a stream's events stamped after a container stopped.
func (l *logsService) truncate(group, stream string, stopped int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if g := l.groups[group]; g != nil {
		if st := g.streams[stream]; st != nil {
			st.events = slices.DeleteFunc(st.events, func(e logEvent) bool { return e.timestamp > stopped })
		}
	}
}
