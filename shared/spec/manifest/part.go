package manifest

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Parts of the manifest, one per FIFO message group (DESIGN §12, fleet
// scale). Every push reaches the deployer in its repository's message
// group, and every binding that push can reach is in that group by
// construction (MessageGroups). So the deployer needs only its group's
// part of the manifest: its service bindings, the targets they run in,
// the roles and the sources. The CDK app uploads each part beside the
// whole manifest (PartKey), and a deployer invoked for one group reads and
// parses that part instead of the whole fleet's; the reconciler, the
// runner, the tracker, the CLI and the console read the whole.

// Parts returns, by message group id, the manifest part of each group: a
// manifest in the shape of deckhand.yaml, validated on its own. A group
// whose part does not validate on its own (a binding naming another
// group's) has no part; the deployer reads the whole manifest for it.
func (m *Manifest) Parts() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, g := range m.MessageGroups() {
		data, err := m.part(g)
		if err != nil {
			return nil, fmt.Errorf("manifest part of message group %s: %w", g.ID, err)
		}
		if _, err := Parse(PartKey("", g.ID), data); err != nil {
			continue
		}
		out[g.ID] = data
	}
	return out, nil
}

// part is the manifest of one message group's bindings, in the whole
// manifest's order (as BindingsFor answers).
func (m *Manifest) part(g MessageGroup) ([]byte, error) {
	p := Manifest{Version: m.Version, Roles: m.Roles, Sources: m.Sources}
	in := map[string]bool{}
	for _, name := range g.Bindings {
		in[name] = true
	}
	for _, s := range m.Services {
		if !in[s.Name] {
			continue
		}
		p.Services = append(p.Services, s)
		if t, ok := m.Targets[s.Target]; ok {
			if p.Targets == nil {
				p.Targets = map[string]Target{}
			}
			p.Targets[s.Target] = t
		}
	}
	body, err := yaml.Marshal(&p)
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("# The bindings of message group %s of the manifest (%d of %d services), written by the CDK app\n"+
		"# for the deployer: edit deckhand.yaml, not this file.\n", g.ID, len(p.Services), len(m.Services))
	return append([]byte(head), body...), nil
}

// PartKey is the S3 key of a message group's part under prefix.
func PartKey(prefix, group string) string { return prefix + group + ".yaml" }
