package cli

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// manifestText edits deckhand.yaml as text, keeping every line it does not
// add or remove (comments, order, quoting, flow or block style): a person
// reads the diff `deckhand init` made. It reads the structure with yaml.v3
// for line numbers.
type manifestText struct {
	file  string
	lines []string // without their newlines
	top   *yaml.Node
}

func parseManifestText(file string, src []byte) (*manifestText, error) {
	if len(bytes.TrimSpace(src)) == 0 {
		src = []byte("version: 1\n")
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("read %s: want a YAML mapping (version: 1, services: …)", file)
	}
	text := strings.TrimSuffix(string(src), "\n")
	return &manifestText{file: file, lines: strings.Split(text, "\n"), top: doc.Content[0]}, nil
}

func (t *manifestText) bytes() []byte { return []byte(strings.Join(t.lines, "\n") + "\n") }

// section returns the key and value of a top-level key, and the index of
// the line after the section's last line of content (blank lines and
// comments before the next key belong to that key).
func (t *manifestText) section(name string) (key, val *yaml.Node, end int) {
	end = len(t.lines)
	for i := 0; i+1 < len(t.top.Content); i += 2 {
		if t.top.Content[i].Value != name {
			continue
		}
		key, val = t.top.Content[i], t.top.Content[i+1]
		if i+2 < len(t.top.Content) {
			end = t.top.Content[i+2].Line - 1
		}
		break
	}
	for end > 0 && key != nil && end > key.Line && isBlankOrComment(t.lines[end-1]) {
		end--
	}
	return key, val, end
}

func isBlankOrComment(line string) bool {
	s := strings.TrimSpace(line)
	return s == "" || strings.HasPrefix(s, "#")
}

// appendItem adds item (YAML text of one list item's content) at the end
// of the top-level list name, creating the list if there is none.
func (t *manifestText) appendItem(name string, item []byte) error {
	key, val, end := t.section(name)
	indent := "  "
	switch {
	case key == nil:
		t.lines = append(t.lines, name+":")
		end = len(t.lines)
	case val.Kind == yaml.SequenceNode && val.Style&yaml.FlowStyle == 0 && len(val.Content) > 0:
		line := t.lines[val.Content[0].Line-1]
		indent = line[:len(line)-len(strings.TrimLeft(line, " "))]
	case val.Tag == "!!null" || val.Kind == yaml.SequenceNode && len(val.Content) == 0 && val.Line == key.Line:
		t.lines[key.Line-1] = strings.Repeat(" ", key.Column-1) + name + ":"
		end = key.Line
	default:
		return fmt.Errorf("%s:%d: %s: is not a block list; write it as one (- item per line) to let deckhand init add to it", t.file, key.Line, name)
	}
	t.insert(end, listItem(item, indent))
	return nil
}

// removeItem removes the item named name from the top-level list section
// and reports whether there was one.
func (t *manifestText) removeItem(section, name string) bool {
	_, val, end := t.section(section)
	if val == nil || val.Kind != yaml.SequenceNode || val.Style&yaml.FlowStyle != 0 {
		return false
	}
	for i, item := range val.Content {
		if itemName(item) != name {
			continue
		}
		from, to := item.Line-1, end
		if i+1 < len(val.Content) {
			to = val.Content[i+1].Line - 1
			for to > from+1 && isBlankOrComment(t.lines[to-1]) {
				to--
			}
		}
		t.lines = append(t.lines[:from], t.lines[to:]...)
		return true
	}
	return false
}

func itemName(item *yaml.Node) string {
	if item.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(item.Content); i += 2 {
		if item.Content[i].Value == "name" {
			return item.Content[i+1].Value
		}
	}
	return ""
}

// appendScalars adds scalar items (roles) to a top-level list.
func (t *manifestText) appendScalars(name string, values []string) error {
	for _, v := range values {
		quoted, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", v, err)
		}
		if err := t.appendItem(name, quoted); err != nil {
			return err
		}
		if err := t.reparse(); err != nil {
			return err
		}
	}
	return nil
}

// reparse reads the edited text's structure again.
func (t *manifestText) reparse() error {
	n, err := parseManifestText(t.file, t.bytes())
	if err != nil {
		return fmt.Errorf("deckhand init made %s unreadable (a bug; nothing was written): %w", t.file, err)
	}
	t.top = n.top
	return nil
}

func (t *manifestText) insert(at int, lines []string) {
	t.lines = append(t.lines[:at], append(lines, t.lines[at:]...)...)
}

// listItem indents YAML text as one item of a block list.
func listItem(item []byte, indent string) []string {
	var out []string
	for i, l := range strings.Split(strings.TrimRight(string(item), "\n"), "\n") {
		switch {
		case i == 0:
			out = append(out, indent+"- "+l)
		case l == "":
			out = append(out, "")
		default:
			out = append(out, indent+"  "+l)
		}
	}
	return out
}

// entryYAML encodes a manifest entry with two-space indentation, the
// image sources, launch and network written on one line each, as
// examples/deckhand.yaml writes them.
func entryYAML(v any) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, fmt.Errorf("encode manifest entry: %w", err)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k, val := n.Content[i].Value, n.Content[i+1]; k {
		case "images":
			for j := 1; j < len(val.Content); j += 2 {
				val.Content[j].Style = yaml.FlowStyle
			}
		case "launch", "network", "allow":
			val.Style = yaml.FlowStyle
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("encode manifest entry: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode manifest entry: %w", err)
	}
	return buf.Bytes(), nil
}
