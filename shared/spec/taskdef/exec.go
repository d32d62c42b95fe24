package taskdef

// This file evaluates placeholder templates over the parse tree of
// text/template/parse, without text/template's executor.
//
// Why: text/template's executor resolves `.Name` with
// reflect.Value.MethodByName(name). Once that call is reachable, the Go
// linker must keep every exported method of every type in the binary (all
// AWS SDK client operations), which made the Lambda binaries 20 MiB or more.
// The parser has no reflection, so we keep it and evaluate its tree here.
//
// The evaluator is a port of text/template's exec.go and funcs.go to the
// closed set of values a placeholder can see: the view, its strings and maps,
// Image and time.Time values, and the literals and function results of a
// pipeline (string, bool, int, float64, complex128, uint8 from indexing a
// string). Values are held as `any` of exactly the Go types text/template
// would hold, so printing them with fmt gives the same text. It keeps
// text/template's order of evaluation and its error messages, including the
// node named in "<…>: " (s.node mirrors text/template's s.at), so a user
// sees the same errors as before. The differential test and fuzz target in
// exec_test.go and fuzz_test.go hold both executors to the same output.
//
// A Go nil stands for text/template's invalid reflect.Value ("no value"),
// which in our data only a nil literal can produce (`and nil 1` prints
// "<no value>", as in text/template).
//
// Deliberately unsupported, with an *unsupportedError naming the construct:
// range, break, continue, template, define, block, variables other than `$`
// (`$x := …`), the builtins call, html, js and urlquery, and method calls
// other than URI on an image (String on an image, any field or method of a
// time.Time such as .PushedAt.Unix).

import (
	"errors"
	"fmt"
	"strings"
	"text/template/parse"
	"time"
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

// builtinNames are text/template's builtin functions, given to the parser
// with funcs so that it accepts and rejects exactly the names text/template
// does. The evaluated ones are in builtins; the rest are rejected by
// checkSupported.
var builtinNames = map[string]any{
	"and": true, "call": true, "html": true, "index": true, "slice": true, "js": true,
	"len": true, "not": true, "or": true, "print": true, "printf": true, "println": true,
	"urlquery": true, "eq": true, "ge": true, "gt": true, "le": true, "lt": true, "ne": true,
}

// parsePlaceholder parses one string value as text/template would (same
// parser, same function names, no comments in the tree) and rejects the
// constructs the evaluator does not support.
func parsePlaceholder(s string) (*parse.Tree, error) {
	t := parse.New("value")
	set := map[string]*parse.Tree{}
	if _, err := t.Parse(s, "", "", set, funcs, builtinNames); err != nil {
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
		if _, ok := builtins[n.Ident]; !ok && funcs[n.Ident] == nil {
			return unsupported("the %s function", n.Ident)
		}
	case *parse.VariableNode:
		if n.Ident[0] != "$" {
			return unsupported("variables (%s)", n)
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

// execTree renders a tree from parsePlaceholder with data as dot and $.
func execTree(t *parse.Tree, data any) (string, error) {
	s := &state{tree: t, root: data}
	if err := s.walk(data, t.Root); err != nil {
		return "", err
	}
	return s.out.String(), nil
}

type state struct {
	tree *parse.Tree
	root any        // $
	node parse.Node // the node being evaluated, for errors (text/template's s.at)
	out  strings.Builder
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
		s.printValue(node, val)
		return nil
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
		s.out.Write(node.Text)
		return nil
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
	case uint8:
		return v != 0
	case float64:
		return v != 0
	case complex128:
		return v != 0
	case map[string]string:
		return len(v) > 0
	case map[string]Image:
		return len(v) > 0
	}
	return true // view, Image, time.Time
}

// printValue prints as text/template does: fmt's %v, "<no value>" for no value.
func (s *state) printValue(n parse.Node, v any) {
	s.at(n)
	if v == nil {
		s.out.WriteString("<no value>")
		return
	}
	fmt.Fprint(&s.out, v)
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
	switch {
	case constant.IsComplex:
		return constant.Complex128, nil
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
		}
	case time.Time:
		return nil, unsupported("a field or method of a time (.%s)", fieldName)
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
	case "PushedAt":
		return i.PushedAt, true
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
	v, err := fn.call(argv)
	if err != nil {
		s.at(node)
		return nil, s.errorf("error calling %s: %w", name, err)
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

// ourFuncs are funcs, callable without reflection.
var ourFuncs = wrapFuncs(funcs)

func wrapFuncs(m map[string]any) map[string]function {
	out := make(map[string]function, len(m))
	for name, f := range m {
		out[name] = wrapFunc(name, f)
	}
	return out
}

// wrapFunc adapts a function of funcs. A signature it does not know becomes
// a function that fails (TestFuncsAreCallable catches it).
func wrapFunc(name string, f any) function {
	s, a := argString, argAny
	switch f := f.(type) {
	case func(string) string:
		return function{params: []argKind{s}, call: func(v []any) (any, error) {
			return f(v[0].(string)), nil
		}}
	case func(any) string:
		return function{params: []argKind{a}, call: func(v []any) (any, error) {
			return f(v[0]), nil
		}}
	case func(string, any) string:
		return function{params: []argKind{s, a}, call: func(v []any) (any, error) {
			return f(v[0].(string), v[1]), nil
		}}
	case func(string, string) string:
		return function{params: []argKind{s, s}, call: func(v []any) (any, error) {
			return f(v[0].(string), v[1].(string)), nil
		}}
	case func(string, string, string) string:
		return function{params: []argKind{s, s, s}, call: func(v []any) (any, error) {
			return f(v[0].(string), v[1].(string), v[2].(string)), nil
		}}
	}
	err := fmt.Errorf("template function %s has a signature (%T) the evaluator does not know", name, f)
	return function{params: nil, variadic: true, call: func([]any) (any, error) { return nil, err }}
}

// builtins are text/template's builtin functions that placeholders support.
var builtins = map[string]function{
	"and":     {params: []argKind{argAny, argAny}, variadic: true}, // evalCall evaluates and and or
	"or":      {params: []argKind{argAny, argAny}, variadic: true},
	"not":     {params: []argKind{argAny}, call: func(v []any) (any, error) { return !truth(v[0]), nil }},
	"len":     {params: []argKind{argAny}, call: func(v []any) (any, error) { return length(v[0]) }},
	"index":   {params: []argKind{argAny, argAny}, variadic: true, call: func(v []any) (any, error) { return index(v[0], v[1:]...) }},
	"slice":   {params: []argKind{argAny, argAny}, variadic: true, call: func(v []any) (any, error) { return slice(v[0], v[1:]...) }},
	"print":   {params: []argKind{argAny}, variadic: true, call: func(v []any) (any, error) { return fmt.Sprint(v...), nil }},
	"println": {params: []argKind{argAny}, variadic: true, call: func(v []any) (any, error) { return fmt.Sprintln(v...), nil }},
	"printf": {params: []argKind{argString, argAny}, variadic: true, call: func(v []any) (any, error) {
		return fmt.Sprintf(v[0].(string), v[1:]...), nil
	}},
	"eq": {params: []argKind{argAny, argAny}, variadic: true, call: func(v []any) (any, error) { return eq(v[0], v[1:]...) }},
	"ne": {params: []argKind{argAny, argAny}, call: func(v []any) (any, error) {
		equal, err := eq(v[0], v[1])
		return !equal, err
	}},
	"lt": {params: []argKind{argAny, argAny}, call: func(v []any) (any, error) { return lt(v[0], v[1]) }},
	"le": {params: []argKind{argAny, argAny}, call: func(v []any) (any, error) { return le(v[0], v[1]) }},
	"gt": {params: []argKind{argAny, argAny}, call: func(v []any) (any, error) {
		lessOrEqual, err := le(v[0], v[1])
		return err == nil && !lessOrEqual, err
	}},
	"ge": {params: []argKind{argAny, argAny}, call: func(v []any) (any, error) {
		lessThan, err := lt(v[0], v[1])
		return err == nil && !lessThan, err
	}},
}

// length is the len builtin.
func length(item any) (int, error) {
	switch v := item.(type) {
	case string:
		return len(v), nil
	case map[string]string:
		return len(v), nil
	case map[string]Image:
		return len(v), nil
	case nil:
		// text/template's error for len of no value (a recovered reflect panic).
		return 0, errors.New("reflect: call of reflect.Value.Type on zero Value")
	}
	return 0, fmt.Errorf("len of type %T", item)
}

// index is the index builtin: map entries (a missing key gives the zero
// value) and bytes of strings.
func index(item any, indexes ...any) (any, error) {
	if item == nil {
		return nil, errors.New("index of untyped nil")
	}
	for _, idx := range indexes {
		switch it := item.(type) {
		case string:
			x, err := indexArg(idx, len(it))
			if err != nil {
				return nil, err
			}
			if x == len(it) {
				// text/template's error (a recovered reflect panic).
				return nil, errors.New("reflect: string index out of range")
			}
			item = it[x]
		case map[string]string:
			k, err := mapKey(idx)
			if err != nil {
				return nil, err
			}
			item = it[k]
		case map[string]Image:
			k, err := mapKey(idx)
			if err != nil {
				return nil, err
			}
			item = it[k]
		default:
			return nil, fmt.Errorf("can't index item of type %T", item)
		}
	}
	return item, nil
}

// mapKey is text/template's prepareArg for our maps' string keys.
func mapKey(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case nil:
		return "", errors.New("value is nil; should be of type string")
	}
	return "", fmt.Errorf("value has type %T; should be string", v)
}

func indexArg(index any, cap int) (int, error) {
	var x int64
	switch v := index.(type) {
	case int:
		x = int64(v)
	case uint8:
		x = int64(v)
	case nil:
		return 0, errors.New("cannot index slice/array with nil")
	default:
		return 0, fmt.Errorf("cannot index slice/array with type %T", index)
	}
	if x < 0 || int(x) < 0 || int(x) > cap {
		return 0, fmt.Errorf("index out of range: %d", x)
	}
	return int(x), nil
}

// slice is the slice builtin; of our values only strings can be sliced.
func slice(item any, indexes ...any) (any, error) {
	if item == nil {
		return nil, errors.New("slice of untyped nil")
	}
	if len(indexes) > 3 {
		return nil, fmt.Errorf("too many slice indexes: %d", len(indexes))
	}
	str, ok := item.(string)
	if !ok {
		return nil, fmt.Errorf("can't slice item of type %T", item)
	}
	if len(indexes) == 3 {
		return nil, errors.New("cannot 3-index slice a string")
	}
	idx := [2]int{0, len(str)}
	for i, index := range indexes {
		x, err := indexArg(index, len(str))
		if err != nil {
			return nil, err
		}
		idx[i] = x
	}
	if idx[0] > idx[1] {
		return nil, fmt.Errorf("invalid slice index: %d > %d", idx[0], idx[1])
	}
	return str[idx[0]:idx[1]], nil
}

// Comparison, as in text/template's funcs.go.

var (
	errBadComparisonType = errors.New("invalid type for comparison")
	errNoComparison      = errors.New("missing argument for comparison")
)

type kind int

const (
	invalidKind kind = iota
	boolKind
	complexKind
	intKind
	floatKind
	stringKind
	uintKind
)

// basicKind classifies our values; each basic kind has exactly one Go type
// here (int, uint8, float64, complex128, string, bool).
func basicKind(v any) (kind, error) {
	switch v.(type) {
	case bool:
		return boolKind, nil
	case int:
		return intKind, nil
	case uint8:
		return uintKind, nil
	case float64:
		return floatKind, nil
	case complex128:
		return complexKind, nil
	case string:
		return stringKind, nil
	}
	return invalidKind, errBadComparisonType
}

// isNil reports whether v is no value or a nil map.
func isNil(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]string:
		return v == nil
	case map[string]Image:
		return v == nil
	}
	return false
}

// reflectKind is the reflect.Kind class of a non-basic value: 0 for no
// value, 1 for maps, 2 for structs.
func reflectKind(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case map[string]string, map[string]Image:
		return 1
	}
	return 2
}

func canCompare(v1, v2 any) bool {
	k1, k2 := reflectKind(v1), reflectKind(v2)
	return k1 == k2 || k1 == 0 || k2 == 0
}

// comparable reports whether == works on values of v's type.
func comparable(v any) bool {
	switch v.(type) {
	case Image, time.Time:
		return true
	}
	return false // view and maps
}

func eq(arg1 any, arg2 ...any) (bool, error) {
	if len(arg2) == 0 {
		return false, errNoComparison
	}
	k1, _ := basicKind(arg1)
	for _, arg := range arg2 {
		k2, _ := basicKind(arg)
		truth := false
		if k1 != k2 {
			// Integers compare regardless of sign.
			switch {
			case k1 == intKind && k2 == uintKind:
				truth = arg1.(int) >= 0 && uint64(arg1.(int)) == uint64(arg.(uint8))
			case k1 == uintKind && k2 == intKind:
				truth = arg.(int) >= 0 && uint64(arg1.(uint8)) == uint64(arg.(int))
			default:
				if arg1 != nil && arg != nil {
					return false, fmt.Errorf("incompatible types for comparison: %T and %T", arg1, arg)
				}
			}
		} else {
			switch k1 {
			case boolKind:
				truth = arg1.(bool) == arg.(bool)
			case complexKind:
				truth = arg1.(complex128) == arg.(complex128)
			case floatKind:
				truth = arg1.(float64) == arg.(float64)
			case intKind:
				truth = arg1.(int) == arg.(int)
			case stringKind:
				truth = arg1.(string) == arg.(string)
			case uintKind:
				truth = arg1.(uint8) == arg.(uint8)
			default:
				if !canCompare(arg1, arg) {
					return false, fmt.Errorf("non-comparable types %s: %v, %s: %v", arg1, typeName(arg1), typeName(arg), arg)
				}
				if isNil(arg1) || isNil(arg) {
					truth = isNil(arg) == isNil(arg1)
				} else {
					if !comparable(arg) {
						return false, fmt.Errorf("non-comparable type %s: %v", arg, typeName(arg))
					}
					truth = arg1 == arg // same dynamic type implies comparable
				}
			}
		}
		if truth {
			return true, nil
		}
	}
	return false, nil
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

func lt(arg1, arg2 any) (bool, error) {
	k1, err := basicKind(arg1)
	if err != nil {
		return false, err
	}
	k2, err := basicKind(arg2)
	if err != nil {
		return false, err
	}
	if k1 != k2 {
		switch {
		case k1 == intKind && k2 == uintKind:
			return arg1.(int) < 0 || uint64(arg1.(int)) < uint64(arg2.(uint8)), nil
		case k1 == uintKind && k2 == intKind:
			return arg2.(int) >= 0 && uint64(arg1.(uint8)) < uint64(arg2.(int)), nil
		}
		return false, fmt.Errorf("incompatible types for comparison: %T and %T", arg1, arg2)
	}
	switch k1 {
	case floatKind:
		return arg1.(float64) < arg2.(float64), nil
	case intKind:
		return arg1.(int) < arg2.(int), nil
	case stringKind:
		return arg1.(string) < arg2.(string), nil
	case uintKind:
		return arg1.(uint8) < arg2.(uint8), nil
	}
	return false, errBadComparisonType // bool, complex
}

func le(arg1, arg2 any) (bool, error) {
	lessThan, err := lt(arg1, arg2)
	if lessThan || err != nil {
		return lessThan, err
	}
	return eq(arg1, arg2)
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
