package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// files is where a manifest's includes are read from: the file system
// (Load), a bundle (Parse of a bundle) or nothing (Parse of one file).
// Names are slash-separated and relative to the root manifest's directory.
type files interface {
	rootName() string
	display(name string) string // the name errors give
	read(name string) ([]byte, error)
	// resolve returns the files an include entry names: the file itself, or
	// every *.yaml and *.yml directly in the directory, sorted by name.
	resolve(name string) ([]string, error)
}

func isManifestFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// diskFiles reads includes relative to the root manifest's directory.
type diskFiles struct{ dir, root, rootDisplay string }

func (d diskFiles) rootName() string { return d.root }
func (d diskFiles) display(name string) string {
	if name == d.root {
		return d.rootDisplay
	}
	return filepath.Join(d.dir, filepath.FromSlash(name))
}
func (d diskFiles) read(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(name)))
}
func (d diskFiles) resolve(name string) ([]string, error) {
	full := filepath.Join(d.dir, filepath.FromSlash(name))
	st, err := os.Stat(full)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{name}, nil
	}
	entries, err := os.ReadDir(full)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && isManifestFile(e.Name()) {
			out = append(out, path.Join(name, e.Name()))
		}
	}
	return out, nil
}

// noFiles is a single manifest file with nothing beside it.
type noFiles struct{ file string }

func (n noFiles) rootName() string            { return path.Base(filepath.ToSlash(n.file)) }
func (n noFiles) display(string) string       { return n.file }
func (n noFiles) read(string) ([]byte, error) { return nil, errNoIncludes }
func (n noFiles) resolve(string) ([]string, error) {
	return nil, errNoIncludes
}

var errNoIncludes = errors.New("a single manifest file cannot include others here: load it from disk (deckhand validate, the CDK app) or from the bundle the CDK app uploads")

// part is one file of a manifest.
type part struct {
	name, display string
	root          *yaml.Node
	data          []byte
	m             Manifest
}

// loader reads a manifest and, depth first, the files it includes.
type loader struct {
	files files
	parts []*part
	seen  map[string]bool
	stack []string // names being loaded, for cycles
	probs []Problem
}

func (l *loader) load(name string, data []byte) {
	p, probs := decodePart(l.files.display(name), data)
	if len(probs) > 0 {
		l.probs = append(l.probs, probs...)
		return
	}
	p.name = name
	l.seen[name] = true
	l.parts = append(l.parts, p)
	l.stack = append(l.stack, name)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()
	for i, inc := range p.m.Include {
		at := func(msg string) {
			l.probs = append(l.probs, Problem{File: p.display, Line: lineOf(p.root, "include", i), Field: fmt.Sprintf("include[%d]", i), Msg: msg})
		}
		target, ok := includePath(name, inc)
		if !ok {
			at(fmt.Sprintf("%q: want a relative path inside the manifest's directory (no .., not absolute)", inc))
			continue
		}
		names, err := l.files.resolve(target)
		switch {
		case errors.Is(err, errNoIncludes):
			at(err.Error())
			continue
		case errors.Is(err, fs.ErrNotExist):
			at(fmt.Sprintf("include %q: no such file or directory (%s)", inc, l.files.display(target)))
			continue
		case err != nil:
			at(fmt.Sprintf("include %q: %v", inc, err))
			continue
		case len(names) == 0:
			at(fmt.Sprintf("include %q: the directory has no *.yaml or *.yml files", inc))
			continue
		}
		for _, n := range names {
			if k := slices.Index(l.stack, n); k >= 0 {
				cycle := append(slices.Clone(l.stack[k:]), n)
				for j := range cycle {
					cycle[j] = l.files.display(cycle[j])
				}
				at("include cycle: " + strings.Join(cycle, " → "))
				continue
			}
			if l.seen[n] {
				at(fmt.Sprintf("%s is included twice; include each file once", l.files.display(n)))
				continue
			}
			data, err := l.files.read(n)
			if err != nil {
				at(fmt.Sprintf("read %s: %v", l.files.display(n), err))
				continue
			}
			l.load(n, data)
		}
	}
}

// includePath resolves an include entry against the including file's
// directory and refuses paths that leave the root manifest's directory.
func includePath(from, inc string) (string, bool) {
	if inc == "" || path.IsAbs(inc) || filepath.IsAbs(inc) || strings.Contains(inc, `\`) {
		return "", false
	}
	p := path.Join(path.Dir(from), inc)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

// origin is where a merged list item came from: its file and its index
// there.
type origin struct {
	part  *part
	index int
}

// origins locate the merged manifest's items in their files.
type origins struct {
	root                     *part
	services, jobs, roles    []origin
	targets                  map[string]origin
	sourceAccts, sourceRegns []origin
}

// merge joins the files of a manifest: the root's fields, then every
// included file's lists and targets, in load order.
func merge(parts []*part) (*Manifest, *origins, []Problem) {
	root := parts[0]
	m := &Manifest{Version: root.m.Version, Include: root.m.Include, Retention: root.m.Retention}
	o := &origins{root: root, targets: map[string]origin{}}
	var probs []Problem
	for _, p := range parts {
		if p != root && p.m.Version != 0 && p.m.Version != 1 {
			probs = append(probs, Problem{File: p.display, Line: lineOf(p.root, "version"), Field: "version", Msg: fmt.Sprintf("unsupported version %d; want 1 (or none in an included file)", p.m.Version)})
		}
		if p != root && p.m.Retention != nil {
			probs = append(probs, Problem{File: p.display, Line: lineOf(p.root, "retention"), Field: "retention",
				Msg: "a top-level retention: belongs in the root manifest; set retention: on this file's bindings instead"})
		}
		for i, r := range p.m.Roles {
			m.Roles = append(m.Roles, r)
			o.roles = append(o.roles, origin{p, i})
		}
		if s := p.m.Sources; s != nil {
			if m.Sources == nil {
				m.Sources = &Sources{}
			}
			for i, a := range s.Accounts {
				m.Sources.Accounts = append(m.Sources.Accounts, a)
				o.sourceAccts = append(o.sourceAccts, origin{p, i})
			}
			for i, r := range s.Regions {
				m.Sources.Regions = append(m.Sources.Regions, r)
				o.sourceRegns = append(o.sourceRegns, origin{p, i})
			}
		}
		for _, name := range sortedKeys(p.m.Targets) {
			if prev, dup := o.targets[name]; dup {
				probs = append(probs, Problem{File: p.display, Line: lineOf(p.root, "targets", name), Field: "targets." + name,
					Msg: fmt.Sprintf("duplicate target %q (first defined at %s:%d)", name, prev.part.display, lineOf(prev.part.root, "targets", name))})
				continue
			}
			if m.Targets == nil {
				m.Targets = map[string]Target{}
			}
			m.Targets[name] = p.m.Targets[name]
			o.targets[name] = origin{part: p}
		}
		for i := range p.m.Services {
			m.Services = append(m.Services, p.m.Services[i])
			o.services = append(o.services, origin{p, i})
		}
		for i := range p.m.Jobs {
			m.Jobs = append(m.Jobs, p.m.Jobs[i])
			o.jobs = append(o.jobs, origin{p, i})
		}
	}
	return m, o, probs
}

// locate maps a path in the merged manifest to its file, YAML tree and the
// path within that file.
func (o *origins) locate(path []any) (string, *yaml.Node, []any) {
	if len(path) >= 2 {
		var list []origin
		switch path[0] {
		case "services":
			list = o.services
		case "jobs":
			list = o.jobs
		case "roles":
			list = o.roles
		case "targets":
			if name, ok := path[1].(string); ok {
				if t, ok := o.targets[name]; ok {
					return t.part.display, t.part.root, path
				}
			}
		case "sources":
			if len(path) >= 3 {
				if i, ok := path[2].(int); ok {
					l := o.sourceAccts
					if path[1] == "regions" {
						l = o.sourceRegns
					}
					if i < len(l) {
						local := slices.Clone(path)
						local[2] = l[i].index
						return l[i].part.display, l[i].part.root, local
					}
				}
			}
		}
		if i, ok := path[1].(int); ok && i < len(list) {
			local := slices.Clone(path)
			local[1] = list[i].index
			return list[i].part.display, list[i].part.root, local
		}
	}
	return o.root.display, o.root.root, path
}
