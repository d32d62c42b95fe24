package manifest

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// Group is a connected component of the repository↔service graph. Every push
// to one of its repositories goes through one SQS FIFO message group, so no
// two deployer invocations ever race on one service (DESIGN §1).
type Group struct {
	// ID is the FIFO MessageGroupId: the group's alphabetically first
	// repository, which is unique because groups are disjoint.
	ID           string
	Repositories []string // sorted
	Bindings     []string // service binding names, sorted
}

// Groups returns the repository groups of the manifest's services, sorted by
// ID. Jobs do not deploy on push and take no part.
func (m *Manifest) Groups() []Group {
	gs := m.lookups().groups
	out := make([]Group, len(gs))
	for i, g := range gs {
		out[i] = Group{ID: g.ID, Repositories: slices.Clone(g.Repositories), Bindings: slices.Clone(g.Bindings)}
	}
	return out
}

func groups(m *Manifest) []Group {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if parent[x] == x {
			return x
		}
		parent[x] = find(parent[x])
		return parent[x]
	}
	union := func(a, b string) {
		for _, x := range []string{a, b} {
			if _, ok := parent[x]; !ok {
				parent[x] = x
			}
		}
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[ra] = rb
		}
	}
	for _, s := range m.Services {
		node := "svc:" + s.Name
		union(node, node)
		for _, img := range s.Images {
			// A promoted image joins its source's group: a promotion and
			// the pushes to its source deploy in one message group.
			if r := img.Origin(); r != "" {
				union(node, "repo:"+r)
			}
		}
	}
	byRoot := map[string]*Group{}
	for x := range parent {
		r := find(x)
		g := byRoot[r]
		if g == nil {
			g = &Group{}
			byRoot[r] = g
		}
		if name, ok := strings.CutPrefix(x, "repo:"); ok {
			g.Repositories = append(g.Repositories, name)
		} else if name, ok := strings.CutPrefix(x, "svc:"); ok {
			g.Bindings = append(g.Bindings, name)
		}
	}
	var out []Group
	for _, g := range byRoot {
		if len(g.Repositories) == 0 {
			continue
		}
		sort.Strings(g.Repositories)
		sort.Strings(g.Bindings)
		g.ID = g.Repositories[0]
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// GroupOf returns the FIFO message group of a repository (see
// MessageGroups), if any service follows it.
func (m *Manifest) GroupOf(repository string) (string, bool) {
	id, ok := m.lookups().messageGroup[repository]
	return id, ok
}

// GroupOfBinding returns the FIFO message group of a binding: the group of
// the repositories its images come from (a promoted binding's, its
// source's).
func (m *Manifest) GroupOfBinding(name string) (string, bool) {
	s, ok := m.Service(name)
	if !ok {
		return "", false
	}
	for _, c := range sortedKeys(s.Images) {
		if r := s.Images[c].Origin(); r != "" {
			return m.GroupOf(r)
		}
	}
	return "", false
}

// Service returns the service binding with the given name.
func (m *Manifest) Service(name string) (*Service, bool) {
	s, ok := m.lookups().services[name]
	return s, ok
}

// Job returns the job with the given name.
func (m *Manifest) Job(name string) (*Job, bool) {
	j, ok := m.lookups().jobs[name]
	return j, ok
}

// BindingsFor returns the service bindings with a container that follows
// repository, in manifest order. It is a map read on a parsed manifest; the
// caller must not change the slice.
func (m *Manifest) BindingsFor(repository string) []*Service {
	return m.lookups().bindings[repository]
}

// Clusters returns the distinct clusters named by services and jobs, sorted.
func (m *Manifest) Clusters() []string {
	set := map[string]bool{}
	for _, s := range m.Services {
		set[s.Cluster] = true
	}
	for _, j := range m.Jobs {
		set[j.Cluster] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// Repositories returns every repository named by services and jobs, sorted.
func (m *Manifest) Repositories() []string {
	set := map[string]bool{}
	for _, s := range m.Services {
		for _, img := range s.Images {
			if img.Repository != "" {
				set[img.Repository] = true
			}
		}
	}
	for _, j := range m.Jobs {
		for _, img := range j.Images {
			if img.Repository != "" {
				set[img.Repository] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}
