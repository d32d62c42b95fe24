// Package revision owns what Deckhand writes into ECS (DESIGN §1, §5): the
// `deckhand:` tag vocabulary on task-definition revisions, services and
// tasks; register-or-reuse (rule 7) and the service update with its circuit
// breaker (rule 8); error classification (rule 9) and pacing with retries
// (rule 10). The deploy engine, the job engine, the tracker, the reconciler
// and the CLI all read and write revisions through it.
package revision

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Prefix starts every key of Deckhand's vocabulary (and the task group of
// a job's tasks).
const Prefix = "deckhand:"

// Revision tag keys (DESIGN §5). Per-container keys are the key plus the
// container name.
const (
	TagBinding     = "deckhand:binding"
	TagTrigger     = "deckhand:trigger"
	TagEventID     = "deckhand:event-id"
	TagTemplate    = "deckhand:template"
	TagContentHash = "deckhand:content-hash"
	TagPushedAt    = "deckhand:pushed-at:" // + container
	TagDigest      = "deckhand:digest:"    // + container
	TagImageTag    = "deckhand:tag:"       // + container: the image tag, kept as metadata
	// TagChanged lists, space-separated, the containers whose image the
	// revision's deployment changed.
	TagChanged = "deckhand:changed"
	// TagJob names the job a revision was registered for.
	TagJob = "deckhand:job"
	// TagPromotedFrom names the binding a promotion's digests come from
	// (trigger promote).
	TagPromotedFrom = "deckhand:promoted-from"
	// TagApproval is a gated revision's approval state: pending (registered,
	// the service untouched; retention never removes it then), approved,
	// rejected, expired or superseded.
	TagApproval = "deckhand:approval"
	// TagApprovalExpires is when a pending revision expires (RFC 3339).
	TagApprovalExpires = "deckhand:approval-expires"
	// TagDecidedBy, TagDecidedAt and TagDecisionReason record who approved
	// or rejected a revision (STS GetCallerIdentity's ARN), when, and a
	// rejection's reason.
	TagDecidedBy      = "deckhand:decided-by"
	TagDecidedAt      = "deckhand:decided-at"
	TagDecisionReason = "deckhand:decision-reason"
)

// Approval states (the TagApproval value).
const (
	ApprovalPending    = "pending"
	ApprovalApproved   = "approved"
	ApprovalRejected   = "rejected"
	ApprovalExpired    = "expired"
	ApprovalSuperseded = "superseded"
)

// Service tag keys.
const (
	// TagHold makes the deployer skip the service with HELD. Its value is
	// the reason.
	TagHold = "deckhand:hold"
	// TagRolledBack, plus a container name, records the digests rolled
	// back from that container (by the circuit breaker, an alarm, a hook or
	// deckhand rollback), newest first, separated by spaces, at most
	// MaxRolledBack of them; the deployer does not deploy them to that
	// container again unless forced.
	TagRolledBack = "deckhand:rolled-back:"
	// TagBlocked, plus a container name, records the digest the scan gate
	// last BLOCKED for that container, and why ("<digest> <state>"): the
	// reconciler does not enqueue it again while its scan says the same.
	TagBlocked = "deckhand:blocked:"
)

// MaxRolledBack is how many digests a container's rolled-back mark keeps:
// three sha256 digests and their separators fit in the 256 characters of
// an ECS tag value. A fourth rollback forgets the oldest.
const MaxRolledBack = 3

// Task tag keys of a job's run.
const (
	TagScheduledTime = "deckhand:scheduled-time"
	TagAttempt       = "deckhand:attempt"
)

// Tags is a tag map read from ECS.
type Tags map[string]string

// TagsOf converts ECS tags to a map.
func TagsOf(tags []types.Tag) Tags {
	out := make(Tags, len(tags))
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// PushedAt returns a container's pushed-at high-water mark, if recorded.
func (t Tags) PushedAt(container string) (time.Time, bool) {
	v, ok := t[TagPushedAt+container]
	if !ok {
		return time.Time{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, v)
	return ts, err == nil
}

// MaxClockSkew is how far ahead of the reader's clock a push time may lie
// (issue 10 item 3). Event times are input, not truth: ECR stamps a push
// with its own clock, and the functions' clocks are NTP-synchronized like
// it, so a few seconds either way is normal and kept as ECR wrote it (all
// pushes are ordered on ECR's clock). A push further ahead is refused, and
// a pushed-at mark further ahead, written before pushes were checked, is
// not trusted.
const MaxClockSkew = 5 * time.Minute

// Future reports whether at lies more than MaxClockSkew after now.
func Future(at, now time.Time) bool { return at.After(now.Add(MaxClockSkew)) }

// PushedAtAsOf is PushedAt for ordering at time now: a mark more than
// MaxClockSkew in the future came from an event time that was not true
// and is treated as unrecorded, so it never makes a genuine push look
// older (issue 10 item 3). poisoned says such a mark was found.
func (t Tags) PushedAtAsOf(container string, now time.Time) (at time.Time, ok, poisoned bool) {
	at, ok = t.PushedAt(container)
	if ok && Future(at, now) {
		return time.Time{}, false, true
	}
	return at, ok, false
}

// ECS converts the map to ECS tags, sorted by key so that equal maps give
// byte-equal requests, with values ECS accepts (TagValue).
func (t Tags) ECS() []types.Tag {
	keys := slices.Sorted(maps.Keys(t))
	out := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(TagValue(t[k]))})
	}
	return out
}

// Merge is base (a template's own tags) with ours added; ours win.
func Merge(base []types.Tag, ours Tags) []types.Tag {
	all := TagsOf(base)
	maps.Copy(all, ours)
	return all.ECS()
}

// TagValue keeps the characters ECS allows in tag values (letters, digits,
// spaces and + - = . _ : / @), at most 256 of them.
func TagValue(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" +-=._:/@", r):
			return r
		}
		return -1
	}, s)
	if len(s) > 256 {
		s = s[:256]
	}
	return s
}

// RolledBackMarks are the service tags that record a rolled-back
// revision (given its tags): deckhand:rolled-back:<container>=<digest> for
// each container its deployment changed (deckhand:changed). The tracker
// writes them after a rollback; the deployer and the reconciler read them
// (and the reconciler repairs them when writing failed).
func RolledBackMarks(rev Tags) Tags {
	out := Tags{}
	for _, c := range strings.Fields(rev[TagChanged]) {
		if d := rev[TagDigest+c]; d != "" {
			out[TagRolledBack+c] = d
		}
	}
	return out
}

// RolledBack reports whether the service's rolled-back mark for
// container c names digest.
func (t Tags) RolledBack(c, digest string) bool {
	return digest != "" && slices.Contains(strings.Fields(t[TagRolledBack+c]), digest)
}

// AddRolledBack returns the service tags that add marks (RolledBackMarks:
// one digest per container) to the rolled-back marks service carries: each
// new digest first, then the ones marked before, at most MaxRolledBack. A
// container whose mark names the digest already is left out, so nothing
// is written again. A second rollback in a row thus keeps the first
// digest marked (a mark once held one digest, and a redelivered push of
// the first was deployed again).
func AddRolledBack(service, marks Tags) Tags {
	out := Tags{}
	for k, d := range marks {
		c, ok := strings.CutPrefix(k, TagRolledBack)
		if !ok || d == "" || service.RolledBack(c, d) {
			continue
		}
		ds := append([]string{d}, strings.Fields(service[k])...)
		out[k] = strings.Join(ds[:min(len(ds), MaxRolledBack)], " ")
	}
	return out
}

// Missing are the tags of want that have is lacks or holds with another
// value.
func (want Tags) Missing(have Tags) Tags {
	out := Tags{}
	for k, v := range want {
		if have[k] != v {
			out[k] = v
		}
	}
	return out
}
