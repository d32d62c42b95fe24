package cli

import (
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
)

// RevisionGate is a gated revision's record, read from its tags (DESIGN
// §11): its approval state, who decided and why, when a pending one
// expires, and the binding a promotion came from.
type RevisionGate struct {
	// Approval is pending, approved, rejected, expired or superseded.
	Approval     string    `json:"approval,omitempty"`
	Expires      time.Time `json:"expires,omitzero"`
	DecidedBy    string    `json:"decidedBy,omitempty"`
	DecidedAt    time.Time `json:"decidedAt,omitzero"`
	Reason       string    `json:"reason,omitempty"`
	PromotedFrom string    `json:"promotedFrom,omitempty"`
}

// revisionGate reads a revision's gate record, or nil when it has none.
func revisionGate(tags revision.Tags) *RevisionGate {
	g := &RevisionGate{Approval: tags[revision.TagApproval], DecidedBy: tags[revision.TagDecidedBy],
		Reason: tags[revision.TagDecisionReason], PromotedFrom: tags[revision.TagPromotedFrom]}
	g.Expires, _ = time.Parse(time.RFC3339, tags[revision.TagApprovalExpires])
	g.DecidedAt, _ = time.Parse(time.RFC3339, tags[revision.TagDecidedAt])
	if *g == (RevisionGate{}) {
		return nil
	}
	return g
}

// neverDeployed reports whether the revision waited for an approval that
// never came (or still waits): nothing deployed it.
func (g *RevisionGate) neverDeployed() bool {
	return g != nil && g.Approval != "" && g.Approval != revision.ApprovalApproved
}

// verdict is a never-deployed gated revision's state as a status word.
func (g *RevisionGate) verdict() string {
	switch g.Approval {
	case revision.ApprovalPending:
		return string(events.StatusPendingApproval)
	case revision.ApprovalRejected:
		return string(events.StatusRejected)
	case revision.ApprovalExpired:
		return string(events.StatusExpired)
	case revision.ApprovalSuperseded:
		return string(events.StatusSuperseded)
	}
	return ""
}
