package cli

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// ServiceEvent is one of the service's recent ECS events, as
// DescribeServices lists them (`aws ecs describe-services`: tasks started
// and stopped, deployments completed or failed, a steady state, placement
// problems).
type ServiceEvent struct {
	At time.Time `json:"at"`
	// Message is ECS's message without its "(service NAME) " prefix.
	Message string `json:"message"`
	ID      string `json:"id"`
}

// RecentEvents is how many of a service's events Status keeps (ECS keeps
// up to 100; the DescribeServices answer status reads has them, so they
// cost no call).
const RecentEvents = 10

// recentEvents are the newest n events of a service, newest first.
func recentEvents(svc *types.Service, n int) []ServiceEvent {
	prefix := "(service " + aws.ToString(svc.ServiceName) + ") "
	var out []ServiceEvent
	for _, ev := range svc.Events {
		if len(out) == n {
			break
		}
		out = append(out, ServiceEvent{At: aws.ToTime(ev.CreatedAt), Message: strings.TrimPrefix(aws.ToString(ev.Message), prefix), ID: aws.ToString(ev.Id)})
	}
	return out
}

// TrimEvents keeps the newest n events of each service (status --events).
func (s *Status) TrimEvents(n int) {
	for i := range s.Services {
		if len(s.Services[i].Events) > n {
			s.Services[i].Events = s.Services[i].Events[:n]
		}
	}
}
