package chaos

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/deckhand-ecs/deckhand/events"
)

// Resolutions of an input, for the inputs table.
const (
	ResDecided    = "decided (Deckhand event)"
	ResDeduped    = "dropped by FIFO dedup (same id < 5 min)"
	ResDLQ        = "dead-lettered (DLQ, reason logged)"
	ResAsyncFail  = "async retries exhausted (on-failure destination)"
	ResJobStarted = "runner result"
	ResUnresolved = "UNRESOLVED"
	ResTracker    = "handed to the tracker (invariant 9)"
)

// final statuses decide an input at a binding; FAILED is a reason, not a
// decision, because its message is retried and then dead-lettered.
var final = map[events.DeploymentStatus]bool{
	events.StatusStarted: true, events.StatusAlreadyDeployed: true, events.StatusSuperseded: true,
	events.StatusHeld: true, events.StatusSkipped: true,
	// The gates' decisions (gates.go): a push a gate holds back is decided,
	// and invariant 15 follows it to its end.
	events.StatusPendingScan: true, events.StatusBlocked: true, events.StatusPendingApproval: true,
}

// keys are what decisions an input needs: one per binding its repository
// feeds (matched by binding and digest, since a deployment that coalesces
// pushes to two containers carries only its lead push's event id), else
// one by event id.
func (c *checker) keys(in *Input) []string {
	p := in.push()
	switch p.Kind {
	case KindMalformed:
		return []string{"malformed"}
	case KindUntagged, KindDelete, KindStray, KindForeign:
		return []string{"id=" + p.ID}
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range c.w.byRepo[p.Repo] {
		k := "b=" + f.service + "|d=" + p.Digest
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// covered are the keys an event decides.
func covered(ev events.DeploymentStateChange) []string {
	if !final[ev.Status] {
		return nil
	}
	if ev.Binding == "" {
		return []string{"id=" + ev.EventID}
	}
	var out []string
	seen := map[string]bool{}
	for _, ch := range ev.Containers {
		d := ch.NewDigest
		if ch.PushedDigest != "" {
			d = ch.PushedDigest // a catch-up answers the push, deploying a newer image
		}
		k := "b=" + ev.Binding + "|d=" + d
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// accounted checks invariant 4.
//
// An input is one message the deploy queue accepted (or one direct
// invocation, or one runner invocation). It is accounted for exactly once
// when:
//   - the queue resolves it exactly once: deleted after exactly one receive
//     that was not a failure, and never received again; or, after
//     maxReceiveCount failed receives, in the DLQ exactly once, with a
//     reason (a FAILED event or an error decision in its last receive);
//   - the receive that deleted it holds exactly one final decision (STARTED,
//     ALREADY_DEPLOYED, SUPERSEDED, HELD or SKIPPED) per binding its
//     repository feeds, or per event id when none does. Receives that
//     failed the message may have emitted decisions for its other bindings
//     (at-least-once): those are bounded by the messages in the batch.
//
// A delivery the FIFO queue drops as a duplicate (same event id within
// five minutes) is accounted by its original.
func (c *checker) accounted(rep *Report) Row {
	row := Row{Name: InvAccounted}
	bad := func(format string, a ...any) { row.Violations = append(row.Violations, fmt.Sprintf(format, a...)) }
	resolve := func(in *Input, res string) {
		if rep.Inputs[in.Kind] == nil {
			rep.Inputs[in.Kind] = map[string]int{}
		}
		rep.Inputs[in.Kind][res]++
	}
	dead, deadJobs := map[string]int{}, map[string]int{}
	for _, in := range c.res.Inputs {
		row.Checked++
		switch {
		case in.isJob():
			c.accountJob(in, resolve, bad, rep, deadJobs)
		case in.Route == RouteTracker:
			resolve(in, ResTracker)
		case in.Route == RouteDirect:
			if in.Err != nil {
				resolve(in, ResAsyncFail)
				if in.Attempts < asyncAttempts {
					bad("input %d (direct): gave up after %d attempts", in.N, in.Attempts)
				}
				continue
			}
			resolve(in, ResDecided)
		case in.Deduped:
			resolve(in, ResDeduped)
		default:
			m := c.res.Messages[in.MessageID]
			if m == nil {
				bad("input %d: no message", in.N)
				resolve(in, ResUnresolved)
				continue
			}
			inv, idx := deletingReceive(m)
			switch {
			case inv != nil && idx < len(m.Receives)-1:
				bad("input %d (%s): received again after it was deleted", in.N, in.Kind)
				resolve(in, ResUnresolved)
			case inv != nil && deadLettered(inv, m.ID):
				// The deployer dead-lettered it at once (a permanent failure):
				// the receive holds the reason, and FAILED was emitted on the
				// message's first receive.
				dead[string(in.Raw)]++
				resolve(in, ResDLQ)
				why := c.reason(inv, in)
				if why == "" {
					why = inv.DeadLettered[m.ID]
				}
				if why == "" {
					bad("input %d (%s): dead-lettered by the deployer with no reason", in.N, in.Kind)
				}
				if c.reason(m.Receives[0], in) == "" {
					bad("input %d (%s): dead-lettered with no FAILED event or error decision on its first receive", in.N, in.Kind)
				}
				rep.DLQReasons[reasonClass(why)]++
			case inv != nil:
				resolve(in, ResDecided)
			case len(m.Receives) >= 3:
				dead[string(in.Raw)]++
				resolve(in, ResDLQ)
				last := m.Receives[len(m.Receives)-1]
				why := c.reason(last, in)
				switch {
				case why == "" && last.EmitErr != nil:
					row.Known = append(row.Known, fmt.Sprintf("G2: input %d (%s): dead-lettered after its last receive failed the whole batch because emitting events failed (%v); nothing logged",
						in.N, in.Kind, last.EmitErr))
					why = "emit failed (not logged)"
				case why == "":
					bad("input %d (%s): dead-lettered with no reason (no FAILED event or error decision in its last receive)", in.N, in.Kind)
				}
				rep.DLQReasons[reasonClass(why)]++
			default:
				bad("input %d (%s): neither deleted nor dead-lettered after %d receive(s)", in.N, in.Kind, len(m.Receives))
				resolve(in, ResUnresolved)
			}
		}
	}
	c.jobDLQ(deadJobs, bad)
	// The DLQ holds exactly the dead-lettered messages.
	inDLQ := map[string]int{}
	for _, body := range c.res.DLQ {
		inDLQ[body]++
	}
	for body, n := range inDLQ {
		if dead[body] != n {
			bad("DLQ holds %d copies of a message the run dead-lettered %d times: %.80s", n, dead[body], body)
		}
	}
	for body, n := range dead {
		if inDLQ[body] == 0 {
			bad("%d dead-lettered message(s) missing from the DLQ: %.80s", n, body)
		}
	}
	// One bad push, one alert: at most one FAILED per push and binding.
	failedFor := map[string]int{}
	for _, inv := range c.res.Invocations {
		seen := map[string]bool{}
		for _, ev := range inv.Events {
			k := ev.EventID + "|" + ev.Binding
			if ev.Status != events.StatusFailed || ev.EventID == "" || seen[k] {
				continue
			}
			seen[k] = true
			if failedFor[k]++; failedFor[k] == 2 {
				bad("push %s, binding %q: FAILED reported more than once", ev.EventID, ev.Binding)
			}
		}
	}
	// Each receive decides each of its messages once per binding.
	for _, inv := range c.res.Invocations {
		finals, deleted, total := map[string]int{}, map[string]int{}, map[string]int{}
		// PutEvents is at-least-once: a retry after a response lost on the
		// way back puts the same entries again. An identical event is the
		// same decision, counted once (and the repeats are reported).
		seen := map[string]bool{}
		for _, ev := range inv.Events {
			key, _ := json.Marshal(ev)
			if seen[string(key)] {
				c.repeats++
				continue
			}
			seen[string(key)] = true
			for _, k := range covered(ev) {
				finals[k]++
			}
		}
		var ins []*Input
		if inv.Direct != nil {
			ins = []*Input{inv.Direct}
		}
		for _, id := range inv.Messages {
			if m := c.res.Messages[id]; m != nil {
				ins = append(ins, m.Input)
			}
		}
		for _, in := range ins {
			ok := inv.Err == nil && (inv.Direct != nil || !inv.Failed[in.MessageID] && !deadLettered(inv, in.MessageID))
			for _, k := range c.keys(in) {
				total[k]++
				if ok {
					deleted[k]++
				}
			}
		}
		for k, n := range deleted {
			if k == "malformed" {
				continue
			}
			if finals[k] < n {
				bad("invocation %d: %s decided %d time(s) for %d resolved message(s)", inv.N, k, finals[k], n)
			}
		}
		for k, n := range finals {
			if n > total[k] {
				bad("invocation %d: %s decided %d times for %d message(s)", inv.N, k, n, total[k])
			}
		}
	}
	return row
}

// reason is why a receive failed a message: a FAILED event or an error
// decision naming it, or the invocation's error.
func (c *checker) reason(inv *Invocation, in *Input) string {
	if inv.Err != nil {
		return inv.Err.Error()
	}
	p := in.push()
	for _, ev := range inv.Events {
		if ev.Status != events.StatusFailed {
			continue
		}
		if ev.EventID == p.ID || p.Kind == KindMalformed && ev.EventID == "" {
			return ev.Reason
		}
		for _, ch := range ev.Containers {
			if ch.NewDigest != "" && ch.NewDigest == p.Digest {
				return ev.Reason
			}
		}
	}
	for _, d := range inv.Logs {
		if d.Level < slog.LevelError {
			continue
		}
		if d.EventID == p.ID || p.Kind == KindMalformed && d.EventID == "" || p.Digest != "" && slices.Contains(d.Digests, p.Digest) {
			return d.Reason
		}
	}
	return ""
}

// reasonClass shortens a failure reason to its cause for the DLQ table.
func reasonClass(why string) string {
	if why == "" {
		return "(none)"
	}
	head, _, _ := strings.Cut(why, ":")
	if strings.Contains(why, "retry quota exceeded") {
		head += " (SDK retry quota exhausted)"
	} else if strings.Contains(why, "exceeded maximum number of attempts") {
		head += " (SDK attempts exhausted)"
	}
	return head
}
