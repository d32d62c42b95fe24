package sandbox

import (
	"encoding/json"
	"strings"

	"github.com/deckhand-ecs/deckhand/events"
)

// Target is an account and Region whose ECS events reach the home bus, as
// a target stack's forwarding rules send them (infra/target.go): the
// deployment state changes of services in Clusters, and the task state
// changes of tasks in Clusters whose startedBy has TaskStartedBy as prefix.
type Target struct {
	Account, Region string
	Clusters        []string
	TaskStartedBy   string // "" forwards no task state changes
}

// ForwardTarget subscribes the home bus to t's ECS events, as an
// EventBridge rule with an event-bus target does: the forwarded event keeps
// its id, time, account and Region, and is published on the home bus (and
// so reaches the Router, the tracker's rules).
func (s *Sandbox) ForwardTarget(t Target) {
	from := s.scope(t.Account, t.Region).bus
	home := s.home().bus
	if from == home {
		return
	}
	from.mu.Lock()
	from.subs = append(from.subs, func(ev events.Raw) {
		if t.matches(ev) {
			home.publish(ev)
		}
	})
	from.mu.Unlock()
}

// matches applies the target stack's two event patterns.
func (t Target) matches(ev events.Raw) bool {
	if ev.Source != events.SourceECS {
		return false
	}
	switch ev.DetailType {
	case events.DetailTypeDeploymentStateChange:
		for _, res := range ev.Resources {
			for _, c := range t.Clusters {
				if strings.HasPrefix(res, "arn:aws:ecs:"+t.Region+":"+t.Account+":service/"+c+"/") {
					return true
				}
			}
		}
	case events.DetailTypeTaskStateChange:
		if t.TaskStartedBy == "" {
			return false
		}
		var d struct {
			ClusterARN string `json:"clusterArn"`
			StartedBy  string `json:"startedBy"`
		}
		if json.Unmarshal(ev.Detail, &d) != nil || !strings.HasPrefix(d.StartedBy, t.TaskStartedBy) {
			return false
		}
		for _, c := range t.Clusters {
			if d.ClusterARN == "arn:aws:ecs:"+t.Region+":"+t.Account+":cluster/"+c {
				return true
			}
		}
	}
	return false
}
