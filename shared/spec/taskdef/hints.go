package taskdef

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template/parse"
)

// A mistyped placeholder ({{ .Imgae }}, {{ .Vars.LOG_LEVL }}) fails with
// text/template's error; hint adds the names that were valid there, and the
// closest one.

var (
	viewFields  = []string{"Account", "Cluster", "Digest", "Image", "Images", "Region", "Registry", "Repository", "Service", "Tag", "Vars"}
	imageFields = []string{"Digest", "Registry", "Repository", "Tag", "URI"}
	undefinedFn = regexp.MustCompile(`function "([^"]+)" not defined`)
)

// hint explains why a placeholder that failed may have failed: the first
// name in it that names nothing, with the names valid there. "" when every
// name is known.
func (r *renderer) hint(src string, err error) string {
	if m := undefinedFn.FindStringSubmatch(err.Error()); m != nil {
		names := slices.Sorted(maps.Keys(ourFuncs))
		names = append(names, slices.Sorted(maps.Keys(refFuncs))...)
		names = append(names, slices.Sorted(maps.Keys(builtins))...)
		return "the functions are " + join(names, "") + didYouMean(m[1], names, "")
	}
	t, perr := parsePlaceholder(src)
	if perr != nil {
		return ""
	}
	return r.hintNode(t.Root, true)
}

// hintNode looks for an unknown name in n; dotIsView says whether dot is
// the template's data there (it is not inside a with).
func (r *renderer) hintNode(n parse.Node, dotIsView bool) string {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Nodes {
			if h := r.hintNode(c, dotIsView); h != "" {
				return h
			}
		}
	case *parse.ActionNode:
		return r.hintNode(n.Pipe, dotIsView)
	case *parse.IfNode:
		return first(r.hintNode(n.Pipe, dotIsView), r.hintNode(n.List, dotIsView), r.hintNode(n.ElseList, dotIsView))
	case *parse.WithNode:
		return first(r.hintNode(n.Pipe, dotIsView), r.hintNode(n.List, false), r.hintNode(n.ElseList, dotIsView))
	case *parse.PipeNode:
		if n == nil {
			return ""
		}
		for _, c := range n.Cmds {
			if h := r.hintNode(c, dotIsView); h != "" {
				return h
			}
		}
	case *parse.CommandNode:
		if h := r.hintIndex(n.Args, dotIsView); h != "" {
			return h
		}
		for _, a := range n.Args {
			if h := r.hintNode(a, dotIsView); h != "" {
				return h
			}
		}
	case *parse.ChainNode:
		if h := r.hintNode(n.Node, dotIsView); h != "" {
			return h
		}
		if p, ok := n.Node.(*parse.PipeNode); ok && len(p.Cmds) == 1 && r.indexesImages(p.Cmds[0].Args, dotIsView) {
			return hintImageField(n.Field[0])
		}
	case *parse.FieldNode:
		if dotIsView {
			return r.hintChain(n.Ident)
		}
	case *parse.VariableNode:
		if len(n.Ident) > 1 {
			return r.hintChain(n.Ident[1:])
		}
	}
	return ""
}

// hintChain checks .A.B.C against the template's data.
func (r *renderer) hintChain(ids []string) string {
	field := ids[0]
	switch {
	case !slices.Contains(viewFields, field):
		return fmt.Sprintf("there is no field .%s: the fields are %s%s", field, join(viewFields, "."), didYouMean(field, viewFields, "."))
	case len(ids) == 1:
		return ""
	case field == "Vars":
		if _, ok := r.view.Vars[ids[1]]; !ok {
			return strings.TrimPrefix(varsHint(r.view.Vars, ids[1]), "; ")
		}
	case field == "Images":
		if h := r.hintContainer(ids[1]); h != "" || len(ids) == 2 {
			return h
		}
		return hintImageField(ids[2])
	default:
		return fmt.Sprintf(".%s is a string and has no field .%s", field, ids[1])
	}
	return ""
}

// hintIndex checks index .Images "name" and index .Vars "NAME".
func (r *renderer) hintIndex(args []parse.Node, dotIsView bool) string {
	if len(args) != 3 || !isIdent(args[0], "index") {
		return ""
	}
	key, ok := args[2].(*parse.StringNode)
	if !ok {
		return ""
	}
	switch mapField(args[1], dotIsView) {
	case "Images":
		return r.hintContainer(key.Text)
	case "Vars":
		if _, ok := r.view.Vars[key.Text]; !ok {
			return strings.TrimPrefix(varsHint(r.view.Vars, key.Text), "; ")
		}
	}
	return ""
}

func (r *renderer) indexesImages(args []parse.Node, dotIsView bool) bool {
	return len(args) == 3 && isIdent(args[0], "index") && mapField(args[1], dotIsView) == "Images"
}

func (r *renderer) hintContainer(name string) string {
	if _, ok := r.view.Images[name]; ok {
		return ""
	}
	names := slices.Sorted(maps.Keys(r.view.Images))
	if len(names) == 0 {
		return fmt.Sprintf("no container has an image under images:, so there is no %q", name)
	}
	return fmt.Sprintf("the containers with images are %s%s", join(names, ""), didYouMean(name, names, ""))
}

func hintImageField(field string) string {
	if slices.Contains(imageFields, field) {
		return ""
	}
	return fmt.Sprintf("an image has %s%s", join(imageFields, "."), didYouMean(field, imageFields, "."))
}

// mapField names the top-level field n is (.Images, $.Vars), if any.
func mapField(n parse.Node, dotIsView bool) string {
	switch n := n.(type) {
	case *parse.FieldNode:
		if dotIsView && len(n.Ident) == 1 {
			return n.Ident[0]
		}
	case *parse.VariableNode:
		if len(n.Ident) == 2 {
			return n.Ident[1]
		}
	}
	return ""
}

func isIdent(n parse.Node, name string) bool {
	id, ok := n.(*parse.IdentifierNode)
	return ok && id.Ident == name
}

// varsHint says which vars there are, for a missing one: "; the vars are
// A and B (did you mean A?)".
func varsHint(vars map[string]string, name string) string {
	names := slices.Sorted(maps.Keys(vars))
	if len(names) == 0 {
		return "; no vars are set"
	}
	return "; the vars are " + join(names, "") + didYouMean(name, names, "")
}

// didYouMean names the candidate closest to name, if one is close: the
// same but for case, or at most a third of its letters away.
func didYouMean(name string, candidates []string, prefix string) string {
	best, bestDist := "", len(name)/3+1
	for _, c := range candidates {
		d := distance(strings.ToLower(name), strings.ToLower(c))
		if strings.EqualFold(c, name) {
			d = 0
		}
		if d < bestDist || d == 0 {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s%s?)", prefix, best)
}

// distance is the Levenshtein distance of a and b, with a transposition of
// neighbours counting one (Imgae is one step from Image).
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// join lists names as "A, B and C", each after prefix.
func join(names []string, prefix string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = prefix + n
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " and " + quoted[len(quoted)-1]
}

func first(hints ...string) string {
	for _, h := range hints {
		if h != "" {
			return h
		}
	}
	return ""
}
