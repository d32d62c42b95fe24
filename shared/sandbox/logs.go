package sandbox

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// logsService emulates the CloudWatch Logs subset Deckhand uses: log groups
// and streams, PutLogEvents, GetLogEvents and FilterLogEvents. Task
// containers with the awslogs driver write into it (logs_tasks.go); their
// lines show once the virtual clock reaches them.
type logsService struct {
	clock           *vclock.Clock
	account, region string

	mu     sync.Mutex
	groups map[string]*logGroup
	seq    int64 // event ids
}

type logGroup struct {
	name    string
	created time.Time
	streams map[string]*logStream
}

type logStream struct {
	name    string
	created time.Time
	events  []logEvent // ordered by timestamp, then ingestion
}

type logEvent struct {
	id        int64
	timestamp int64 // milliseconds
	ingestion int64
	message   string
}

func newLogs(clock *vclock.Clock, account, region string) *logsService {
	return &logsService{clock: clock, account: account, region: region, groups: map[string]*logGroup{}}
}

type logsOp func(l *logsService, body []byte) (any, error)

var logsOps = map[string]logsOp{
	"CreateLogGroup":     (*logsService).createLogGroup,
	"DescribeLogGroups":  (*logsService).describeLogGroups,
	"CreateLogStream":    (*logsService).createLogStream,
	"DescribeLogStreams": (*logsService).describeLogStreams,
	"PutLogEvents":       (*logsService).putLogEvents,
	"GetLogEvents":       (*logsService).getLogEvents,
	"FilterLogEvents":    (*logsService).filterLogEvents,
}

func (l *logsService) handle(_ context.Context, op string, body []byte) (any, error) {
	f, ok := logsOps[op]
	if !ok {
		return nil, awsproto.Errorf(http.StatusBadRequest, "UnknownOperationException", "operation %s is not supported by the sandbox", op)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return f(l, body)
}

func logsNotFound(what string) error {
	return awsproto.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "The specified %s does not exist.", what)
}

func logsInvalid(format string, args ...any) error {
	return awsproto.Errorf(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

func (l *logsService) groupARN(name string) string {
	return "arn:aws:logs:" + l.region + ":" + l.account + ":log-group:" + name
}

// group resolves a log group by logGroupName or logGroupIdentifier (a
// name or an ARN).
func (l *logsService) group(name, identifier string) (*logGroup, error) {
	if name == "" {
		name = strings.TrimSuffix(strings.TrimPrefix(identifier, l.groupARN("")), ":*")
	}
	g := l.groups[name]
	if g == nil {
		return nil, logsNotFound("log group")
	}
	return g, nil
}

// ensureGroup creates a log group if missing. Callers hold mu.
func (l *logsService) ensureGroup(name string) *logGroup {
	g := l.groups[name]
	if g == nil {
		g = &logGroup{name: name, created: l.clock.Now(), streams: map[string]*logStream{}}
		l.groups[name] = g
	}
	return g
}

// ensureStream creates a log stream if missing. Callers hold mu.
func (l *logsService) ensureStream(g *logGroup, name string) *logStream {
	st := g.streams[name]
	if st == nil {
		st = &logStream{name: name, created: l.clock.Now()}
		g.streams[name] = st
	}
	return st
}

func (l *logsService) createLogGroup(body []byte) (any, error) {
	var in struct{ LogGroupName string }
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if in.LogGroupName == "" || len(in.LogGroupName) > 512 {
		return nil, logsInvalid("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint: Member must have length between 1 and 512", in.LogGroupName)
	}
	if l.groups[in.LogGroupName] != nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "ResourceAlreadyExistsException", "The specified log group already exists")
	}
	l.ensureGroup(in.LogGroupName)
	return nil, nil
}

func (l *logsService) describeLogGroups(body []byte) (any, error) {
	var in struct {
		LogGroupNamePrefix, NextToken string
		Limit                         int
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	var names []string
	for n := range l.groups {
		if strings.HasPrefix(n, in.LogGroupNamePrefix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	page, next, err := paginate(names, in.NextToken, in.Limit, 50, 50)
	if err != nil {
		return nil, logsInvalid("%v", err)
	}
	groups := []map[string]any{}
	for _, n := range page {
		g := l.groups[n]
		var stored int
		for _, st := range g.streams {
			for _, e := range st.events {
				stored += len(e.message)
			}
		}
		groups = append(groups, map[string]any{
			"logGroupName": n, "creationTime": g.created.UnixMilli(), "metricFilterCount": 0,
			"arn": l.groupARN(n) + ":*", "logGroupArn": l.groupARN(n), "storedBytes": stored, "logGroupClass": "STANDARD",
		})
	}
	return map[string]any{"logGroups": groups, "nextToken": next}, nil
}

func (l *logsService) createLogStream(body []byte) (any, error) {
	var in struct{ LogGroupName, LogStreamName string }
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	g, err := l.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	if in.LogStreamName == "" || strings.ContainsAny(in.LogStreamName, ":*") {
		return nil, logsInvalid("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*", in.LogStreamName)
	}
	if g.streams[in.LogStreamName] != nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "ResourceAlreadyExistsException", "The specified log stream already exists")
	}
	l.ensureStream(g, in.LogStreamName)
	return nil, nil
}

func (l *logsService) describeLogStreams(body []byte) (any, error) {
	var in struct {
		LogGroupName, LogGroupIdentifier, LogStreamNamePrefix, NextToken string
		Limit                                                            int
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	g, err := l.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range g.streams {
		if strings.HasPrefix(n, in.LogStreamNamePrefix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	page, next, err := paginate(names, in.NextToken, in.Limit, 50, 50)
	if err != nil {
		return nil, logsInvalid("%v", err)
	}
	now := l.clock.Now().UnixMilli()
	streams := []map[string]any{}
	for _, n := range page {
		st := g.streams[n]
		out := map[string]any{"logStreamName": n, "creationTime": st.created.UnixMilli(), "storedBytes": 0,
			"arn": l.groupARN(g.name) + ":log-stream:" + n}
		if vis := st.visible(now); len(vis) > 0 {
			out["firstEventTimestamp"], out["lastEventTimestamp"] = vis[0].timestamp, vis[len(vis)-1].timestamp
			out["lastIngestionTime"] = vis[len(vis)-1].ingestion
		}
		streams = append(streams, out)
	}
	return map[string]any{"logStreams": streams, "nextToken": next}, nil
}

type inputLogEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// putLogEvents appends a batch. As CloudWatch Logs does, it refuses a batch
// out of chronological order or over 10,000 events, and reports (without
// storing) events more than 14 days old or 2 hours ahead of the clock.
// Sequence tokens are accepted and ignored, as they have been since 2023.
func (l *logsService) putLogEvents(body []byte) (any, error) {
	var in struct {
		LogGroupName, LogStreamName string
		LogEvents                   []inputLogEvent
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	g, err := l.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	st := g.streams[in.LogStreamName]
	if st == nil {
		return nil, logsNotFound("log stream")
	}
	switch {
	case len(in.LogEvents) == 0 || len(in.LogEvents) > 10000:
		return nil, logsInvalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length between 1 and 10000")
	case !sort.SliceIsSorted(in.LogEvents, func(i, j int) bool { return in.LogEvents[i].Timestamp < in.LogEvents[j].Timestamp }):
		return nil, logsInvalid("Log events in a single PutLogEvents request must be in chronological order.")
	}
	now := l.clock.Now()
	tooOld, tooNew := now.Add(-14*24*time.Hour).UnixMilli(), now.Add(2*time.Hour).UnixMilli()
	rejected := map[string]int{}
	for i, e := range in.LogEvents {
		switch {
		case e.Timestamp < tooOld:
			rejected["tooOldLogEventEndIndex"] = i + 1
		case e.Timestamp > tooNew:
			if _, ok := rejected["tooNewLogEventStartIndex"]; !ok {
				rejected["tooNewLogEventStartIndex"] = i
			}
		default:
			l.append(st, e.Timestamp, now.UnixMilli(), e.Message)
		}
	}
	out := map[string]any{"nextSequenceToken": "0"}
	if len(rejected) > 0 {
		out["rejectedLogEventsInfo"] = rejected
	}
	return out, nil
}

// append stores one event in timestamp order. Callers hold mu.
func (l *logsService) append(st *logStream, timestamp, ingestion int64, message string) {
	l.seq++
	e := logEvent{id: l.seq, timestamp: timestamp, ingestion: ingestion, message: message}
	i := sort.Search(len(st.events), func(i int) bool { return st.events[i].timestamp > timestamp })
	st.events = slices.Insert(st.events, i, e)
}

// visible returns the events ingested at or before now (milliseconds): a
// container's scripted line is ingested at its timestamp, so it shows only
// once the virtual clock reaches it.
func (st *logStream) visible(now int64) []logEvent {
	var out []logEvent
	for _, e := range st.events {
		if e.ingestion <= now {
			out = append(out, e)
		}
	}
	return out
}
