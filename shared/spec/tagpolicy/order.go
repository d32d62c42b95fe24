package tagpolicy

import "time"

// Pushed is an image tag with the time it was pushed.
type Pushed struct {
	Tag string
	At  time.Time
}

// Order is DESIGN §5 rule 5's order of two pushes of one repository: the
// later push is the newer; pushes in the same instant (ECR's event times
// have whole seconds) order by the policy's version order (Compare). It is
// negative when a is older than b, positive when a is newer, and 0 when the
// rule cannot tell them apart.
func (p Policy) Order(a, b Pushed) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return p.Compare(a.Tag, b.Tag)
}

// Newer reports whether a is newer than b by "the newest eligible image"'s
// rule: Order, then the tag string, so that the choice never depends on the
// order ECR lists images in. Catch-up, the reconciler and job image
// resolution all pick the newest eligible image by it.
func (p Policy) Newer(a, b Pushed) bool {
	if c := p.Order(a, b); c != 0 {
		return c > 0
	}
	return a.Tag > b.Tag
}
