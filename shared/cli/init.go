package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
)

// InitRequest asks `deckhand init` to adopt a running service, or the task
// definition a crontab job runs, into a manifest (DESIGN §13).
type InitRequest struct {
	Cluster string
	// Service is the running service to adopt; TaskDefinition (a family,
	// family:revision or ARN) the job's. Exactly one is set.
	Service        string
	TaskDefinition string
	// Binding names the manifest entry (default: the service's name, or
	// the family).
	Binding string
	// Manifest is the deckhand.yaml to append to (created if missing); the
	// template goes to templates/<binding>.json beside it.
	Manifest string
	// Force replaces an entry of that name and its template file.
	Force bool
	// Subnets, SecurityGroups and AssignPublicIP are a job's network:
	// (RunTask's for networkMode awsvpc; a task definition does not say).
	Subnets, SecurityGroups []string
	AssignPublicIP          string
}

// InitImage is a container `deckhand init` bound to its ECR repository.
type InitImage struct {
	Container     string `json:"container"`
	Repository    string `json:"repository"`
	Running       string `json:"running"` // the image the revision runs
	GuessedPolicy `json:"guessed"`
}

// InitResult says what `deckhand init` wrote and what it guessed.
type InitResult struct {
	Kind     string      `json:"kind"` // "service" or "job"
	Binding  string      `json:"binding"`
	Manifest string      `json:"manifest"` // the file appended to
	Template string      `json:"template"` // the template file written
	Revision string      `json:"revision"` // the adopted revision's ARN
	Images   []InitImage `json:"images"`
	// Unbound are the containers whose images stay as the template writes
	// them, each with the reason.
	Unbound []string `json:"unbound,omitempty"`
	Roles   []string `json:"roles,omitempty"` // roles added to roles:
	Allow   []string `json:"allow,omitempty"` // why the entry has an allow: block
	Notes   []string `json:"notes,omitempty"`
	// Replaced is true when --force replaced an entry of that name.
	Replaced bool `json:"replaced"`
}

// runningRevision reads the revision to adopt: the service's, or the job's
// family's latest ACTIVE one (or the revision named).
func (e *Env) runningRevision(ctx context.Context, req InitRequest) (*described, error) {
	ref := req.TaskDefinition
	if req.Service != "" {
		svc, err := e.adoptedService(ctx, req.Cluster, req.Service)
		if err != nil {
			return nil, err
		}
		ref = aws.ToString(svc.TaskDefinition)
	} else if err := e.clusterExists(ctx, req.Cluster); err != nil {
		return nil, err
	}
	var raw []byte
	_, err := e.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref)}, rawAnswer(&raw))
	if err != nil {
		if awserr.TaskDefinitionNotFound(err) {
			return nil, &NotFoundError{Kind: "task definition", Name: ref,
				Hint: "name a family with an ACTIVE revision (aws ecs list-task-definition-families), or check --region"}
		}
		return nil, fmt.Errorf("describe task definition %s: %w", ref, err)
	}
	return parseDescribed(raw)
}

func (e *Env) adoptedService(ctx context.Context, cluster, service string) (*types.Service, error) {
	out, err := e.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil {
		if awserr.ClusterNotFound(err) {
			return nil, &NotFoundError{Kind: "cluster", Name: cluster, Hint: "check --cluster and --region"}
		}
		return nil, fmt.Errorf("describe service %s/%s: %w", cluster, service, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		return nil, &NotFoundError{Kind: "service", Name: cluster + "/" + service,
			Hint: fmt.Sprintf("deckhand init adopts a running service; list them with `aws ecs list-services --cluster %s`, or check --region", cluster)}
	}
	return &out.Services[0], nil
}

func (e *Env) clusterExists(ctx context.Context, cluster string) error {
	out, err := e.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{cluster}})
	if err != nil {
		return fmt.Errorf("describe cluster %s: %w", cluster, err)
	}
	for _, c := range out.Clusters {
		if aws.ToString(c.Status) != "INACTIVE" {
			return nil
		}
	}
	return &NotFoundError{Kind: "cluster", Name: cluster, Hint: "check --cluster and --region"}
}

// rawAnswer keeps the HTTP body of a call's answer in dst: `deckhand init`
// writes the revision as ECS describes it, in AWS's own field names and
// with nothing the SDK's types would add (zero values) or drop.
func rawAnswer(dst *[]byte) func(*ecs.Options) {
	return func(o *ecs.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("deckhandRawAnswer",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					if err != nil {
						return out, md, err
					}
					resp, ok := out.RawResponse.(*smithyhttp.Response)
					if !ok || resp.StatusCode != 200 {
						return out, md, err
					}
					body, err := io.ReadAll(resp.Body)
					if err != nil {
						return out, md, fmt.Errorf("read answer: %w", err)
					}
					*dst = body
					resp.Body = io.NopCloser(bytes.NewReader(body))
					return out, md, nil
				}), middleware.After)
		})
	}
}

// bindingName is the default binding name: the service, or the family.
func (req InitRequest) bindingName(family string) string {
	if req.Binding != "" {
		return req.Binding
	}
	if req.Service != "" {
		return req.Service
	}
	return family
}

func (req InitRequest) check() error {
	switch {
	case req.Cluster == "":
		return usagef("init: --cluster is required")
	case (req.Service == "") == (req.TaskDefinition == ""):
		return usagef("init: pass --service S (a running service) or --task-definition FAMILY (a crontab job's), not both or neither")
	case req.TaskDefinition == "" && (len(req.Subnets) > 0 || len(req.SecurityGroups) > 0 || req.AssignPublicIP != ""):
		return usagef("init: --subnet, --security-group and --assign-public-ip are a job's network (with --task-definition); a service keeps its own")
	case strings.HasPrefix(req.Manifest, "s3://"):
		return usagef("init writes local files: pass a local --manifest or --dir, then upload the manifest and templates as you do today")
	}
	return nil
}

// CheckInit refuses a request that cannot be run as given (exit 2), before
// any AWS call.
func CheckInit(req InitRequest) error { return req.check() }
