package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// ServiceStatus is what a binding's service runs now.
type ServiceStatus struct {
	Binding  string `json:"binding"`
	Cluster  string `json:"cluster"`
	Service  string `json:"service"`
	Revision string `json:"revision,omitempty"`
	// Images are the running images per container (tag and digest).
	Images       map[string]RevisionImage `json:"images,omitempty"`
	RolloutState string                   `json:"rolloutState,omitempty"`
	// Strategy is the service's deployment strategy (ROLLING, BLUE_GREEN,
	// LINEAR, CANARY); Progress is how far its deployment in flight got
	// (DESIGN §10), nil when none is.
	Strategy string       `json:"strategy,omitempty"`
	Progress *Progressive `json:"progress,omitempty"`
	// AlarmsInAlarm are the binding's deployment alarms in ALARM now.
	AlarmsInAlarm []string `json:"alarmsInAlarm,omitempty"`
	Running       int32    `json:"running"`
	Desired       int32    `json:"desired"`
	Held          bool     `json:"held"`
	HoldReason    string   `json:"holdReason,omitempty"`
	// LastVerdict is the verdict of the newest deployment: SUCCEEDED,
	// FAILED, ROLLED_BACK (the circuit breaker went back to the running
	// revision) or IN_PROGRESS.
	LastVerdict string `json:"lastVerdict,omitempty"`
	// Gates are the binding's gate states (DESIGN §11), when it has gates
	// or an image the scan gate blocked.
	Gates *GateStatus `json:"gates,omitempty"`
	// Events are the service's recent ECS events, newest first.
	Events []ServiceEvent `json:"events,omitempty"`
	// Error says why the service could not be read (e.g. it does not exist).
	Error string `json:"error,omitempty"`
}

// Status is the state of the bindings and jobs asked for.
type Status struct {
	Services []ServiceStatus `json:"services"`
	Jobs     []JobStatus     `json:"jobs"`
}

// Status reads the state of the named bindings and jobs (all when names is
// empty). A service or cluster that does not exist is reported in its row
// (ServiceStatus.Error) and, once everything else is read, in the returned
// error, which is then ErrNotFound: the Status is complete nonetheless.
func (e *Env) Status(ctx context.Context, names []string, runs int) (*Status, error) {
	m, err := e.manifest(ctx)
	if err != nil {
		return nil, err
	}
	var svcs []*manifest.Service
	var jobs []*manifest.Job
	for _, n := range names {
		if s, ok := m.Service(n); ok {
			svcs = append(svcs, s)
		} else if j, ok := m.Job(n); ok {
			jobs = append(jobs, j)
		} else {
			_, err := target(m, n)
			return nil, err
		}
	}
	if len(names) == 0 {
		for i := range m.Services {
			svcs = append(svcs, &m.Services[i])
		}
		for i := range m.Jobs {
			jobs = append(jobs, &m.Jobs[i])
		}
	}
	st := &Status{Services: []ServiceStatus{}, Jobs: []JobStatus{}}
	var missing []error
	for _, b := range svcs {
		s, err := e.serviceStatus(ctx, b)
		if err != nil {
			if !isNotFound(err) {
				return nil, err
			}
			s.Error = err.Error()
			missing = append(missing, fmt.Errorf("binding %s: %w", b.Name, err))
		}
		st.Services = append(st.Services, s)
	}
	now := e.Now(ctx)
	for _, j := range jobs {
		js, err := e.jobStatus(ctx, j, now, runs)
		if err != nil {
			return nil, err
		}
		st.Jobs = append(st.Jobs, js)
	}
	return st, errors.Join(missing...)
}

func (e *Env) serviceStatus(ctx context.Context, b *manifest.Service) (ServiceStatus, error) {
	svc, err := e.describeService(ctx, b.Cluster, b.Service)
	if err != nil {
		return ServiceStatus{Binding: b.Name, Cluster: b.Cluster, Service: b.Service}, err
	}
	td, err := e.describeTaskDefinition(ctx, aws.ToString(svc.TaskDefinition))
	if err != nil {
		return ServiceStatus{Binding: b.Name, Cluster: b.Cluster, Service: b.Service, Revision: aws.ToString(svc.TaskDefinition)}, err
	}
	s := ServiceStatusOf(b, svc, td.TaskDefinition, td.Tags)
	s.Events = recentEvents(svc, RecentEvents)
	if s.RolloutState == string(types.DeploymentRolloutStateInProgress) && watched(svc) {
		if s.Progress, err = e.DeploymentProgress(ctx, svc, "", e.Now(ctx)); err != nil {
			return s, err
		}
	}
	if b.Deployment != nil {
		if s.AlarmsInAlarm, err = e.firingAlarms(ctx, b.Deployment.Alarms); err != nil {
			return s, err
		}
	}
	var now time.Time // a clock read only for gated bindings
	if b.Gated() {
		now = e.Now(ctx)
	}
	if s.Gates, err = e.gatesOf(ctx, b, svc, now); err != nil {
		return s, err
	}
	return s, nil
}

// watched reports whether the service's deployments are worth reading
// ECS's record of: a progressive strategy, or alarms.
func watched(svc *types.Service) bool {
	c := svc.DeploymentConfiguration
	return c != nil && (c.Strategy != "" && c.Strategy != types.DeploymentStrategyRolling || c.Alarms != nil && c.Alarms.Enable)
}

// ServiceStatusOf is the status of a binding's service as ECS described it
// (DescribeServices with tags) and of the revision it runs
// (DescribeTaskDefinition with tags): what Status shows per service, for
// callers that read ECS in batches themselves (the console).
func ServiceStatusOf(b *manifest.Service, svc *types.Service, td *types.TaskDefinition, tdTags []types.Tag) ServiceStatus {
	s := ServiceStatus{Binding: b.Name, Cluster: b.Cluster, Service: b.Service}
	s.Revision = aws.ToString(svc.TaskDefinition)
	s.Strategy = string(types.DeploymentStrategyRolling)
	if c := svc.DeploymentConfiguration; c != nil && c.Strategy != "" {
		s.Strategy = string(c.Strategy)
	}
	s.Running, s.Desired = svc.RunningCount, svc.DesiredCount
	s.HoldReason, s.Held = revision.TagsOf(svc.Tags)[revision.TagHold]
	s.Images = withImages(revisionOf(td, revision.TagsOf(tdTags)), td).Images
	// The newest deployment tells the last verdict; a PRIMARY that is a
	// circuit-breaker rollback means the newest attempt was rolled back.
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) != "PRIMARY" {
			continue
		}
		s.RolloutState = string(d.RolloutState)
		s.LastVerdict = deploymentVerdict(d)
		if strings.Contains(strings.ToLower(aws.ToString(d.RolloutStateReason)), "rolling back") {
			s.LastVerdict = "ROLLED_BACK"
		}
	}
	return s
}

func isNotFound(err error) bool {
	var nf *NotFoundError
	return errorsAs(err, &nf)
}

// Names lists the manifest's bindings and jobs, for shell completion.
func Names(m *manifest.Manifest) []string {
	var out []string
	for _, s := range m.Services {
		out = append(out, s.Name)
	}
	for _, j := range m.Jobs {
		out = append(out, j.Name)
	}
	slices.Sort(out)
	return out
}
