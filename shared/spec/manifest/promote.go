package manifest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// promotions checks every binding that promotes (images: { c: {
// promoteFrom: b } }) against its source, and resolves each promoted
// image's origin repository: the source is a known service binding other
// than itself; every container promotes from that one binding, which has
// exactly the same containers; and following sources never comes back
// (a → b → a).
func (c *checker) promotions(m *Manifest) {
	byName := map[string]int{}
	for i := range m.Services {
		if _, dup := byName[m.Services[i].Name]; !dup {
			byName[m.Services[i].Name] = i
		}
	}
	ok := map[int]bool{} // bindings whose own promotion is well-formed
	for i := range m.Services {
		s := &m.Services[i]
		src := s.PromoteFrom()
		if src == "" {
			continue
		}
		good := true
		for _, name := range slices.Sorted(maps.Keys(s.Images)) {
			from := s.Images[name].PromoteFrom
			switch {
			case from == "":
				c.add(fmt.Sprintf("binding %s promotes from %s: every container promotes from it (a promotion deploys exactly what the source ran), give `promoteFrom: %s`", s.Name, src, src), "services", i, "images", name)
				good = false
			case from != src:
				c.add(fmt.Sprintf("containers of %s promote from two bindings, %s and %s; a binding promotes from one", s.Name, src, from), "services", i, "images", name, "promoteFrom")
				good = false
			}
		}
		j, known := byName[src]
		switch {
		case src == s.Name:
			c.add(fmt.Sprintf("promotion cycle: %s promotes from itself", s.Name), "services", i, "images", firstPromoted(s), "promoteFrom")
			good = false
		case !known:
			c.add(fmt.Sprintf("service binding %q not found; known: %s", src, strings.Join(m.serviceNames(), ", ")), "services", i, "images", firstPromoted(s), "promoteFrom")
			good = false
		default:
			want, have := slices.Sorted(maps.Keys(m.Services[j].Images)), slices.Sorted(maps.Keys(s.Images))
			if !slices.Equal(want, have) {
				c.add(fmt.Sprintf("binding %s has containers %s, %s has %s: a promotion carries the source's images, so both need the same containers",
					src, strings.Join(want, ", "), s.Name, strings.Join(have, ", ")), "services", i, "images")
				good = false
			}
		}
		ok[i] = good
	}
	for i := range m.Services {
		s := &m.Services[i]
		if !ok[i] {
			continue
		}
		chain := []string{s.Name}
		cur := i
		for {
			next, known := byName[m.Services[cur].PromoteFrom()]
			if !known || m.Services[cur].PromoteFrom() == "" {
				break
			}
			chain = append(chain, m.Services[next].Name)
			if next == i || slices.Contains(chain[:len(chain)-1], m.Services[next].Name) {
				c.add(fmt.Sprintf("promotion cycle: %s", strings.Join(chain, " → ")), "services", i, "images", firstPromoted(s), "promoteFrom")
				ok[i] = false
				break
			}
			cur = next
		}
		if !ok[i] {
			continue
		}
		root := &m.Services[cur]
		for name, img := range s.Images {
			img.origin = root.Images[name].Repository
			img.policy = root.Images[name].policy // the source's version order
			s.Images[name] = img
		}
	}
}

// firstPromoted is the first container (by name) that promotes, for a
// problem's path.
func firstPromoted(s *Service) string {
	for _, name := range slices.Sorted(maps.Keys(s.Images)) {
		if s.Images[name].PromoteFrom != "" {
			return name
		}
	}
	return ""
}
