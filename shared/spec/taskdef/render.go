package taskdef

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

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
	// Job, when the template is a job's, lets Render refuse what RunTask
	// would refuse given the job's launch, network and overrides.
	Job *manifest.Job
	// OfflineRefs renders {{ ssm }} and {{ secret }} without Data.Refs:
	// an SSM parameter's ARN computed from the account, Region and path, a
	// secret's with "-XXXXXX" for the suffix only Secrets Manager knows
	// (deckhand render and validate offline).
	OfflineRefs bool
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

// StripOutputOnly deletes from a describe-task-definition taskDefinition
// object the fields RegisterTaskDefinition does not accept, as Render does.
func StripOutputOnly(obj map[string]any) {
	for _, k := range outputOnly {
		delete(obj, k)
	}
}

// Render renders tmpl with data, strips output-only fields, decodes the
// result strictly into RegisterTaskDefinitionInput and validates it. It
// reports every problem it finds: one as an *Error, more as Errors.
func Render(tmpl []byte, data Data, opts Options) (*Rendered, error) {
	p := &problems{key: opts.Key}
	fail := func(path, placeholder string, err error) (*Rendered, error) {
		p.add(&Error{Path: path, Placeholder: placeholder, Err: err})
		return nil, p.err()
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
	StripOutputOnly(obj)
	v, err := data.view()
	if err != nil {
		return fail("", "", err)
	}
	v.offlineRefs = opts.OfflineRefs
	r := &renderer{view: v, budget: newBudget(), data: data}
	rendered := r.walk(obj, "$")
	p.add(r.errs...)
	if r.tooLarge {
		return nil, p.err() // every later string would fail too
	}
	if errs := checkShape(rendered); len(errs) > 0 {
		p.add(errs...)
		return nil, p.err() // the document does not decode as it reads
	}
	if err := pinBoundImages(rendered, data.Images); err != nil {
		p.add(err)
		r.failed = append(r.failed, err.Path)
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
	for _, e := range validate(out, data, opts) {
		if !r.follows(e.Path) {
			p.add(e)
		}
	}
	if err := p.err(); err != nil {
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
