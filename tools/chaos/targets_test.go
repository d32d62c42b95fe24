package chaos

import (
	"bytes"
	"testing"
)

// TestChaosCatchesMixedUpTargets proves invariant 16 can fail: with every
// engine handed Deckhand's own ECS client for the targets' bindings, their
// pushes deploy the decoys of the same name in the hub.
var bytesOut bytes.Buffer

func TestChaosCatchesMixedUpTargets(t *testing.T) {
	rep := run(t, Config{Seed: 5, Events: 150, Services: 10, FaultRate: -1, Break: BreakTargetIsolation})
	rep.Write(&bytesOut)
	t.Log(bytesOut.String())
	if n := len(rep.Row(InvIsolated).Violations); n == 0 {
		var out bytes.Buffer
		rep.Write(&out)
		t.Errorf("invariant 16 found nothing with the targets' clients mixed up:\n%s", out.String())
	}
}
