package manifest

import (
	"fmt"
	"hash/fnv"
	"slices"
)

// index holds the manifest's look-ups, built once per parse (Parse, Load,
// Validate) so that deciding one push costs map reads, not a walk over
// every binding: a 5,000-service manifest decides as fast as a small one
// (BenchmarkBindingsFor).
type index struct {
	bindings     map[string][]*Service // repository → bindings following it, in manifest order
	services     map[string]*Service
	jobs         map[string]*Job
	groups       []Group
	messageGroup map[string]string // repository → FIFO message group
}

func buildIndex(m *Manifest) *index {
	x := &index{
		bindings:     map[string][]*Service{},
		services:     make(map[string]*Service, len(m.Services)),
		jobs:         make(map[string]*Job, len(m.Jobs)),
		messageGroup: map[string]string{},
	}
	for i := range m.Services {
		s := &m.Services[i]
		x.services[s.Name] = s
		seen := map[string]bool{}
		for _, c := range sortedKeys(s.Images) {
			if r := s.Images[c].Repository; r != "" && !seen[r] {
				seen[r] = true
				x.bindings[r] = append(x.bindings[r], s)
			}
		}
	}
	for r, b := range x.bindings {
		x.bindings[r] = slices.Clip(b) // a caller's append must not write into the index
	}
	for i := range m.Jobs {
		x.jobs[m.Jobs[i].Name] = &m.Jobs[i]
	}
	x.groups = groups(m)
	for _, mg := range packGroups(x.groups) {
		for _, r := range mg.Repositories {
			x.messageGroup[r] = mg.ID
		}
	}
	return x
}

// lookups returns the index, or builds a throwaway one for a manifest that
// was never validated.
func (m *Manifest) lookups() *index {
	if m.idx != nil {
		return m.idx
	}
	return buildIndex(m)
}

// MaxMessageGroups bounds the FIFO message groups, and with them the push
// rules, the CDK app creates. Up to this many repository groups, each group
// is its own message group (ID: the group's ID). Beyond it, groups are
// packed by a hash of their ID into MaxMessageGroups message groups
// ("deckhand-NN"): a group is never split, so no two deployer invocations
// race on one service, while unrelated groups that share a message group
// deploy one after the other. docs/quotas.md explains the number: rules
// per event bus (300 by default, 100 in some Regions) are shared with the
// rest of the account.
const MaxMessageGroups = 64

// maxMessageGroupID is the longest MessageGroupId an EventBridge SQS target
// takes (SqsParameters).
const maxMessageGroupID = 100

// MessageGroup is a FIFO message group: one or more repository groups.
type MessageGroup struct {
	ID           string
	Repositories []string // sorted
	Bindings     []string // sorted
}

// MessageGroups returns the FIFO message groups of the manifest's pushes,
// sorted by ID. The CDK app makes push rules from them and the reconciler
// enqueues into them (GroupOf), so both agree.
func (m *Manifest) MessageGroups() []MessageGroup { return packGroups(m.lookups().groups) }

func packGroups(gs []Group) []MessageGroup {
	if len(gs) <= MaxMessageGroups {
		out := make([]MessageGroup, len(gs))
		for i, g := range gs {
			id := g.ID
			if len(id) > maxMessageGroupID {
				// EventBridge takes a MessageGroupId of at most 100
				// characters; ECR allows longer repository names.
				h := fnv.New64a()
				h.Write([]byte(id))
				id = fmt.Sprintf("%s-%016x", id[:maxMessageGroupID-17], h.Sum64())
			}
			out[i] = MessageGroup{ID: id, Repositories: slices.Clone(g.Repositories), Bindings: slices.Clone(g.Bindings)}
		}
		return out
	}
	bins := map[string]*MessageGroup{}
	for _, g := range gs {
		h := fnv.New32a()
		h.Write([]byte(g.ID))
		id := fmt.Sprintf("deckhand-%02d", h.Sum32()%MaxMessageGroups)
		mg := bins[id]
		if mg == nil {
			mg = &MessageGroup{ID: id}
			bins[id] = mg
		}
		mg.Repositories = append(mg.Repositories, g.Repositories...)
		mg.Bindings = append(mg.Bindings, g.Bindings...)
	}
	out := make([]MessageGroup, 0, len(bins))
	for _, id := range sortedKeys(bins) {
		mg := bins[id]
		slices.Sort(mg.Repositories)
		slices.Sort(mg.Bindings)
		out = append(out, *mg)
	}
	return out
}
