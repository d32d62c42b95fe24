package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// described is a revision as DescribeTaskDefinition answered it, in the
// shape RegisterTaskDefinition takes.
type described struct {
	// Doc is the answer's taskDefinition with its output-only fields
	// stripped (and no tags): the registered shape, in AWS's wire names.
	Doc map[string]any
	// Input is Doc decoded into the SDK's input.
	Input *ecs.RegisterTaskDefinitionInput
	ARN   string
}

// parseDescribed reads the raw JSON of a DescribeTaskDefinition answer.
func parseDescribed(raw []byte) (*described, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var answer map[string]any
	if err := dec.Decode(&answer); err != nil {
		return nil, fmt.Errorf("decode DescribeTaskDefinition answer: %w", err)
	}
	doc, ok := answer["taskDefinition"].(map[string]any)
	if !ok {
		return nil, errors.New("decode DescribeTaskDefinition answer: no taskDefinition object")
	}
	arn, _ := doc["taskDefinitionArn"].(string)
	taskdef.StripOutputOnly(doc)
	canon, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode task definition %s: %w", arn, err)
	}
	var in ecs.RegisterTaskDefinitionInput
	if err := json.Unmarshal(canon, &in); err != nil {
		return nil, fmt.Errorf("decode task definition %s as RegisterTaskDefinition input: %w", arn, err)
	}
	return &described{Doc: doc, Input: &in, ARN: arn}, nil
}

// templateOf writes the template of a described revision: every string as
// it is (escaped where the renderer would read it as a placeholder), and
// the image of each container in placeholders (container → placeholder)
// replaced by it.
func templateOf(d *described, placeholders map[string]string) ([]byte, error) {
	doc := escapeStrings(d.Doc).(map[string]any)
	defs, _ := doc["containerDefinitions"].([]any)
	for i, c := range defs {
		c, _ := c.(map[string]any)
		if c == nil || i >= len(d.Input.ContainerDefinitions) {
			continue
		}
		if ph, ok := placeholders[aws.ToString(d.Input.ContainerDefinitions[i].Name)]; ok {
			c["image"] = ph
		}
	}
	var buf bytes.Buffer
	if err := writeOrdered(&buf, doc, "", "top"); err != nil {
		return nil, fmt.Errorf("encode template of %s: %w", d.ARN, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// firstKeys are written first, in this order, as AWS's examples and the
// examples/ templates write them; the other keys follow by name.
var firstKeys = map[string][]string{
	"top":       {"family", "taskRoleArn", "executionRoleArn", "networkMode", "requiresCompatibilities", "cpu", "memory", "containerDefinitions"},
	"container": {"name", "image", "essential"},
}

// writeOrdered writes v as indented JSON, keys in firstKeys' order, short
// lists of scalars on one line, and <, > and & as they are.
func writeOrdered(b *bytes.Buffer, v any, indent, kind string) error {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := slices.Sorted(maps.Keys(t))
		first := slices.DeleteFunc(slices.Clone(firstKeys[kind]), func(k string) bool { _, ok := t[k]; return !ok })
		keys = append(first, slices.DeleteFunc(keys, func(k string) bool { return slices.Contains(first, k) })...)
		b.WriteString("{\n")
		for i, k := range keys {
			b.WriteString(indent + "  ")
			if err := writeScalar(b, k); err != nil {
				return err
			}
			b.WriteString(": ")
			child := ""
			if kind == "top" && k == "containerDefinitions" {
				child = "containers"
			}
			if err := writeOrdered(b, t[k], indent+"  ", child); err != nil {
				return err
			}
			if i < len(keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		if inline, ok := inlineList(t); ok {
			b.WriteString(inline)
			return nil
		}
		b.WriteString("[\n")
		child := ""
		if kind == "containers" {
			child = "container"
		}
		for i, e := range t {
			b.WriteString(indent + "  ")
			if err := writeOrdered(b, e, indent+"  ", child); err != nil {
				return err
			}
			if i < len(t)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	default:
		return writeScalar(b, v)
	}
	return nil
}

// inlineList writes a list of scalars on one line when it is short.
func inlineList(l []any) (string, bool) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range l {
		switch e.(type) {
		case map[string]any, []any:
			return "", false
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if writeScalar(&b, e) != nil {
			return "", false
		}
	}
	b.WriteByte(']')
	return b.String(), b.Len() <= 80
}

func writeScalar(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

var legacyPlaceholderRe = regexp.MustCompile(`@@[A-Za-z0-9_]+@@`)

// escapeLiteral returns a template string that renders to s: s itself,
// unless the renderer would read part of it as a placeholder ({{ … }} or
// @@NAME@@); then one action printing s as a string constant, with {, }
// and @ written as \x escapes so that nothing in it is read again.
func escapeLiteral(s string) string {
	if !strings.Contains(s, "{{") && !legacyPlaceholderRe.MatchString(s) {
		return s
	}
	q := strings.NewReplacer("{", `\x7b`, "}", `\x7d`, "@", `\x40`).Replace(strconv.Quote(s))
	return "{{ " + q + " }}"
}

// escapeStrings copies a decoded document with every string escaped.
func escapeStrings(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = escapeStrings(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = escapeStrings(e)
		}
		return out
	case string:
		return escapeLiteral(t)
	}
	return v
}

// allowFor is the allow: block (DESIGN §9) a revision needs to render as
// it runs: what it does that a template may not do on its own, each with
// the reason `deckhand init` prints. unbound are the containers whose
// images stay as written; registries are the manifest's own.
func allowFor(in *ecs.RegisterTaskDefinitionInput, unbound map[string]bool, named []string) (*manifest.Allow, []string) {
	a := &manifest.Allow{}
	var why []string
	for _, m := range []struct {
		mode  string
		field *bool
		what  string
	}{{string(in.NetworkMode), &a.HostNetwork, "networkMode host"}, {string(in.PidMode), &a.HostPID, "pidMode host"}, {string(in.IpcMode), &a.HostIPC, "ipcMode host"}} {
		if m.mode == "host" {
			*m.field = true
			why = append(why, "the revision uses "+m.what)
		}
	}
	hostPath := func(p, where string) {
		if p != "" && !a.AllowsHostPath(p) {
			a.HostPaths = append(a.HostPaths, path.Clean(p))
			why = append(why, fmt.Sprintf("%s mounts the host path %s", where, p))
		}
	}
	for _, v := range in.Volumes {
		if v.Host != nil {
			hostPath(aws.ToString(v.Host.SourcePath), "volume "+aws.ToString(v.Name))
		}
		if dv := v.DockerVolumeConfiguration; dv != nil && (aws.ToString(dv.Driver) == "" || aws.ToString(dv.Driver) == "local") && strings.HasPrefix(dv.DriverOpts["device"], "/") {
			hostPath(dv.DriverOpts["device"], "volume "+aws.ToString(v.Name))
		}
	}
	for _, c := range in.ContainerDefinitions {
		name := aws.ToString(c.Name)
		if aws.ToBool(c.Privileged) && !a.Privileged {
			a.Privileged = true
			why = append(why, fmt.Sprintf("container %s runs privileged", name))
		}
		if lp := c.LinuxParameters; lp != nil {
			if lp.Capabilities != nil {
				for _, cp := range lp.Capabilities.Add {
					if !a.AllowsCapability(cp) {
						a.Capabilities = append(a.Capabilities, manifest.Capability(cp))
						why = append(why, fmt.Sprintf("container %s adds the capability %s", name, cp))
					}
				}
			}
			for _, dv := range lp.Devices {
				hostPath(aws.ToString(dv.HostPath), "container "+name)
			}
		}
		img := aws.ToString(c.Image)
		if !unbound[name] || img == "" {
			continue
		}
		host, repo := taskdef.SplitImage(img)
		if slices.Contains(named, host) {
			continue
		}
		reg := host
		if dir := path.Dir(repo); dir != "." {
			reg = host + "/" + dir
		}
		if !slices.Contains(a.Registries, reg) {
			a.Registries = append(a.Registries, reg)
			why = append(why, fmt.Sprintf("container %s runs %s, not from this account's ECR", name, img))
		}
	}
	if len(why) == 0 {
		return nil, nil
	}
	return a, why
}
