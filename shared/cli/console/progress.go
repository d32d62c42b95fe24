package console

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// fillProgress reads, for each row with a blue/green, linear or canary
// deployment in flight, how far it got (DESIGN §10): two calls per such
// row, none for the others. A row whose record cannot be read shows the
// deployment without it.
func (s *Server) fillProgress(ctx context.Context, rows []Row, svcs []*types.Service) {
	var todo []int
	for i := range rows {
		if f := rows[i].InFlight; f != nil && f.Strategy != string(types.DeploymentStrategyRolling) && svcs[i] != nil {
			todo = append(todo, i)
		}
	}
	now := s.env.Now(ctx)
	_ = parallel(ctx, len(todo), func(ctx context.Context, j int) error {
		i := todo[j]
		p, err := s.env.DeploymentProgress(ctx, svcs[i], rows[i].InFlight.DeploymentID, now)
		if err != nil {
			s.opts.Logger.WarnContext(ctx, "read service deployment", "binding", rows[i].Binding, "err", err)
			return nil
		}
		rows[i].InFlight.Progress = p
		return nil
	})
}
