package sandbox

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// eventKey orders log events: by timestamp, then by when they were stored.
// Pagination tokens name the key of the event a page ended (or began) at,
// so events stored meanwhile never shift a page.
type eventKey struct{ ts, id int64 }

func (k eventKey) String() string { return fmt.Sprintf("%d/%d", k.ts, k.id) }

func (k eventKey) less(o eventKey) bool { return k.ts < o.ts || k.ts == o.ts && k.id < o.id }

func parseEventKey(s string) (eventKey, bool) {
	a, b, ok := strings.Cut(s, "/")
	ts, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	return eventKey{ts, id}, ok && err1 == nil && err2 == nil
}

func keyOf(e logEvent) eventKey { return eventKey{e.timestamp, e.id} }

// inWindow keeps the events in [start, end) (milliseconds; 0 is open).
func inWindow(evs []logEvent, start, end int64) []logEvent {
	var out []logEvent
	for _, e := range evs {
		if e.timestamp >= start && (end == 0 || e.timestamp < end) {
			out = append(out, e)
		}
	}
	return out
}

// getLogEvents pages through one stream. Without a token it starts at the
// head (startFromHead) or ends at the tail (the default); the tokens are
// nextForwardToken "f/…" and nextBackwardToken "b/…", and at the end of the
// stream the forward token comes back unchanged, which is how clients such
// as the AWS CLI know to stop.
func (l *logsService) getLogEvents(body []byte) (any, error) {
	var in struct {
		LogGroupName, LogGroupIdentifier, LogStreamName, NextToken string
		StartTime, EndTime                                         int64
		Limit                                                      int
		StartFromHead                                              bool
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	g, err := l.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	st := g.streams[in.LogStreamName]
	if st == nil {
		return nil, logsNotFound("log stream")
	}
	if in.Limit <= 0 || in.Limit > 10000 {
		in.Limit = 10000
	}
	evs := inWindow(st.visible(l.clock.Now().UnixMilli()), in.StartTime, in.EndTime)
	var page []logEvent
	dir, key, hasToken := "", eventKey{}, in.NextToken != ""
	if hasToken {
		var rest string
		dir, rest, _ = strings.Cut(in.NextToken, "/")
		var ok bool
		if key, ok = parseEventKey(rest); !ok || dir != "f" && dir != "b" {
			return nil, logsInvalid("The specified nextToken is invalid.")
		}
	}
	switch {
	case dir == "f" || !hasToken && in.StartFromHead:
		i := 0
		if hasToken {
			i = slices.IndexFunc(evs, func(e logEvent) bool { return key.less(keyOf(e)) })
			if i < 0 {
				i = len(evs)
			}
		}
		page = evs[i:min(i+in.Limit, len(evs))]
	default:
		end := len(evs)
		if hasToken {
			end = slices.IndexFunc(evs, func(e logEvent) bool { return !keyOf(e).less(key) })
			if end < 0 {
				end = len(evs)
			}
		}
		page = evs[max(0, end-in.Limit):end]
	}
	out := []map[string]any{}
	for _, e := range page {
		out = append(out, map[string]any{"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion})
	}
	fwd, back := "f/0/0", "b/0/0"
	switch {
	case len(page) > 0:
		fwd, back = "f/"+keyOf(page[len(page)-1]).String(), "b/"+keyOf(page[0]).String()
	case hasToken:
		fwd, back = "f/"+key.String(), "b/"+key.String()
	}
	return map[string]any{"events": out, "nextForwardToken": fwd, "nextBackwardToken": back}, nil
}

// filterLogEvents searches a group's streams (all, named ones, or those
// with a prefix), oldest first, with CloudWatch Logs' term patterns.
func (l *logsService) filterLogEvents(body []byte) (any, error) {
	var in struct {
		LogGroupName, LogGroupIdentifier, LogStreamNamePrefix, FilterPattern, NextToken string
		LogStreamNames                                                                  []string
		StartTime, EndTime                                                              int64
		Limit                                                                           int
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	g, err := l.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, logsInvalid("You cannot specify both LogStreamNames and LogStreamNamePrefix.")
	}
	match, err := filterPattern(in.FilterPattern)
	if err != nil {
		return nil, err
	}
	if in.Limit <= 0 || in.Limit > 10000 {
		in.Limit = 10000
	}
	type hit struct {
		stream string
		e      logEvent
	}
	var hits []hit
	now := l.clock.Now().UnixMilli()
	for name, st := range g.streams {
		if len(in.LogStreamNames) > 0 && !slices.Contains(in.LogStreamNames, name) || !strings.HasPrefix(name, in.LogStreamNamePrefix) {
			continue
		}
		for _, e := range inWindow(st.visible(now), in.StartTime, in.EndTime) {
			if match(e.message) {
				hits = append(hits, hit{name, e})
			}
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if keyOf(a.e).less(keyOf(b.e)) {
			return -1
		}
		return 1
	})
	if in.NextToken != "" {
		key, ok := parseEventKey(in.NextToken)
		if !ok {
			return nil, logsInvalid("The specified nextToken is invalid.")
		}
		i := slices.IndexFunc(hits, func(h hit) bool { return key.less(keyOf(h.e)) })
		if i < 0 {
			i = len(hits)
		}
		hits = hits[i:]
	}
	out := map[string]any{"events": []map[string]any{}, "searchedLogStreams": []any{}}
	var evs []map[string]any
	for _, h := range hits[:min(in.Limit, len(hits))] {
		evs = append(evs, map[string]any{"logStreamName": h.stream, "timestamp": h.e.timestamp, "message": h.e.message,
			"ingestionTime": h.e.ingestion, "eventId": fmt.Sprintf("%056d", h.e.id)})
	}
	if evs != nil {
		out["events"] = evs
	}
	if len(hits) > in.Limit {
		out["nextToken"] = keyOf(hits[in.Limit-1].e).String()
	}
	return out, nil
}

// filterPattern compiles CloudWatch Logs' term patterns: terms that must
// all appear (case-sensitive), "quoted phrases", ?terms of which one must
// appear, and -terms that must not. JSON ({…}), space-delimited ([…]) and
// regular-expression (%…%) patterns are refused with a clear error.
func filterPattern(p string) (func(string) bool, error) {
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, "{") || strings.HasPrefix(p, "[") || strings.HasPrefix(p, "%") {
		return nil, logsInvalid("the Deckhand sandbox evaluates term, \"phrase\", ?term and -term filter patterns only, not %q", p)
	}
	var all, anyOf, none []string
	for p != "" {
		var term string
		prefix := ""
		if p[0] == '?' || p[0] == '-' {
			prefix, p = p[:1], p[1:]
		}
		if strings.HasPrefix(p, `"`) {
			end := strings.Index(p[1:], `"`)
			if end < 0 {
				return nil, logsInvalid("Invalid filter pattern %q: unterminated quote", p)
			}
			term, p = p[1:end+1], p[end+2:]
		} else {
			term, p, _ = strings.Cut(p, " ")
		}
		p = strings.TrimSpace(p)
		switch prefix {
		case "?":
			anyOf = append(anyOf, term)
		case "-":
			none = append(none, term)
		default:
			all = append(all, term)
		}
	}
	return func(msg string) bool {
		for _, t := range all {
			if !strings.Contains(msg, t) {
				return false
			}
		}
		for _, t := range none {
			if strings.Contains(msg, t) {
				return false
			}
		}
		return len(anyOf) == 0 || slices.ContainsFunc(anyOf, func(t string) bool { return strings.Contains(msg, t) })
	}, nil
}
