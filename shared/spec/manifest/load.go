package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a manifest, located by file, line and the
// field's path (for example `services[1].images.web.tags`).
type Problem struct {
	File  string
	Line  int
	Field string
	Msg   string
	// Pending marks a value left for a person to fill in (a job's
	// schedule after `deckhand init`): the manifest is not valid until
	// it is, but nothing else about the entry is wrong.
	Pending bool
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.Field != "" {
		b.WriteString(": " + p.Field)
	}
	b.WriteString(": " + p.Msg)
	return b.String()
}

// Error lists every problem found in a manifest. Callers that only need a
// yes/no use it as an error; `deckhand validate` prints each problem.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "invalid manifest:\n  " + strings.Join(lines, "\n  ")
}

// OnlyPending reports whether every problem is a value left for a person
// to fill in (Problem.Pending). Parse and Load return the manifest with
// the error: offline commands (render) may then use it, everything that
// deploys must not.
func (e *Error) OnlyPending() bool {
	for _, p := range e.Problems {
		if !p.Pending {
			return false
		}
	}
	return len(e.Problems) > 0
}

// ErrInvalid is matched by errors.Is for every *Error.
var ErrInvalid = errors.New("invalid manifest")

// Is makes errors.Is(err, ErrInvalid) true for manifest errors.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Load reads and validates the manifest at path and the files it includes
// (relative to the including file's directory).
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return parse(diskFiles{dir: filepath.Dir(path), root: filepath.Base(path), rootDisplay: path}, data)
}

// Parse decodes and validates a manifest. file names it in errors. data is
// one manifest file, or a bundle (see Bundle) of a manifest and the files
// it includes; a single file cannot include others, since Parse reads
// nothing else.
func Parse(file string, data []byte) (*Manifest, error) {
	if isBundle(data) {
		b, root, err := parseBundle(file, data)
		if err != nil {
			return nil, &Error{Problems: []Problem{*err}}
		}
		return parse(b, root)
	}
	return parse(noFiles{file: file}, data)
}

// decodePart decodes one file of a manifest strictly.
func decodePart(file string, data []byte) (*part, []Problem) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, []Problem{yamlProblem(file, nil, err)}
	}
	if len(root.Content) == 0 {
		return nil, []Problem{{File: file, Line: 1, Msg: "empty manifest; want at least `version: 1`"}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	p := &part{display: file, root: &root, data: data}
	if err := dec.Decode(&p.m); err != nil && !errors.Is(err, io.EOF) {
		return nil, decodeProblems(file, &root, err)
	}
	return p, nil
}

// parse loads the root file and its includes from files, merges them and
// validates the result as one manifest.
func parse(files files, data []byte) (*Manifest, error) {
	l := &loader{files: files, seen: map[string]bool{}}
	l.load(files.rootName(), data)
	if len(l.probs) > 0 {
		return nil, &Error{Problems: l.probs}
	}
	m, o, probs := merge(l.parts)
	m.File = files.display(files.rootName())
	probs = append(probs, validate(m, o)...)
	if len(probs) > 0 {
		return m, &Error{Problems: probs}
	}
	m.idx = buildIndex(m)
	return m, nil
}

var lineRe = regexp.MustCompile(`^line (\d+): (.*)$`)
var unknownRe = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)

// decodeProblems turns yaml.v3 decode errors into located problems, naming
// the YAML path of unknown fields instead of Go type names.
func decodeProblems(file string, root *yaml.Node, err error) []Problem {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []Problem{yamlProblem(file, root, err)}
	}
	keys := keyIndex(root)
	var probs []Problem
	for _, msg := range te.Errors {
		p := Problem{File: file, Msg: msg}
		if m := lineRe.FindStringSubmatch(msg); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Msg = m[2]
			if u := unknownRe.FindStringSubmatch(m[2]); u != nil {
				p.Field = keys[keyAt{p.Line, u[1]}]
				p.Msg = fmt.Sprintf("unknown field %q", u[1])
			}
		}
		probs = append(probs, p)
	}
	return probs
}

func yamlProblem(file string, _ *yaml.Node, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := Problem{File: file, Msg: msg}
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = m[2]
	}
	return p
}

type keyAt struct {
	line int
	key  string
}

// keyIndex maps every mapping key (by line and name) to its field path.
func keyIndex(root *yaml.Node) map[keyAt]string {
	idx := map[keyAt]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := joinPath(path, k.Value)
				idx[keyAt{k.Line, k.Value}] = p
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(root, "")
	return idx
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// lineOf returns the line of the node at path (keys are strings, sequence
// indexes are ints), or of its deepest existing ancestor.
func lineOf(root *yaml.Node, path ...any) int {
	n := root
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, seg := range path {
		switch s := seg.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					line = n.Content[i].Line
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yaml.SequenceNode || s >= len(n.Content) {
				return line
			}
			n = n.Content[s]
			line = n.Line
		}
	}
	return line
}
