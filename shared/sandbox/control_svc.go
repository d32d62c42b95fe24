package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
)

// controlServices serves the control endpoints of accounts, STS, IAM, SSM,
// Secrets Manager, CloudWatch Logs and ECR scanning (docs/sandbox.md):
//
//	POST /_sandbox/access-keys   {"accessKeyId": "AKIA…", "arn": "arn:aws:iam::210987654321:user/alice"}
//	GET  /_sandbox/sessions                                  → [STS sessions issued]
//	POST /_sandbox/roles         RoleSpec                    → {"arn": …}
//	POST /_sandbox/ssm-parameters {"account", "region", "name", "type", "value"} → {"arn": …}
//	POST /_sandbox/secrets       {"account", "region", "name", "value"} → {"arn": …}
//	POST /_sandbox/log-groups    {"account", "region", "name"}
//	POST /_sandbox/script-logs   {"image": …, "lines": [{"afterSeconds": 1, "message": "…"}]}
//	POST /_sandbox/scan-findings {"account", "region", "repository", "digest", "severities": {"CRITICAL": 1}, "delaySeconds": 30, "status": ""}
//	POST /_sandbox/forward       {"account", "region", "clusters": [...], "taskStartedBy": "deckhand/"}
//	GET  /_sandbox/events?account=…&region=…                 → that bus's events
//
// ok is false for a route it does not serve.
func (s *Sandbox) controlServices(route string, r *http.Request, decode func(any) error) (out any, err error, ok bool) {
	type where struct{ Account, Region string }
	switch route {
	case "POST access-keys":
		var in struct{ AccessKeyID, ARN string }
		if err := decode(&in); err != nil {
			return nil, err, true
		}
		return nil, s.AccessKey(in.AccessKeyID, in.ARN), true
	case "GET sessions":
		return s.Sessions(), nil, true
	case "POST roles":
		var in RoleSpec
		if err := decode(&in); err != nil {
			return nil, err, true
		}
		if err := s.PutRole(in); err != nil {
			return nil, err, true
		}
		return map[string]string{"arn": in.ARN}, nil, true
	case "POST ssm-parameters":
		var in struct {
			where
			Name, Type, Value string
		}
		if err := decode(&in); err != nil {
			return nil, err, true
		}
		if in.Type == "" {
			in.Type = "String"
		}
		arn, err := s.PutParameter(in.Account, in.Region, in.Name, in.Type, in.Value)
		return map[string]string{"arn": arn}, controlErr("ssm-parameters", err), true
	case "POST secrets":
		var in struct {
			where
			Name, Value string
		}
		if err := decode(&in); err != nil {
			return nil, err, true
		}
		arn, err := s.CreateSecret(in.Account, in.Region, in.Name, in.Value)
		return map[string]string{"arn": arn}, controlErr("secrets", err), true
	case "POST log-groups":
		var in struct {
			where
			Name string
		}
		if err := decode(&in); err != nil {
			return nil, err, true
		}
		return nil, controlErr("log-groups", s.CreateLogGroup(in.Account, in.Region, in.Name)), true
	case "POST script-logs":
		var in struct {
			Image string
			Lines []struct {
				AfterSeconds float64
				Message      string
			}
		}
		if err := decode(&in); err != nil {
			return nil, err, true
		}
		if in.Image == "" {
			return nil, fmt.Errorf("script-logs: image is required"), true
		}
		var lines []LogLine
		for _, l := range in.Lines {
			lines = append(lines, LogLine{After: time.Duration(l.AfterSeconds * float64(time.Second)), Message: l.Message})
		}
		s.ScriptLogs(in.Image, lines)
		return nil, nil, true
	case "POST scan-findings":
		var in struct {
			where
			Repository, Digest, Status string
			Severities                 map[string]int
			DelaySeconds               float64
		}
		if err := decode(&in); err != nil {
			return nil, err, true
		}
		if in.Repository == "" {
			return nil, fmt.Errorf("scan-findings: repository is required"), true
		}
		script := ScanScript{Severities: in.Severities, Status: in.Status, Delay: time.Duration(in.DelaySeconds * float64(time.Second))}
		return nil, s.SetScanFindings(in.Account, in.Region, in.Repository, in.Digest, script), true
	case "POST forward":
		var in struct {
			where
			Clusters      []string
			TaskStartedBy string
		}
		if err := decode(&in); err != nil {
			return nil, err, true
		}
		if in.Account == "" || in.Region == "" || len(in.Clusters) == 0 {
			return nil, fmt.Errorf("forward: account, region and clusters are required"), true
		}
		s.ForwardTarget(Target{Account: in.Account, Region: in.Region, Clusters: in.Clusters, TaskStartedBy: in.TaskStartedBy})
		return nil, nil, true
	case "GET events":
		q := r.URL.Query()
		if q.Get("account") == "" && q.Get("region") == "" {
			return nil, nil, false
		}
		return s.EventsIn(q.Get("account"), q.Get("region")), nil, true
	}
	return nil, nil, false
}

func controlErr(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// CreateLogGroup creates a CloudWatch Logs group in an account and Region
// ("" for the sandbox's own), if it does not exist yet.
func (s *Sandbox) CreateLogGroup(account, region, name string) error {
	if name == "" {
		return fmt.Errorf("log group name is required")
	}
	l := s.scope(account, region).logs
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ensureGroup(name)
	return nil
}

// ecsByTask returns the ECS emulator that owns a task ARN
// (arn:aws:ecs:REGION:ACCOUNT:task/…), or the home one.
func (s *Sandbox) ecsByTask(arn string) *ecssim.ECS {
	if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 && parts[2] == "ecs" {
		return s.scope(parts[4], parts[3]).ecs
	}
	return s.home().ecs
}
