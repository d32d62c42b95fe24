package taskdef

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template/parse"
)

// wholeNumberRe matches a string that is exactly one action ending in
// `| number`, e.g. "{{ .Vars.cpu | number }}".
var wholeNumberRe = regexp.MustCompile(`^\{\{-?\s*[^{}]*\|\s*number\s*-?\}\}$`)

// execute renders one string value. Only a whole-value `| number` action
// yields a JSON number; everything else yields a string.
func (r *renderer) execute(s string) (any, error) {
	t, err := parsePlaceholder(s)
	if err != nil {
		return nil, err
	}
	whole := wholeNumberRe.MatchString(strings.TrimSpace(s))
	uses := scanVars(t.Root)
	if uses.number && !whole {
		return nil, errors.New("`number` must be the whole value, as in \"{{ .Vars.cpu | number }}\"")
	}
	v := r.view
	for name := range uses.defaulted {
		if _, ok := v.Vars[name]; !ok && !uses.required[name] {
			v.Vars = maps.Clone(v.Vars)
			if v.Vars == nil {
				v.Vars = map[string]string{}
			}
			v.Vars[name] = ""
		}
	}
	for _, name := range slices.Sorted(maps.Keys(uses.required)) { // the same name every time
		if _, ok := v.Vars[name]; !ok {
			return nil, fmt.Errorf("missing variable %q (set it under vars:, or write {{ .Vars.%s | default \"…\" }})", name, name)
		}
	}
	out, err := execTree(t, v, r.budget) // missingkey=error semantics, errors already clean
	if err != nil {
		return nil, err
	}
	if !whole {
		return out, nil
	}
	n := json.Number(strings.TrimSpace(out))
	if _, err := n.Float64(); err != nil {
		return nil, fmt.Errorf("number: %q is not a number", out)
	}
	return n, nil
}

// varUses records which .Vars names a template reads, and how.
type varUses struct {
	required  map[string]bool // read without a default
	defaulted map[string]bool // read in a pipeline ending in `default`
	number    bool            // uses the number function
}

func scanVars(root *parse.ListNode) varUses {
	u := varUses{required: map[string]bool{}, defaulted: map[string]bool{}}
	var pipe func(p *parse.PipeNode)
	var node func(n parse.Node)
	pipe = func(p *parse.PipeNode) {
		if p == nil || len(p.Cmds) == 0 {
			return
		}
		last := p.Cmds[len(p.Cmds)-1]
		defaulted := false
		if len(last.Args) > 0 {
			if id, ok := last.Args[0].(*parse.IdentifierNode); ok && id.Ident == "default" {
				defaulted = true
			}
		}
		for _, c := range p.Cmds {
			for _, a := range c.Args {
				switch a := a.(type) {
				case *parse.FieldNode:
					if len(a.Ident) >= 2 && a.Ident[0] == "Vars" {
						if defaulted {
							u.defaulted[a.Ident[1]] = true
						} else {
							u.required[a.Ident[1]] = true
						}
					}
				case *parse.IdentifierNode:
					if a.Ident == "number" {
						u.number = true
					}
				case *parse.PipeNode:
					pipe(a)
				}
			}
		}
	}
	node = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				node(c)
			}
		case *parse.ActionNode:
			pipe(n.Pipe)
		case *parse.IfNode:
			pipe(n.Pipe)
			node(n.List)
			node(n.ElseList)
		case *parse.RangeNode:
			pipe(n.Pipe)
			node(n.List)
			node(n.ElseList)
		case *parse.WithNode:
			pipe(n.Pipe)
			node(n.List)
			node(n.ElseList)
		}
	}
	node(root)
	return u
}

// cleanTemplateErr drops the "template: value:1:5: " prefix of parse errors
// (and of text/template's execution errors, which execTree's errors match),
// which names our internal template, not the user's file.
func cleanTemplateErr(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": executing \"value\" at "); i >= 0 {
		msg = msg[i+len(": executing \"value\" at "):]
	}
	msg = strings.TrimPrefix(msg, "template: ")
	msg = strings.TrimPrefix(msg, "value:")
	return errors.New(msg)
}
