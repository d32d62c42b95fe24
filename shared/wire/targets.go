package wire

import "github.com/deckhand-ecs/deckhand/shared/aws/targets"

// targets returns the parts' target clients, building them once: a
// targets.Provider that assumes the targets' roles with the hub's
// credentials (AWS) and the external id (DECKHAND_EXTERNAL_ID), on the
// parts' clock. Every engine of a process shares it, so a binding's session
// is assumed once per process, whichever engine needs it first. Building
// it makes no AWS call.
func (p *Parts) targets() targets.Clients {
	if p.Targets == nil {
		p.Targets = &targets.Provider{AWS: p.AWS, ExternalID: p.Config.ExternalID, Now: p.Now}
	}
	return p.Targets
}
