package ecssim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Service deployments and service revisions: ECS's record per deployment
// (ListServiceDeployments, DescribeServiceDeployments,
// DescribeServiceRevisions). Every deployment a service starts, by
// CreateService or an UpdateService that changes what runs, gets a service
// revision (the configuration it deploys) and a service deployment (its
// progress and outcome). A rollback makes no new revision or service
// deployment: ECS rolls the failed service deployment back to the last
// successful revision (ROLLBACK_IN_PROGRESS, then ROLLBACK_SUCCESSFUL or
// ROLLBACK_FAILED) with a new ECS deployment ("ecs-svc/…") of it.
//
// A revision's id is the digits of the ECS deployment that introduced it
// ("ecs-svc/4000…0042" → service-revision/<cluster>/<service>/4000…0042).
// A service keeps its last maxServiceDeployments service deployments and
// the revisions they or its live deployments name.

// Service deployment statuses.
const (
	sdInProgress         = "IN_PROGRESS"
	sdSuccessful         = "SUCCESSFUL"
	sdStopped            = "STOPPED"
	sdStopRequested      = "STOP_REQUESTED"
	sdRollbackRequested  = "ROLLBACK_REQUESTED"
	sdRollbackInProgress = "ROLLBACK_IN_PROGRESS"
	sdRollbackSuccessful = "ROLLBACK_SUCCESSFUL"
	sdRollbackFailed     = "ROLLBACK_FAILED"
)

const maxServiceDeployments = 100

// serviceRevision is one service revision: what a deployment deploys.
type serviceRevision struct {
	id, arn         string
	service         *service
	td              *taskDef
	launchType      string
	strategy        []strategyItem
	platformVersion string
	network         *networkConfiguration
	loadBalancers   []loadBalancer
	serviceConnect  []byte
	alternate       bool // serves from the alternate target groups
	createdAt       time.Time
}

// serviceDeployment is one service deployment.
type serviceDeployment struct {
	id, arn      string
	service      *service
	target       *serviceRevision
	dep          *deployment   // the ECS deployment of target
	rb           *deployment   // the rollback deployment, once started
	sources      []*deployment // what served when it started
	status       string
	statusReason string
	config       deploymentConfiguration
	stage        string  // lifecycleStage
	weight       float64 // target's production traffic weight
	testWeight   float64
	triggered    []string // alarms that fired
	breakerFired bool
	monitoring   bool // alarms and breaker still watched
	hooks        []*hookRun
	rollback     *wireRollback

	createdAt, startedAt, updatedAt, finishedAt, stoppedAt time.Time
}

// active reports whether sd has not reached a final status.
func (sd *serviceDeployment) active() bool {
	switch sd.status {
	case sdInProgress, sdStopRequested, sdRollbackRequested, sdRollbackInProgress:
		return true
	}
	return false
}

// shiftsTraffic reports whether sd's strategy shifts traffic in steps.
func (sd *serviceDeployment) shiftsTraffic() bool {
	return sd.config.Strategy != "" && sd.config.Strategy != strategyRolling
}

// recordID returns a deterministic 32-hex-digit id for a service
// deployment record or hook run. It has its own counter, so recording
// deployments leaves the ids of tasks and deployments as they were.
func (e *ECS) recordID(kind string) string {
	e.recordSeq++
	sum := sha256.Sum256([]byte(kind + "/" + strconv.FormatUint(e.recordSeq, 10)))
	return hex.EncodeToString(sum[:16])
}

// sdID returns a deterministic 21-character service deployment id.
func (e *ECS) sdID() string {
	raw, _ := hex.DecodeString(e.recordID("service-deployment"))
	return base64.RawURLEncoding.EncodeToString(raw)[:21]
}

// newRevision records the service revision deployment d introduces.
func (e *ECS) newRevision(s *service, d *deployment, at time.Time) *serviceRevision {
	id := strings.TrimPrefix(d.id, "ecs-svc/")
	r := &serviceRevision{
		id: id, arn: e.arn("service-revision/" + s.cluster.name + "/" + s.name + "/" + id),
		service: s, td: d.td, launchType: d.launchType, strategy: d.strategy,
		platformVersion: d.platformVersion, network: d.network,
		loadBalancers: slices.Clone(s.loadBalancers), serviceConnect: slices.Clone(s.serviceConnect), createdAt: at,
	}
	if cur := s.serving(); cur != nil && cur.rev != nil && s.config.Strategy != strategyRolling {
		r.alternate = !cur.rev.alternate
	}
	e.revisions[r.arn] = r
	s.revisions = append(s.revisions, r)
	return r
}

// serving returns the deployment serving s: the last completed one if it
// still runs tasks, else the PRIMARY.
func (s *service) serving() *deployment {
	if d := s.lastCompleted; d != nil && d.status != "INACTIVE" {
		return d
	}
	return s.primary()
}

// newServiceDeployment records the service deployment of d, which the
// deployments in sources served before. An unfinished earlier one is
// STOPPED: the new deployment supersedes it.
func (e *ECS) newServiceDeployment(s *service, d *deployment, sources []*deployment, at time.Time) *serviceDeployment {
	for _, old := range s.sdeps {
		if old.active() {
			e.finishSD(old, at, sdStopped, "Service deployment stopped because a newer service deployment started.")
		}
	}
	id := e.sdID()
	sd := &serviceDeployment{
		id: id, arn: e.arn("service-deployment/" + s.cluster.name + "/" + s.name + "/" + id),
		service: s, target: d.rev, dep: d, sources: sources,
		status: sdInProgress, config: cloneConfig(s.config), monitoring: true,
		createdAt: at, startedAt: at, updatedAt: at,
	}
	if sd.shiftsTraffic() {
		sd.stage = "PRE_SCALE_UP"
	}
	d.sd = sd
	s.sdeps = append(s.sdeps, sd)
	e.sdeps[sd.arn] = sd
	e.pruneRecords(s)
	return sd
}

// finishSD moves sd to a final status.
func (e *ECS) finishSD(sd *serviceDeployment, at time.Time, status, reason string) {
	sd.status, sd.updatedAt, sd.finishedAt = status, at, at
	if reason != "" {
		sd.statusReason = reason
	}
	if status == sdStopped {
		sd.stoppedAt = at
	}
	sd.monitoring = false
	for _, h := range sd.hooks {
		if h.status == "AWAITING_ACTION" || h.status == "IN_PROGRESS" {
			h.status = "FAILED"
		}
	}
}

// pruneRecords forgets s's oldest service deployments beyond
// maxServiceDeployments and the revisions nothing names any more.
func (e *ECS) pruneRecords(s *service) {
	if n := len(s.sdeps) - maxServiceDeployments; n > 0 {
		for _, sd := range s.sdeps[:n] {
			delete(e.sdeps, sd.arn)
		}
		s.sdeps = append(s.sdeps[:0], s.sdeps[n:]...)
	}
	named := map[*serviceRevision]bool{}
	for _, sd := range s.sdeps {
		named[sd.target] = true
		for _, src := range sd.sources {
			named[src.rev] = true
		}
	}
	for _, d := range s.deployments {
		named[d.rev] = true
	}
	kept := s.revisions[:0]
	for _, r := range s.revisions {
		if named[r] {
			kept = append(kept, r)
		} else {
			delete(e.revisions, r.arn)
		}
	}
	clear(s.revisions[len(kept):])
	s.revisions = kept
}

// sourceDeployments returns the deployments serving s before a new one
// starts: those with running tasks that have not failed.
func (s *service) sourceDeployments() []*deployment {
	var out []*deployment
	for _, d := range s.deployments {
		if running, _ := d.counts(); running > 0 && d.rolloutState != "FAILED" && d.status != "INACTIVE" {
			out = append(out, d)
		}
	}
	return out
}

func cloneConfig(c deploymentConfiguration) deploymentConfiguration {
	if c.DeploymentCircuitBreaker != nil {
		cb := *c.DeploymentCircuitBreaker
		c.DeploymentCircuitBreaker = &cb
	}
	if c.Alarms != nil {
		a := *c.Alarms
		a.AlarmNames = slices.Clone(a.AlarmNames)
		c.Alarms = &a
	}
	c.LifecycleHooks = slices.Clone(c.LifecycleHooks)
	return c
}

// alarmsEnabled reports whether sd watches CloudWatch alarms.
func (sd *serviceDeployment) alarmsEnabled() bool {
	a := sd.config.Alarms
	return a != nil && a.Enable && len(a.AlarmNames) > 0
}
