package taskdef

// This file evaluates placeholder templates over the parse tree of
// text/template/parse, without text/template's executor. It mirrors
// text/template's exec.go as of Go 1.26 (go.mod's go line); funcs.go mirrors
// the builtins of its funcs.go that placeholders keep.
//
// Why: text/template's executor resolves `.Name` with
// reflect.Value.MethodByName(name). Once that call is reachable, the Go
// linker must keep every exported method of every type in the binary (all
// AWS SDK client operations), which made the Lambda binaries 20 MiB or more.
// The parser has no reflection, so we keep it and evaluate its tree here.
//
// It evaluates what DESIGN §4 lets a placeholder do, over the closed set of
// values a placeholder sees: the view's fields, the .Images and .Vars maps,
// an Image's fields and .URI, `$`, pipelines and parentheses, if/else/with,
// the functions of funcs.go (and, or, not, eq, ne, index on the maps,
// print, printf, and Deckhand's default, number, upper, lower, replace,
// trimPrefix, trimSuffix) and literals (string, bool, int, float64). Values
// are held as `any` of exactly the Go types text/template would hold, so
// printing them with fmt gives the same text, and errors are
// text/template's, including the node named in "<…>: " (s.node mirrors
// text/template's s.at). The differential test and fuzz target in
// exec_test.go and fuzz_test.go hold both executors to the same output.
//
// A Go nil stands for text/template's invalid reflect.Value ("no value"),
// which in our data only a nil literal can produce (`and nil 1` prints
// "<no value>", as in text/template).
//
// Deliberately unsupported, with an *unsupportedError naming the construct,
// also where it would not run: range, break, continue, template, define,
// block, variables other than `$` (`$x := …`), complex numbers, the
// builtins call, html, js, urlquery, len, slice, println, lt, le, gt and
// ge, indexing a string, and fields and methods beyond the view's, the
// maps' entries and an image's Registry, Repository, Tag, Digest and URI
// (String and PushedAt of an image).
//
// Rendering is bounded (bounds.go): what a placeholder writes, and every
// function result, is charged to the render's budget before it is
// allocated, so a hostile template fails with ErrTooLarge in bounded memory.

import (
	"errors"
	"fmt"
	"strings"
	"text/template/parse"
)

// unsupportedError reports a Go-template construct that placeholders do not
// support (DESIGN §4).
type unsupportedError struct{ what string }

func (e *unsupportedError) Error() string {
	return e.what + " is unsupported in task-definition placeholders"
}

func unsupported(format string, args ...any) error {
	return &unsupportedError{what: fmt.Sprintf(format, args...)}
}

// parsePlaceholder parses one string value as text/template would (same
// parser, same function names, no comments in the tree) and rejects the
// constructs the evaluator does not support.
func parsePlaceholder(s string) (*parse.Tree, error) {
	t := parse.New("value")
	set := map[string]*parse.Tree{}
	if _, err := t.Parse(s, "", "", set, funcs, builtinNames, refFuncs); err != nil {
		return nil, fmt.Errorf("parse placeholder: %w", cleanTemplateErr(err))
	}
	// A {{define}} or {{block}} adds a tree; one named "value" may even
	// replace ours.
	if len(set) != 1 || set["value"] != t {
		return nil, unsupported("{{define}} or {{block}}")
	}
	if err := checkSupported(t.Root); err != nil {
		return nil, err
	}
	return t, nil
}

// checkSupported rejects unsupported constructs anywhere in the tree, also
// in branches that would not run, so a template is accepted or rejected
// whatever the data.
func checkSupported(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkSupported(c); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return checkSupported(n.Pipe)
	case *parse.IfNode:
		return errors.Join(checkSupported(n.Pipe), checkSupported(n.List), checkSupported(n.ElseList))
	case *parse.WithNode:
		return errors.Join(checkSupported(n.Pipe), checkSupported(n.List), checkSupported(n.ElseList))
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		if len(n.Decl) > 0 {
			return unsupported("declaring or assigning variables (%s)", n)
		}
		for _, c := range n.Cmds {
			if err := checkSupported(c); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if err := checkSupported(a); err != nil {
				return err
			}
		}
	case *parse.ChainNode:
		return checkSupported(n.Node)
	case *parse.IdentifierNode:
		if _, ok := builtins[n.Ident]; !ok && funcs[n.Ident] == nil && refFuncs[n.Ident] == nil {
			return unsupported("the %s function", n.Ident)
		}
	case *parse.VariableNode:
		if n.Ident[0] != "$" {
			return unsupported("variables (%s)", n)
		}
	case *parse.NumberNode:
		if n.IsComplex {
			return unsupported("complex numbers (%s)", n.Text)
		}
	case *parse.RangeNode, *parse.TemplateNode, *parse.BreakNode, *parse.ContinueNode:
		return unsupported("{{%s}}", nodeKeyword(n))
	}
	return nil
}

func nodeKeyword(n parse.Node) string {
	switch n.(type) {
	case *parse.RangeNode:
		return "range"
	case *parse.TemplateNode:
		return "template"
	case *parse.BreakNode:
		return "break"
	case *parse.ContinueNode:
		return "continue"
	}
	return fmt.Sprintf("%T", n)
}

// execTree renders a tree from parsePlaceholder with data as dot and $,
// charging what it writes and what its functions return to b.
func execTree(t *parse.Tree, data any, b *budget) (string, error) {
	s := &state{tree: t, root: data, budget: b}
	if err := s.walk(data, t.Root); err != nil {
		return "", err
	}
	return s.out.String(), nil
}

type state struct {
	tree   *parse.Tree
	root   any        // $
	node   parse.Node // the node being evaluated, for errors (text/template's s.at)
	out    strings.Builder
	budget *budget
}

// write appends text to the output within the budget.
func (s *state) write(text string) error {
	if err := s.budget.spend(len(text)); err != nil {
		return err
	}
	s.out.WriteString(text)
	return nil
}

func (s *state) at(n parse.Node) { s.node = n }

// errorf formats an error as text/template does after cleanTemplateErr:
// "<node>: message".
func (s *state) errorf(format string, args ...any) error {
	if s.node == nil {
		return fmt.Errorf(format, args...)
	}
	_, context := s.tree.ErrorContext(s.node)
	return fmt.Errorf("<%s>: "+format, append([]any{context}, args...)...)
}

// missingType marks a command with no value piped into it (text/template's
// missingVal).
type missingType struct{}

var missing any = missingType{}

func isMissing(v any) bool {
	_, ok := v.(missingType)
	return ok
}

func (s *state) walk(dot any, node parse.Node) error {
	s.at(node)
	switch node := node.(type) {
	case *parse.ActionNode:
		if len(node.Pipe.Decl) > 0 {
			return unsupported("declaring or assigning variables (%s)", node.Pipe)
		}
		val, err := s.evalPipeline(dot, node.Pipe)
		if err != nil {
			return err
		}
		return s.printValue(node, val)
	case *parse.CommentNode:
		return nil
	case *parse.IfNode:
		return s.walkIfOrWith(parse.NodeIf, dot, node.Pipe, node.List, node.ElseList)
	case *parse.ListNode:
		for _, n := range node.Nodes {
			if err := s.walk(dot, n); err != nil {
				return err
			}
		}
		return nil
	case *parse.TextNode:
		return s.write(string(node.Text))
	case *parse.WithNode:
		return s.walkIfOrWith(parse.NodeWith, dot, node.Pipe, node.List, node.ElseList)
	case *parse.RangeNode, *parse.TemplateNode, *parse.BreakNode, *parse.ContinueNode:
		return unsupported("{{%s}}", nodeKeyword(node))
	}
	return s.errorf("unknown node: %s", node)
}

func (s *state) walkIfOrWith(typ parse.NodeType, dot any, pipe *parse.PipeNode, list, elseList *parse.ListNode) error {
	val, err := s.evalPipeline(dot, pipe)
	if err != nil {
		return err
	}
	if truth(val) {
		if typ == parse.NodeWith {
			return s.walk(val, list)
		}
		return s.walk(dot, list)
	} else if elseList != nil {
		return s.walk(dot, elseList)
	}
	return nil
}

// truth is text/template's isTrue for our values: empty strings and maps,
// false, zero numbers and no value are false; structs are true.
func truth(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case bool:
		return v
	case int:
		return v != 0
	case float64:
		return v != 0
	case map[string]string:
		return len(v) > 0
	case map[string]Image:
		return len(v) > 0
	}
	return true // view, Image
}

// printValue prints as text/template does: fmt's %v, "<no value>" for no
// value. A value that cannot fit the budget is not formatted at all.
func (s *state) printValue(n parse.Node, v any) error {
	s.at(n)
	if v == nil {
		return s.write("<no value>")
	}
	if str, ok := v.(string); ok {
		return s.write(str)
	}
	if err := s.budget.fits(valueSize(v)); err != nil {
		return err
	}
	return s.write(fmt.Sprint(v))
}

func (s *state) evalPipeline(dot any, pipe *parse.PipeNode) (any, error) {
	if pipe == nil || len(pipe.Cmds) == 0 {
		return nil, nil
	}
	s.at(pipe)
	if len(pipe.Decl) > 0 {
		return nil, unsupported("declaring or assigning variables (%s)", pipe)
	}
	value := missing
	for _, cmd := range pipe.Cmds {
		v, err := s.evalCommand(dot, cmd, value) // the previous value is this one's final argument
		if err != nil {
			return nil, err
		}
		value = v
	}
	return value, nil
}

func (s *state) notAFunction(args []parse.Node, final any) error {
	if len(args) > 1 || !isMissing(final) {
		return s.errorf("can't give argument to non-function %s", args[0])
	}
	return nil
}

func (s *state) evalCommand(dot any, cmd *parse.CommandNode, final any) (any, error) {
	firstWord := cmd.Args[0]
	switch n := firstWord.(type) {
	case *parse.FieldNode:
		return s.evalFieldNode(dot, n, cmd.Args, final)
	case *parse.ChainNode:
		return s.evalChainNode(dot, n, cmd.Args, final)
	case *parse.IdentifierNode:
		return s.evalFunction(dot, n, cmd, cmd.Args, final)
	case *parse.PipeNode:
		// A parenthesised pipeline: its arguments are inside it.
		if err := s.notAFunction(cmd.Args, final); err != nil {
			return nil, err
		}
		return s.evalPipeline(dot, n)
	case *parse.VariableNode:
		return s.evalVariableNode(dot, n, cmd.Args, final)
	}
	s.at(firstWord)
	if err := s.notAFunction(cmd.Args, final); err != nil {
		return nil, err
	}
	switch word := firstWord.(type) {
	case *parse.BoolNode:
		return word.True, nil
	case *parse.DotNode:
		return dot, nil
	case *parse.NilNode:
		return nil, s.errorf("nil is not a command")
	case *parse.NumberNode:
		return s.idealConstant(word)
	case *parse.StringNode:
		return word.Text, nil
	}
	return nil, s.errorf("can't evaluate command %q", firstWord)
}

// idealConstant gives a number literal the type its syntax implies.
func (s *state) idealConstant(constant *parse.NumberNode) (any, error) {
	s.at(constant)
	switch { // complex literals were refused by checkSupported
	case constant.IsFloat &&
		!isHexInt(constant.Text) && !isRuneInt(constant.Text) &&
		strings.ContainsAny(constant.Text, ".eEpP"):
		return constant.Float64, nil
	case constant.IsInt:
		n := int(constant.Int64)
		if int64(n) != constant.Int64 {
			return nil, s.errorf("%s overflows int", constant.Text)
		}
		return n, nil
	case constant.IsUint:
		return nil, s.errorf("%s overflows int", constant.Text)
	}
	return nil, nil
}

func isRuneInt(s string) bool {
	return len(s) > 0 && s[0] == '\''
}

func isHexInt(s string) bool {
	return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !strings.ContainsAny(s, "pP")
}

func (s *state) evalFieldNode(dot any, field *parse.FieldNode, args []parse.Node, final any) (any, error) {
	s.at(field)
	return s.evalFieldChain(dot, dot, field, field.Ident, args, final)
}

func (s *state) evalChainNode(dot any, chain *parse.ChainNode, args []parse.Node, final any) (any, error) {
	s.at(chain)
	if len(chain.Field) == 0 {
		return nil, s.errorf("internal error: no fields in evalChainNode")
	}
	if chain.Node.Type() == parse.NodeNil {
		return nil, s.errorf("indirection through explicit nil in %s", chain)
	}
	// (pipe).Field1.Field2 has pipe as .Node, the fields as .Field.
	pipe, err := s.evalArg(dot, argNone, chain.Node)
	if err != nil {
		return nil, err
	}
	return s.evalFieldChain(dot, pipe, chain, chain.Field, args, final)
}

func (s *state) evalVariableNode(dot any, variable *parse.VariableNode, args []parse.Node, final any) (any, error) {
	s.at(variable)
	if variable.Ident[0] != "$" {
		return nil, unsupported("variables (%s)", variable)
	}
	value := s.root
	if len(variable.Ident) == 1 {
		if err := s.notAFunction(args, final); err != nil {
			return nil, err
		}
		return value, nil
	}
	return s.evalFieldChain(dot, value, variable, variable.Ident[1:], args, final)
}

// evalFieldChain evaluates .X.Y.Z: receiver is walked along the chain; dot
// is where arguments are evaluated.
func (s *state) evalFieldChain(dot, receiver any, node parse.Node, ident []string, args []parse.Node, final any) (any, error) {
	n := len(ident)
	for i := 0; i < n-1; i++ {
		var err error
		if receiver, err = s.evalField(dot, ident[i], node, nil, missing, receiver); err != nil {
			return nil, err
		}
	}
	// Only the last one gets the arguments.
	return s.evalField(dot, ident[n-1], node, args, final, receiver)
}

func (s *state) evalFunction(dot any, node *parse.IdentifierNode, cmd parse.Node, args []parse.Node, final any) (any, error) {
	s.at(node)
	name := node.Ident
	if f, ok := ourFuncs[name]; ok {
		return s.evalCall(dot, f, false, cmd, name, args, final)
	}
	if f, ok := builtins[name]; ok {
		return s.evalCall(dot, f, true, cmd, name, args, final)
	}
	if refFuncs[name] != nil {
		v, _ := s.root.(view)
		return s.evalCall(dot, v.refFunction(RefKind(name)), false, cmd, name, args, final)
	}
	if builtinNames[name] != nil {
		return nil, unsupported("the %s function", name)
	}
	return nil, s.errorf("%q is not a defined function", name)
}

// evalField evaluates .Name on receiver: a method (only URI of an Image), a
// struct field, or a map entry (missingkey=error).
func (s *state) evalField(dot any, fieldName string, node parse.Node, args []parse.Node, final, receiver any) (any, error) {
	if receiver == nil {
		return nil, s.errorf("nil data; no entry for key %q", fieldName)
	}
	// Methods come first, as in text/template.
	switch r := receiver.(type) {
	case Image:
		switch fieldName {
		case "URI":
			uri := function{call: func([]any) (any, error) { return r.URI() }}
			return s.evalCall(dot, uri, false, node, fieldName, args, final)
		case "String":
			return nil, unsupported("calling .%s on an image (use .URI)", fieldName)
		case "PushedAt":
			return nil, unsupported("the .%s field of an image", fieldName)
		}
	}
	hasArgs := len(args) > 1 || !isMissing(final)
	var (
		field any
		found bool
	)
	switch r := receiver.(type) {
	case view:
		field, found = viewField(r, fieldName)
	case Image:
		field, found = imageField(r, fieldName)
	case map[string]string:
		return mapEntry(s, r, fieldName, hasArgs)
	case map[string]Image:
		return mapEntry(s, r, fieldName, hasArgs)
	}
	if found {
		if hasArgs {
			return nil, s.errorf("%s has arguments but cannot be invoked as function", fieldName)
		}
		return field, nil
	}
	return nil, s.errorf("can't evaluate field %s in type %T", fieldName, receiver)
}

func viewField(v view, name string) (any, bool) {
	switch name {
	case "Account":
		return v.Account, true
	case "Region":
		return v.Region, true
	case "Cluster":
		return v.Cluster, true
	case "Service":
		return v.Service, true
	case "Image":
		return v.Image, true
	case "Tag":
		return v.Tag, true
	case "Digest":
		return v.Digest, true
	case "Repository":
		return v.Repository, true
	case "Registry":
		return v.Registry, true
	case "Images":
		return v.Images, true
	case "Vars":
		return v.Vars, true
	}
	return nil, false
}

func imageField(i Image, name string) (any, bool) {
	switch name {
	case "Registry":
		return i.Registry, true
	case "Repository":
		return i.Repository, true
	case "Tag":
		return i.Tag, true
	case "Digest":
		return i.Digest, true
	}
	return nil, false
}

// argKind is the type of a function parameter.
type argKind int

const (
	argNone   argKind = iota // no type: the receiver of a chain
	argString                // string
	argAny                   // any or reflect.Value in text/template: any value, nil allowed
)

func (k argKind) String() string {
	if k == argString {
		return "string"
	}
	return "interface {}"
}

// function is a callable with typed parameters. For a variadic function the
// last parameter is the element type.
type function struct {
	params   []argKind
	variadic bool
	call     func(args []any) (any, error)
	// bound, if set, is an upper bound of the length of the call's result,
	// checked against the budget before the call.
	bound func(args []any) int
}

// evalCall calls a function or method. args, if non-nil, includes the
// function itself as args[0], as in text/template.
func (s *state) evalCall(dot any, fn function, isBuiltin bool, node parse.Node, name string, args []parse.Node, final any) (any, error) {
	if args != nil {
		args = args[1:]
	}
	numIn := len(args)
	if !isMissing(final) {
		numIn++
	}
	numFixed := len(args)
	if fn.variadic {
		numFixed = len(fn.params) - 1
		if numIn < numFixed {
			return nil, s.errorf("wrong number of args for %s: want at least %d got %d", name, len(fn.params)-1, len(args))
		}
	} else if numIn != len(fn.params) {
		return nil, s.errorf("wrong number of args for %s: want %d got %d", name, len(fn.params), numIn)
	}

	// and and or short-circuit.
	if isBuiltin && (name == "and" || name == "or") {
		var v any
		for _, arg := range args {
			var err error
			if v, err = s.evalArg(dot, argAny, arg); err != nil {
				return nil, err
			}
			if truth(v) == (name == "or") {
				return v, nil
			}
		}
		if !isMissing(final) {
			return s.validateType(final, argAny)
		}
		return v, nil
	}

	argv := make([]any, numIn)
	i := 0
	var err error
	for ; i < numFixed && i < len(args); i++ {
		if argv[i], err = s.evalArg(dot, fn.params[i], args[i]); err != nil {
			return nil, err
		}
	}
	if fn.variadic {
		elem := fn.params[len(fn.params)-1]
		for ; i < len(args); i++ {
			if argv[i], err = s.evalArg(dot, elem, args[i]); err != nil {
				return nil, err
			}
		}
	}
	if !isMissing(final) {
		t := fn.params[len(fn.params)-1]
		if fn.variadic && numIn-1 < numFixed {
			t = fn.params[numIn-1]
		}
		if argv[i], err = s.validateType(final, t); err != nil {
			return nil, err
		}
	}
	if fn.bound != nil {
		if err := s.budget.fits(fn.bound(argv)); err != nil {
			s.at(node)
			return nil, s.errorf("%s: %w", name, err)
		}
	}
	v, err := fn.call(argv)
	if err != nil {
		s.at(node)
		return nil, s.errorf("error calling %s: %w", name, err)
	}
	if str, ok := v.(string); ok {
		if err := s.budget.use(len(str)); err != nil {
			s.at(node)
			return nil, s.errorf("%s: %w", name, err)
		}
	}
	return v, nil
}

// validateType checks that value can be passed as a parameter of type typ.
func (s *state) validateType(value any, typ argKind) (any, error) {
	if value == nil {
		if typ == argString {
			return nil, s.errorf("invalid value; expected %s", typ)
		}
		return nil, nil
	}
	if typ == argString {
		if _, ok := value.(string); !ok {
			return nil, s.errorf("wrong type for value; expected %s; got %T", typ, value)
		}
	}
	return value, nil
}

func (s *state) evalArg(dot any, typ argKind, n parse.Node) (any, error) {
	s.at(n)
	var (
		v   any
		err error
	)
	switch arg := n.(type) {
	case *parse.DotNode:
		return s.validateType(dot, typ)
	case *parse.NilNode:
		if typ == argAny {
			return nil, nil
		}
		return nil, s.errorf("cannot assign nil to %s", typ)
	case *parse.FieldNode:
		v, err = s.evalFieldNode(dot, arg, []parse.Node{n}, missing)
	case *parse.VariableNode:
		v, err = s.evalVariableNode(dot, arg, nil, missing)
	case *parse.PipeNode:
		v, err = s.evalPipeline(dot, arg)
	case *parse.IdentifierNode:
		v, err = s.evalFunction(dot, arg, arg, nil, missing)
	case *parse.ChainNode:
		v, err = s.evalChainNode(dot, arg, nil, missing)
	default:
		switch typ {
		case argAny:
			return s.evalEmptyInterface(dot, n)
		case argString:
			if n, ok := n.(*parse.StringNode); ok {
				return n.Text, nil
			}
			return nil, s.errorf("expected string; found %s", n)
		}
		return nil, s.errorf("can't handle %s for arg of type %s", n, typ)
	}
	if err != nil {
		return nil, err
	}
	return s.validateType(v, typ)
}

func (s *state) evalEmptyInterface(dot any, n parse.Node) (any, error) {
	s.at(n)
	switch n := n.(type) {
	case *parse.BoolNode:
		return n.True, nil
	case *parse.DotNode:
		return dot, nil
	case *parse.FieldNode:
		return s.evalFieldNode(dot, n, nil, missing)
	case *parse.IdentifierNode:
		return s.evalFunction(dot, n, n, nil, missing)
	case *parse.NumberNode:
		return s.idealConstant(n)
	case *parse.StringNode:
		return n.Text, nil
	case *parse.VariableNode:
		return s.evalVariableNode(dot, n, nil, missing)
	case *parse.PipeNode:
		return s.evalPipeline(dot, n)
	}
	return nil, s.errorf("can't handle assignment of %s to empty interface argument", n)
}

// mapEntry is `.Key` on a map (missingkey=error), as text/template does it.
func mapEntry[V any](s *state, m map[string]V, fieldName string, hasArgs bool) (any, error) {
	if hasArgs {
		return nil, s.errorf("%s is not a method but has arguments", fieldName)
	}
	v, ok := m[fieldName]
	if !ok {
		return nil, s.errorf("map has no entry for key %q", fieldName)
	}
	return v, nil
}
