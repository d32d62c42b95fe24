package taskdef

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// Options control rendering.
type Options struct {
	// Key names the template in errors (an S3 key or a file name).
	Key string
	// Roles is the allow-list of IAM roles a definition may name (the
	// manifest's roles:). A role outside it is an error.
	Roles []string
	// Allow is the binding's or job's allow: block (DESIGN §9). Without it
	// a template may not run privileged containers, use the host's
	// network, PID or IPC namespace or paths, add capabilities, or run
	// images of unbound containers from registries the manifest does not
	// name.
	Allow *manifest.Allow
	// Sources is the manifest's sources:. Its accounts' ECR registries (in
	// Data.Region and its Regions) are named by the manifest, as Deckhand's
	// own (Data.Account in Data.Region) always is.
	Sources *manifest.Sources
}

// Rendered is a rendered, validated task definition.
type Rendered struct {
	Input *ecs.RegisterTaskDefinitionInput
	// JSON is the canonical document: compact, keys sorted, AWS wire names.
	JSON []byte
	// Hash is the hex SHA-256 of JSON, the deckhand:content-hash tag.
	Hash string
}

// MaxSize is the largest rendered definition ECS accepts (64 KiB).
const MaxSize = 64 << 10

// outputOnly are the describe-task-definition fields RegisterTaskDefinition
// does not accept.
var outputOnly = []string{
	"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
	"registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt",
}

// Render renders tmpl with data, strips output-only fields, decodes the
// result strictly into RegisterTaskDefinitionInput and validates it.
func Render(tmpl []byte, data Data, opts Options) (*Rendered, error) {
	fail := func(path, placeholder string, err error) (*Rendered, error) {
		return nil, &Error{Key: opts.Key, Path: path, Placeholder: placeholder, Err: err}
	}
	if len(tmpl) > MaxTemplateSize {
		return fail("$", "", &sizeError{fmt.Sprintf("the template is %d bytes; Deckhand reads templates of at most %d", len(tmpl), MaxTemplateSize)})
	}
	doc, err := decodeTemplate(tmpl)
	if err != nil {
		return fail("", "", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return fail("$", "", errors.New("a template must be a JSON object"))
	}
	if inner, ok := obj["taskDefinition"].(map[string]any); ok {
		obj = inner // the describe-task-definition wrapper; its tags are dropped
	}
	for _, k := range outputOnly {
		delete(obj, k)
	}
	v, err := data.view()
	if err != nil {
		return fail("", "", err)
	}
	r := &renderer{view: v, budget: newBudget()}
	rendered, err := r.walk(obj, "$")
	if err != nil {
		var re *Error
		if errors.As(err, &re) {
			re.Key = opts.Key
			return nil, re
		}
		return fail("", "", err)
	}
	if err := checkShape(rendered); err != nil {
		var re *Error
		if errors.As(err, &re) {
			re.Key = opts.Key
		}
		return nil, err
	}
	if err := pinBoundImages(rendered, data.Images); err != nil {
		err.Key = opts.Key
		return nil, err
	}
	canon, err := json.Marshal(rendered)
	if err != nil {
		return fail("", "", fmt.Errorf("encode rendered definition: %w", err))
	}
	var in ecs.RegisterTaskDefinitionInput
	if err := json.Unmarshal(canon, &in); err != nil {
		return fail("", "", fmt.Errorf("decode into RegisterTaskDefinitionInput: %w", err))
	}
	out := &Rendered{Input: &in, JSON: canon}
	if err := validate(out, data, opts); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canon)
	out.Hash = hex.EncodeToString(sum[:])
	return out, nil
}

// decodeTemplate parses JSON keeping numbers exact and reporting the line
// and column of syntax errors.
func decodeTemplate(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			line, col := position(b, syn.Offset-1) // Offset counts the offending byte
			return nil, fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, err)
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: trailing data after the document")
	}
	return doc, nil
}

func position(b []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

var legacyRe = regexp.MustCompile(`@@([A-Za-z0-9_]+)@@`)

// renderer renders every string of a document on its own.
type renderer struct {
	view   view
	budget *budget
}

func (r *renderer) walk(v any, path string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			rv, err := r.walk(t[k], path+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			rv, err := r.walk(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	case string:
		return r.renderString(t, path)
	default:
		return v, nil
	}
}

func (r *renderer) renderString(s, path string) (any, error) {
	src := s
	if strings.Contains(src, "@@") {
		var err error
		if src, err = r.legacy(src); err != nil {
			return nil, &Error{Path: path, Placeholder: s, Err: err}
		}
	}
	if !strings.Contains(src, "{{") {
		if err := r.budget.spend(len(src)); err != nil {
			return nil, &Error{Path: path, Placeholder: s, Err: err}
		}
		return src, nil
	}
	res, err := r.execute(src)
	if err != nil {
		return nil, &Error{Path: path, Placeholder: s, Err: err}
	}
	return res, nil
}

// legacy rewrites the seeds' @@NAME@@ placeholders into template actions,
// so that values are inserted by template execution and never parsed again
// (a value containing "{{" stays literal).
func (r *renderer) legacy(s string) (string, error) {
	var missing []string
	out := legacyRe.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-2]
		switch name {
		case "IMAGE":
			return "{{ .Image }}"
		case "IMAGE_TAG":
			return "{{ .Tag }}"
		case "IMAGE_DIGEST":
			return "{{ .Digest }}"
		case "REGION":
			return "{{ .Region }}"
		case "ACCOUNT":
			return "{{ .Account }}"
		case "CLUSTER":
			return "{{ .Cluster }}"
		case "SERVICE":
			return "{{ .Service }}"
		}
		if _, ok := r.view.Vars[name]; ok {
			return fmt.Sprintf("{{ index .Vars %q }}", name)
		}
		missing = append(missing, m)
		return m
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("missing variable for placeholder %s (set it under vars:)", strings.Join(missing, ", "))
	}
	return out, nil
}
