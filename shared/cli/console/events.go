package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
)

// EventSource is where the console reads Deckhand's own events back from:
// the "Deckhand Deployment State Change" decisions and verdicts (HELD,
// SUPERSEDED, ROLLED_BACK with its reason, ...) that ECS does not keep.
//
// EventBridge keeps no history that can be read back, so against AWS there
// is no source today and the console builds its timeline from ECS alone.
// The interface is small so that a later change can plug in a CloudWatch
// Logs group that an EventBridge rule fills with Deckhand's events
// (FilterLogEvents with a JSON pattern on $.detail.binding and the time
// range); against the sandbox, SandboxEvents reads its recorded events.
type EventSource interface {
	// Deployments returns the Deckhand deployment events of binding (every
	// binding when empty) at or after since, oldest first.
	Deployments(ctx context.Context, binding string, since time.Time) ([]DeploymentEvent, error)
}

// DeploymentEvent is one "Deckhand Deployment State Change" and its time.
type DeploymentEvent struct {
	Time time.Time
	events.DeploymentStateChange
}

// SandboxEvents reads the events the sandbox's EventBridge received, through
// its control API (GET /_sandbox/events).
type SandboxEvents struct {
	Endpoint string       // e.g. http://127.0.0.1:4566
	Client   *http.Client // default http.DefaultClient
}

// Deployments implements EventSource.
func (s SandboxEvents) Deployments(ctx context.Context, binding string, since time.Time) ([]DeploymentEvent, error) {
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	url := strings.TrimRight(s.Endpoint, "/") + "/_sandbox/events"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("read sandbox events: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read sandbox events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read sandbox events: HTTP %d", resp.StatusCode)
	}
	var raw []events.Raw
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		return nil, fmt.Errorf("read sandbox events: %w", err)
	}
	return deploymentEvents(raw, binding, since), nil
}

// deploymentEvents picks binding's Deckhand deployment events at or after
// since from raw EventBridge events, oldest first.
func deploymentEvents(raw []events.Raw, binding string, since time.Time) []DeploymentEvent {
	var out []DeploymentEvent
	for _, ev := range raw {
		if ev.Source != events.SourceDeckhand || ev.DetailType != events.DetailTypeDeckhandDeployment || ev.Time.Before(since) {
			continue
		}
		var d events.DeploymentStateChange
		if json.Unmarshal(ev.Detail, &d) != nil || (binding != "" && d.Binding != binding) {
			continue
		}
		out = append(out, DeploymentEvent{Time: ev.Time, DeploymentStateChange: d})
	}
	return out
}
