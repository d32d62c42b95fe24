package ecssim

import (
	"slices"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

func errNoServiceDeployment(arn string) error {
	return awsproto.Errorf(400, "ServiceDeploymentNotFoundException", "The service deployment %s does not exist.", arn)
}

// listServiceDeployments lists a service's deployments, newest first,
// filtered by status and creation time (20 a page by default, at most 100).
func (e *ECS) listServiceDeployments(body []byte, _ time.Time) (any, error) {
	var in struct {
		Cluster   string   `json:"cluster"`
		Service   string   `json:"service"`
		Status    []string `json:"status"`
		CreatedAt *struct {
			After  *epoch `json:"after"`
			Before *epoch `json:"before"`
		} `json:"createdAt"`
		NextToken  string `json:"nextToken"`
		MaxResults *int32 `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Service == "" {
		return nil, awsproto.InvalidParameter("service can not be blank.")
	}
	c, err := e.clusterRef(in.Cluster)
	if err != nil {
		return nil, err
	}
	s := e.findService(c, in.Service)
	if s == nil {
		return nil, awsproto.Errorf(400, "ServiceNotFoundException", "Service not found.")
	}
	briefs := []wireSDBrief{}
	for _, sd := range slices.Backward(s.sdeps) {
		if len(in.Status) > 0 && !slices.Contains(in.Status, sd.status) {
			continue
		}
		if ca := in.CreatedAt; ca != nil {
			created := float64(*toEpoch(sd.createdAt))
			if ca.After != nil && created < float64(*ca.After) || ca.Before != nil && created > float64(*ca.Before) {
				continue
			}
		}
		briefs = append(briefs, sd.brief())
	}
	pg, next, err := page(briefs, in.NextToken, in.MaxResults, 20, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		ServiceDeployments []wireSDBrief `json:"serviceDeployments"`
		NextToken          *string       `json:"nextToken,omitempty"`
	}{append([]wireSDBrief{}, pg...), next}, nil
}

func (e *ECS) describeServiceDeployments(body []byte, _ time.Time) (any, error) {
	var in struct {
		ServiceDeploymentArns []string `json:"serviceDeploymentArns"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.ServiceDeploymentArns) == 0 || len(in.ServiceDeploymentArns) > 20 {
		return nil, awsproto.InvalidParameter("serviceDeploymentArns must contain between 1 and 20 service deployment ARNs.")
	}
	out := struct {
		ServiceDeployments []wireServiceDeployment `json:"serviceDeployments"`
		Failures           []failure               `json:"failures"`
	}{ServiceDeployments: []wireServiceDeployment{}, Failures: []failure{}}
	for _, arn := range in.ServiceDeploymentArns {
		sd, ok := e.sdeps[arn]
		if !ok {
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.ServiceDeployments = append(out.ServiceDeployments, sd.wire())
	}
	return out, nil
}

func (e *ECS) describeServiceRevisions(body []byte, _ time.Time) (any, error) {
	var in struct {
		ServiceRevisionArns []string `json:"serviceRevisionArns"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.ServiceRevisionArns) == 0 || len(in.ServiceRevisionArns) > 20 {
		return nil, awsproto.InvalidParameter("serviceRevisionArns must contain between 1 and 20 service revision ARNs.")
	}
	out := struct {
		ServiceRevisions []wireServiceRevision `json:"serviceRevisions"`
		Failures         []failure             `json:"failures"`
	}{ServiceRevisions: []wireServiceRevision{}, Failures: []failure{}}
	for _, arn := range in.ServiceRevisionArns {
		r, ok := e.revisions[arn]
		if !ok {
			out.Failures = append(out.Failures, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out.ServiceRevisions = append(out.ServiceRevisions, r.wire())
	}
	return out, nil
}

// stopServiceDeployment stops an unfinished service deployment. ROLLBACK
// (the default) moves it to ROLLBACK_REQUESTED and, a second later, rolls
// it back to the last successful revision, whether or not it was
// configured to roll back; ABORT moves it to STOP_REQUESTED and, a second
// later, STOPPED: its tasks stop and the previous revision keeps serving.
// Asked again while it rolls back or stops, it carries on.
func (e *ECS) stopServiceDeployment(body []byte, now time.Time) (any, error) {
	var in struct {
		ServiceDeploymentArn string `json:"serviceDeploymentArn"`
		StopType             string `json:"stopType"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.StopType == "" {
		in.StopType = "ROLLBACK"
	}
	if in.StopType != "ROLLBACK" && in.StopType != "ABORT" {
		return nil, awsproto.InvalidParameter("1 validation error detected: Value '%s' at 'stopType' failed to satisfy constraint: Member must satisfy enum value set: [ABORT, ROLLBACK]", in.StopType)
	}
	sd, ok := e.sdeps[in.ServiceDeploymentArn]
	if !ok {
		return nil, errNoServiceDeployment(in.ServiceDeploymentArn)
	}
	out := map[string]string{"serviceDeploymentArn": sd.arn}
	switch sd.status {
	case sdInProgress:
	case sdStopRequested, sdRollbackRequested, sdRollbackInProgress:
		return out, nil
	default:
		return nil, awsproto.Errorf(400, "ConflictException", "The service deployment %s is %s and can no longer be stopped.", sd.arn, sd.status)
	}
	d := sd.dep
	sd.updatedAt = now
	if in.StopType == "ROLLBACK" {
		sd.status = sdRollbackRequested
		d.stop = stopRollback
	} else {
		sd.status = sdStopRequested
		d.stop = stopAbort
	}
	d.next = now.Add(time.Second)
	return out, nil
}

// continueServiceDeployment resolves a PAUSE hook that awaits action:
// CONTINUE (the default) resumes the deployment, ROLLBACK rolls it back.
func (e *ECS) continueServiceDeployment(body []byte, now time.Time) (any, error) {
	var in struct {
		ServiceDeploymentArn string `json:"serviceDeploymentArn"`
		HookID               string `json:"hookId"`
		Action               string `json:"action"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Action == "" {
		in.Action = "CONTINUE"
	}
	if in.Action != "CONTINUE" && in.Action != "ROLLBACK" {
		return nil, awsproto.InvalidParameter("1 validation error detected: Value '%s' at 'action' failed to satisfy constraint: Member must satisfy enum value set: [ROLLBACK, CONTINUE]", in.Action)
	}
	sd, ok := e.sdeps[in.ServiceDeploymentArn]
	if !ok {
		return nil, errNoServiceDeployment(in.ServiceDeploymentArn)
	}
	i := slices.IndexFunc(sd.hooks, func(h *hookRun) bool { return h.id == in.HookID })
	if i < 0 {
		return nil, awsproto.InvalidParameter("The lifecycle hook %s does not belong to service deployment %s.", in.HookID, sd.arn)
	}
	h := sd.hooks[i]
	if h.status != "AWAITING_ACTION" || sd.status != sdInProgress {
		return nil, awsproto.Errorf(400, "ConflictException", "The lifecycle hook %s is %s and awaits no action.", h.id, h.status)
	}
	h.action = in.Action
	sd.dep.next = now
	return map[string]string{"serviceDeploymentArn": sd.arn}, nil
}
