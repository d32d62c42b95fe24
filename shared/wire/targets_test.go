package wire

import (
	"testing"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/aws/targets"
)

// TestEnginesShareOneTargetProvider: every engine of a process reaches
// the targets through one provider (a binding's session is assumed once,
// whichever engine needs it first), built with the configured external id;
// the tracker takes Deckhand's own account from the job engine, which
// learns it on the first invocation.
func TestEnginesShareOneTargetProvider(t *testing.T) {
	p := &Parts{Config: config.Config{ExternalID: "deckhand-123456789012-us-west-2", Region: "us-west-2"}}
	d, j := Deployer(p), Jobs(p)
	tr, r := Tracker(p, j), Reconciler(p, j)
	prov, ok := d.Targets.(*targets.Provider)
	if !ok || prov.ExternalID != p.Config.ExternalID {
		t.Fatalf("deploy engine targets = %#v, want a provider with the external id", d.Targets)
	}
	for name, c := range map[string]targets.Clients{"jobs": j.Targets, "tracker": tr.Deployments.Targets, "reconciler": r.Targets} {
		if c != d.Targets {
			t.Errorf("%s has its own target clients", name)
		}
	}
	j.Account = "123456789012" // what Handler reads from the function's ARN
	if acct, region := tr.Deployments.Home(); acct != "123456789012" || region != "us-west-2" {
		t.Errorf("tracker's home = %s %s, want the job engine's account and the configured Region", acct, region)
	}
}
