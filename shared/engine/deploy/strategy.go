package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/deckhand-ecs/deckhand/shared/aws/alarms"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// The rules of DESIGN §10 a deploy passes before any write: the service
// can run the binding's strategy, and the alarms its deployment names
// exist. Both are permanent failures (FAILED once, the push dead-lettered)
// that name what is missing; neither reads anything for a binding without
// a deployment: block, so its deploys make the calls they made before.

// strategyRunnable refuses a strategy the service's configuration cannot
// support (blueGreen without an alternate target group and listener rule,
// linear or canary without those or Service Connect), from the service
// the engine read already.
func strategyRunnable(b *manifest.Service, run *running) error {
	if why := revision.StrategyUnsupported(b, run.service); why != "" {
		return &revision.PermanentError{Reason: "StrategyUnsupported", Err: fmt.Errorf("%s", why)}
	}
	return nil
}

// alarmsExist refuses a deploy whose deployment alarms CloudWatch does not
// know: ECS would watch nothing and the deployment could never roll back
// on them. It asks CloudWatch once per deploy of a binding with alarms
// (nil Alarms: not checked).
func (e *Engine) alarmsExist(ctx context.Context, b *manifest.Service) error {
	if e.Alarms == nil || b.Deployment == nil || len(b.Deployment.Alarms) == 0 {
		return nil
	}
	var missing []string
	err := e.pacer().Retry(ctx, func() error {
		var err error
		missing, err = alarms.Missing(ctx, e.Alarms, b.Deployment.Alarms)
		return err
	})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return &revision.PermanentError{Reason: "AlarmNotFound", Err: fmt.Errorf(
			"CloudWatch has no alarm %s in %s (deployment.alarms of binding %s); create it or take it out of the manifest",
			strings.Join(missing, ", "), e.Region, b.Name)}
	}
	return nil
}
