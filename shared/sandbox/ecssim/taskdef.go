package ecssim

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// taskDef is one registered revision. doc is the registration input (minus
// tags) with AWS's defaults filled in; the output-only fields are added when
// it is rendered.
type taskDef struct {
	arn, family    string
	revision       int32
	status         string
	registeredAt   time.Time
	deregisteredAt time.Time
	// deleteRequestedAt is when DeleteTaskDefinitions was asked to delete it.
	deleteRequestedAt time.Time
	doc               map[string]json.RawMessage
	containers        []tdContainer
	cpu, memory       string
	networkMode       string
}

type tdContainer struct {
	name, image string
	essential   bool
	cpu         int32
	memory      *int32
}

var familyRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// maxTaskDefSize is the largest task definition ECS accepts.
const maxTaskDefSize = 64 * 1024

func (e *ECS) registerTaskDefinition(body []byte, now time.Time) (any, error) {
	if len(body) > maxTaskDefSize {
		return nil, awsproto.ClientException("Actual length: '%d'. Max allowed length is '%d' bytes.", len(body), maxTaskDefSize)
	}
	var doc map[string]json.RawMessage
	if err := decode(body, &doc); err != nil {
		return nil, err
	}
	var in struct {
		Family                  string                       `json:"family"`
		ContainerDefinitions    []map[string]json.RawMessage `json:"containerDefinitions"`
		NetworkMode             string                       `json:"networkMode"`
		Cpu                     string                       `json:"cpu"`
		Memory                  string                       `json:"memory"`
		RequiresCompatibilities []string                     `json:"requiresCompatibilities"`
		Tags                    []tag                        `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	td := &taskDef{family: in.Family, status: "ACTIVE", registeredAt: now, cpu: in.Cpu, memory: in.Memory, networkMode: in.NetworkMode}
	if err := validateTaskDef(td, in.ContainerDefinitions, in.RequiresCompatibilities); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	delete(doc, "tags")
	if doc == nil {
		doc = map[string]json.RawMessage{}
	}
	for i, c := range in.ContainerDefinitions {
		defaults(c, map[string]string{"cpu": "0", "essential": "true", "environment": "[]", "mountPoints": "[]", "volumesFrom": "[]", "systemControls": "[]"})
		if err := fillHostPorts(c, td.networkMode); err != nil {
			return nil, err
		}
		in.ContainerDefinitions[i] = c
	}
	doc["containerDefinitions"], _ = json.Marshal(in.ContainerDefinitions)
	defaults(doc, map[string]string{"volumes": "[]", "placementConstraints": "[]"})
	td.doc = doc

	revs := e.families[td.family]
	td.revision = int32(len(revs) + 1)
	td.arn = e.arn(fmt.Sprintf("task-definition/%s:%d", td.family, td.revision))
	e.families[td.family] = append(revs, td)
	e.addTags(td.arn, in.Tags)
	return map[string]any{"taskDefinition": e.renderTaskDef(td), "tags": e.tagsOf(td.arn)}, nil
}

// fillHostPorts applies ECS's port mapping rule for awsvpc and host
// networking: the host port is the container port, filled in when absent
// and refused when different. Other modes keep the mappings as given.
func fillHostPorts(c map[string]json.RawMessage, mode string) error {
	raw, ok := c["portMappings"]
	if !ok || mode != "awsvpc" && mode != "host" {
		return nil
	}
	var mappings []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &mappings); err != nil {
		return awsproto.Errorf(400, "SerializationException", "portMappings: %v", err)
	}
	for _, m := range mappings {
		var ports struct {
			ContainerPort *int32 `json:"containerPort"`
			HostPort      *int32 `json:"hostPort"`
		}
		b, _ := json.Marshal(m)
		if err := json.Unmarshal(b, &ports); err != nil {
			return awsproto.Errorf(400, "SerializationException", "portMappings: %v", err)
		}
		switch {
		case ports.ContainerPort == nil:
		case ports.HostPort == nil || *ports.HostPort == 0:
			m["hostPort"] = m["containerPort"]
		case *ports.HostPort != *ports.ContainerPort:
			return awsproto.ClientException("When networkMode=%s, the host ports and container ports in port mappings must match.", mode)
		}
	}
	c["portMappings"], _ = json.Marshal(mappings)
	return nil
}

// defaults sets absent keys of m to the given JSON values.
func defaults(m map[string]json.RawMessage, vals map[string]string) {
	for k, v := range vals {
		if _, ok := m[k]; !ok {
			m[k] = json.RawMessage(v)
		}
	}
}

// validateTaskDef applies the checks ECS makes cheaply at registration and
// fills td.containers.
func validateTaskDef(td *taskDef, defs []map[string]json.RawMessage, compat []string) error {
	if !familyRE.MatchString(td.family) {
		return awsproto.ClientException("Family contains invalid characters or is longer than 255 characters. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.")
	}
	if len(defs) == 0 {
		return awsproto.ClientException("Container list cannot be empty.")
	}
	if len(defs) > 10 {
		return awsproto.ClientException("Too many containers: %d. A task definition can have at most 10 containers.", len(defs))
	}
	seen := map[string]bool{}
	essential := false
	for _, raw := range defs {
		var c struct {
			Name      string `json:"name"`
			Image     string `json:"image"`
			Essential *bool  `json:"essential"`
			Cpu       int32  `json:"cpu"`
			Memory    *int32 `json:"memory"`
		}
		b, _ := json.Marshal(raw)
		if err := json.Unmarshal(b, &c); err != nil {
			return awsproto.Errorf(400, "SerializationException", "containerDefinitions: %v", err)
		}
		if c.Name == "" {
			return awsproto.ClientException("Container.name should not be null or empty.")
		}
		if c.Image == "" {
			return awsproto.ClientException("Container.image should not be null or empty.")
		}
		if seen[c.Name] {
			return awsproto.ClientException("Container names must be unique within a task definition: %s.", c.Name)
		}
		seen[c.Name] = true
		ess := c.Essential == nil || *c.Essential
		essential = essential || ess
		td.containers = append(td.containers, tdContainer{name: c.Name, image: c.Image, essential: ess, cpu: c.Cpu, memory: c.Memory})
	}
	if !essential {
		return awsproto.ClientException("Task definition does not have any essential container.")
	}
	if slices.Contains(compat, "FARGATE") {
		if td.networkMode != "awsvpc" {
			return awsproto.ClientException("Fargate only supports network mode 'awsvpc'.")
		}
		if td.cpu == "" {
			return awsproto.ClientException("Fargate requires that 'cpu' be defined at the task level.")
		}
		if td.memory == "" {
			return awsproto.ClientException("Fargate requires that 'memory' be defined at the task level.")
		}
	}
	return nil
}

// renderTaskDef returns the TaskDefinition shape DescribeTaskDefinition
// prints: the stored input plus the output-only fields.
func (e *ECS) renderTaskDef(td *taskDef) map[string]json.RawMessage {
	out := maps.Clone(td.doc)
	set := func(k string, v any) { out[k], _ = json.Marshal(v) }
	set("taskDefinitionArn", td.arn)
	set("family", td.family)
	set("revision", td.revision)
	set("status", td.status)
	set("registeredAt", toEpoch(td.registeredAt))
	set("registeredBy", fmt.Sprintf("arn:aws:iam::%s:root", e.account))
	set("requiresAttributes", []struct{}{})
	compat := []string{"EC2"}
	if td.networkMode == "awsvpc" && td.cpu != "" && td.memory != "" {
		compat = append(compat, "FARGATE")
	}
	set("compatibilities", compat)
	if !td.deregisteredAt.IsZero() {
		set("deregisteredAt", toEpoch(td.deregisteredAt))
	}
	if !td.deleteRequestedAt.IsZero() {
		set("deleteRequestedAt", toEpoch(td.deleteRequestedAt))
	}
	return out
}

var errNoTaskDef = awsproto.ClientException("Unable to describe task definition.")

// taskDefRef resolves "family", "family:revision" or a task definition ARN.
// A bare family resolves to its latest ACTIVE revision.
func (e *ECS) taskDefRef(ref string) (*taskDef, error) {
	if p, ok := resourcePath(ref); ok {
		if !strings.HasPrefix(p, "task-definition/") || ref != e.arn(p) {
			return nil, errNoTaskDef
		}
		ref = strings.TrimPrefix(p, "task-definition/")
	}
	family, rev, hasRev := strings.Cut(ref, ":")
	revs := e.families[family]
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].status == "ACTIVE" {
				return revs[i], nil
			}
		}
		return nil, errNoTaskDef
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 || n > len(revs) || revs[n-1].status == statusDeleted {
		return nil, errNoTaskDef
	}
	return revs[n-1], nil
}

func (e *ECS) describeTaskDefinition(body []byte, _ time.Time) (any, error) {
	var in struct {
		TaskDefinition string   `json:"taskDefinition"`
		Include        []string `json:"include"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	td, err := e.taskDefRef(in.TaskDefinition)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"taskDefinition": e.renderTaskDef(td)}
	if slices.Contains(in.Include, "TAGS") {
		out["tags"] = e.tagsOf(td.arn)
	}
	return out, nil
}

func (e *ECS) deregisterTaskDefinition(body []byte, now time.Time) (any, error) {
	var in struct {
		TaskDefinition string `json:"taskDefinition"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	ref := in.TaskDefinition
	if p, ok := resourcePath(ref); ok {
		ref = strings.TrimPrefix(p, "task-definition/")
	}
	if !strings.Contains(ref, ":") {
		return nil, awsproto.ClientException("The specified task definition does not include a revision: %s.", in.TaskDefinition)
	}
	td, err := e.taskDefRef(in.TaskDefinition)
	if err != nil {
		return nil, awsproto.ClientException("The specified task definition does not exist.")
	}
	if td.status == "ACTIVE" {
		td.status = "INACTIVE"
		td.deregisteredAt = now
	}
	return map[string]any{"taskDefinition": e.renderTaskDef(td)}, nil
}
