package taskdef

// {{ ssm "/path" }} and {{ secret "name" }} (issue 15 item 2) render the
// ARN of an SSM parameter or a Secrets Manager secret, for
// secrets[].valueFrom and the like. Rendering makes no network call: the
// names are read from the template first (References), resolved by the
// caller (shared/aws/refs fills Data.Refs with SSM GetParameters and
// Secrets Manager DescribeSecret), and rendering looks them up. A name not
// found is a render error naming the template's JSON path. A secret's ARN
// ends in six random characters ECS needs, so it cannot be computed; an
// SSM parameter's can, which is what rendering offline does
// (Options.OfflineRefs).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template/parse"
)

// RefKind is what a reference function resolves.
type RefKind string

// The reference functions.
const (
	RefSSM    RefKind = "ssm"    // an SSM parameter by its full path
	RefSecret RefKind = "secret" // a Secrets Manager secret by name or ARN
)

// refFuncs are the reference functions' names, for the parser.
var refFuncs = map[string]any{string(RefSSM): true, string(RefSecret): true}

// Ref is a name a template resolves to an ARN.
type Ref struct {
	Kind RefKind
	Name string
}

func (r Ref) String() string { return fmt.Sprintf("{{ %s %q }}", r.Kind, r.Name) }

// What names a ref for a person: "SSM parameter /web/db-url".
func (r Ref) What() string {
	if r.Kind == RefSSM {
		return "SSM parameter " + r.Name
	}
	return "Secrets Manager secret " + r.Name
}

// Refs maps resolved references to their ARNs. A reference resolved and
// not found is absent.
type Refs map[Ref]string

// CheckRef checks a reference's name before anything is looked up: an SSM
// parameter is named by its full path (a relative one is refused), a
// secret by a non-empty name or ARN.
func CheckRef(r Ref) error {
	switch r.Kind {
	case RefSSM:
		if !strings.HasPrefix(r.Name, "/") && !strings.HasPrefix(r.Name, "arn:") {
			return fmt.Errorf("ssm %q is a relative path; name the parameter by its full path, as in {{ ssm \"/%s\" }}", r.Name, r.Name)
		}
		if strings.Contains(r.Name, "//") || strings.HasSuffix(r.Name, "/") || len(r.Name) > 2048 {
			return fmt.Errorf("ssm %q is not an SSM parameter path", r.Name)
		}
	case RefSecret:
		if strings.TrimSpace(r.Name) == "" || len(r.Name) > 2048 {
			return fmt.Errorf("secret %q: want a secret's name or ARN", r.Name)
		}
	default:
		return fmt.Errorf("unknown reference kind %q", r.Kind)
	}
	return nil
}

// ParameterARN is the ARN of the SSM parameter at path in account and
// Region: computable, unlike a secret's.
func ParameterARN(account, region, path string) string {
	if strings.HasPrefix(path, "arn:") {
		return path
	}
	return fmt.Sprintf("arn:%s:ssm:%s:%s:parameter/%s", partition(region), region, account, strings.TrimPrefix(path, "/"))
}

// OfflineARN is r's ARN as rendering offline gives it: an SSM parameter's
// computed (ParameterARN), a secret's with "XXXXXX" for the six characters
// only Secrets Manager knows.
func OfflineARN(account, region string, r Ref) string {
	if r.Kind == RefSSM || strings.HasPrefix(r.Name, "arn:") {
		return ParameterARN(account, region, r.Name)
	}
	return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-XXXXXX", partition(region), region, account, r.Name)
}

// partition is the ARN partition of a Region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// errRefNotLiteral explains the one form references take.
var errRefNotLiteral = errors.New("takes one string literal, as in {{ ssm \"/web/db-url\" }} or {{ secret \"prod/web/db\" }}: Deckhand resolves the names before rendering")

// References returns the references tmpl's strings make, sorted and
// without duplicates. Each must be a string literal argument (or a literal
// piped into the function) and a valid name (CheckRef); errors name the
// JSON path. Templates that do not mention ssm or secret are not parsed.
func References(tmpl []byte, key string) ([]Ref, error) {
	if !strings.Contains(string(tmpl), string(RefSSM)) && !strings.Contains(string(tmpl), string(RefSecret)) {
		return nil, nil
	}
	doc, err := decodeTemplate(tmpl)
	if err != nil {
		return nil, &Error{Key: key, Err: err}
	}
	seen := map[Ref]bool{}
	p := &problems{key: key}
	walkStrings(doc, "$", func(path, s string) {
		if !strings.Contains(s, "{{") {
			return
		}
		t, err := parsePlaceholder(s)
		if err != nil {
			return // Render reports it
		}
		refsIn(t.Root, func(r Ref, err error) {
			if err == nil {
				err = CheckRef(r)
			}
			if err != nil {
				p.add(&Error{Path: path, Placeholder: s, Err: err})
				return
			}
			seen[r] = true
		})
	})
	if err := p.err(); err != nil {
		return nil, err
	}
	out := make([]Ref, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Ref) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Name, string(b.Kind)+"\x00"+b.Name)
	})
	return out, nil
}

// walkStrings calls f with every string value of doc and its JSON path.
func walkStrings(v any, path string, f func(path, s string)) {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(mapKeys(t)) {
			walkStrings(t[k], path+"."+k, f)
		}
	case []any:
		for i, e := range t {
			walkStrings(e, fmt.Sprintf("%s[%d]", path, i), f)
		}
	case string:
		f(path, t)
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// refsIn reports every call of a reference function in n.
func refsIn(n parse.Node, f func(Ref, error)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				refsIn(c, f)
			}
		}
	case *parse.ActionNode:
		refsIn(n.Pipe, f)
	case *parse.IfNode:
		refsIn(n.Pipe, f)
		refsIn(n.List, f)
		refsIn(n.ElseList, f)
	case *parse.WithNode:
		refsIn(n.Pipe, f)
		refsIn(n.List, f)
		refsIn(n.ElseList, f)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for i, cmd := range n.Cmds {
			for _, a := range cmd.Args[1:] {
				refsIn(a, f)
			}
			id, ok := cmd.Args[0].(*parse.IdentifierNode)
			if !ok {
				refsIn(cmd.Args[0], f)
				continue
			}
			kind := RefKind(id.Ident)
			if refFuncs[id.Ident] == nil {
				continue
			}
			switch {
			case len(cmd.Args) == 2 && i == 0:
				if s, ok := cmd.Args[1].(*parse.StringNode); ok {
					f(Ref{Kind: kind, Name: s.Text}, nil)
					continue
				}
			case len(cmd.Args) == 1 && i == 1 && len(n.Cmds[0].Args) == 1:
				if s, ok := n.Cmds[0].Args[0].(*parse.StringNode); ok {
					f(Ref{Kind: kind, Name: s.Text}, nil)
					continue
				}
			}
			f(Ref{Kind: kind}, fmt.Errorf("%s %w", kind, errRefNotLiteral))
		}
	case *parse.ChainNode:
		refsIn(n.Node, f)
	}
}

// refFunction is the reference function kind as the evaluator calls it,
// over what the view resolved.
func (v view) refFunction(kind RefKind) function {
	return function{
		params: []argKind{argString},
		bound:  func(a []any) int { return 256 + sumSizes(a) }, // an ARN: a prefix and the name
		call: func(a []any) (any, error) {
			return v.resolveRef(Ref{Kind: kind, Name: a[0].(string)})
		},
	}
}

// resolveRef is the ARN of r: computed offline for an SSM parameter (a
// secret's cannot be), else looked up in what the caller resolved.
func (v view) resolveRef(r Ref) (string, error) {
	if err := CheckRef(r); err != nil {
		return "", err
	}
	if strings.HasPrefix(r.Name, "arn:") {
		return r.Name, nil
	}
	switch {
	case v.offlineRefs:
		return OfflineARN(v.Account, v.Region, r), nil
	case v.refs == nil:
		return "", fmt.Errorf("%s was not resolved before rendering (this renderer has no SSM or Secrets Manager client)", r.What())
	}
	arn, ok := v.refs[r]
	if !ok {
		return "", fmt.Errorf("%s not found in account %s, Region %s: create it, or fix the name", r.What(), v.Account, v.Region)
	}
	return arn, nil
}

// Resolver resolves references to ARNs (shared/aws/refs implements it):
// the ARNs of those that exist; one that does not is absent.
type Resolver interface {
	Resolve(ctx context.Context, refs []Ref) (Refs, error)
}

// ResolveRefs reads tmpl's references (References) and resolves them with
// r: what a caller puts in Data.Refs before Render. A template without
// references makes no call and gives nil. A bad reference is an *Error
// (permanent); a resolver error is returned as it is. With a nil r the
// references stay unresolved, and rendering says so.
func ResolveRefs(ctx context.Context, r Resolver, tmpl []byte, key string) (Refs, error) {
	refs, err := References(tmpl, key)
	if err != nil || len(refs) == 0 || r == nil {
		return nil, err
	}
	out, err := r.Resolve(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("resolve references of template %s: %w", key, err)
	}
	return out, nil
}
