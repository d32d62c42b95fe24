package manifest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// A bundle is a manifest and every file it includes, in one object: what
// the CDK app uploads to S3 as deckhand.yaml when the manifest includes
// other files, so the functions read one object with one conditional GET
// and never see a new root beside old team files. Each file is kept
// verbatim, so errors still name the file and line a person edits:
//
//	# deckhand manifest bundle v1
//	#@file <bytes> <name>
//	<exactly bytes bytes of the file>
//	#@file <bytes> <name>
//	...
//
// Names are relative to the root manifest's directory; the first file is
// the root.
const bundleHeader = "# deckhand manifest bundle v1\n"

const bundleFile = "#@file "

func isBundle(data []byte) bool { return bytes.HasPrefix(data, []byte(bundleHeader)) }

// Bundle loads and validates the manifest at path and returns what the
// functions should read: the file itself when it includes nothing, else a
// bundle of it and every file it includes. Parse reads either.
func Bundle(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	files := diskFiles{dir: filepath.Dir(path), root: filepath.Base(path), rootDisplay: path}
	l := &loader{files: files, seen: map[string]bool{}}
	l.load(files.root, data)
	if len(l.probs) > 0 {
		return nil, &Error{Problems: l.probs}
	}
	if _, err := parse(files, data); err != nil {
		return nil, err
	}
	if len(l.parts) == 1 {
		return data, nil
	}
	var b bytes.Buffer
	b.WriteString(bundleHeader)
	for _, p := range l.parts {
		fmt.Fprintf(&b, "%s%d %s\n", bundleFile, len(p.data), p.name)
		b.Write(p.data)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// bundleFiles are the files of a bundle, by name.
type bundleFiles struct {
	file  string // the bundle's own name, which the root is shown as
	root  string
	byKey map[string][]byte
}

func (b bundleFiles) rootName() string { return b.root }
func (b bundleFiles) display(name string) string {
	if name == b.root {
		return b.file
	}
	return name
}
func (b bundleFiles) read(name string) ([]byte, error) {
	data, ok := b.byKey[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return data, nil
}
func (b bundleFiles) resolve(name string) ([]string, error) {
	if _, ok := b.byKey[name]; ok {
		return []string{name}, nil
	}
	var out []string
	for _, k := range sortedKeys(b.byKey) {
		if path.Dir(k) == name && isManifestFile(k) {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fs.ErrNotExist
	}
	return out, nil
}

// parseBundle splits a bundle into its files. It returns the root's data.
func parseBundle(file string, data []byte) (bundleFiles, []byte, *Problem) {
	b := bundleFiles{file: file, byKey: map[string][]byte{}}
	rest := data[len(bundleHeader):]
	line := 2
	bad := func(msg string) (bundleFiles, []byte, *Problem) {
		return b, nil, &Problem{File: file, Line: line, Msg: "malformed manifest bundle: " + msg}
	}
	for len(rest) > 0 {
		head, body, ok := bytes.Cut(rest, []byte("\n"))
		if !ok || !bytes.HasPrefix(head, []byte(bundleFile)) {
			return bad("want a " + strings.TrimSpace(bundleFile) + " <bytes> <name> line")
		}
		size, name, ok := strings.Cut(string(head[len(bundleFile):]), " ")
		n, err := strconv.Atoi(size)
		if !ok || err != nil || n < 0 || n+1 > len(body) || body[n] != '\n' || name == "" {
			return bad(fmt.Sprintf("the entry %q does not match its length", head))
		}
		if _, dup := b.byKey[name]; dup {
			return bad(fmt.Sprintf("%s appears twice", name))
		}
		if b.root == "" {
			b.root = name
		}
		b.byKey[name] = body[:n]
		line += 1 + bytes.Count(body[:n+1], []byte("\n"))
		rest = body[n+1:]
	}
	if b.root == "" {
		return bad("no files")
	}
	return b, b.byKey[b.root], nil
}
