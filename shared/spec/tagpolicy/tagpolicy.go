// Package tagpolicy decides which image tags a binding follows.
//
// A policy is written `semver:<constraint>`, `glob:<pattern>`, `regex:<re>`
// or `*`. Semver constraints use Masterminds/semver syntax (">=1.0.0 <2.0.0",
// "~1.4", "^2"); a bare `semver:*` accepts any valid semantic version.
package tagpolicy

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Kind is the kind of a policy.
type Kind string

// Policy kinds.
const (
	KindAny    Kind = "any"
	KindSemver Kind = "semver"
	KindGlob   Kind = "glob"
	KindRegex  Kind = "regex"
)

// Policy is a parsed tag policy. The zero value matches nothing.
type Policy struct {
	Kind       Kind
	raw        string
	constraint *semver.Constraints
	glob       string
	re         *regexp.Regexp
}

// Parse parses a policy string. An empty string is an error: a binding must
// say which tags it follows.
func Parse(s string) (Policy, error) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return Policy{Kind: KindAny, raw: s}, nil
	}
	kind, arg, ok := strings.Cut(s, ":")
	if !ok || arg == "" {
		return Policy{}, fmt.Errorf("tag policy %q: want semver:<constraint>, glob:<pattern>, regex:<re> or *", s)
	}
	p := Policy{Kind: Kind(kind), raw: s}
	switch p.Kind {
	case KindSemver:
		c, err := semver.NewConstraint(arg)
		if err != nil {
			return Policy{}, fmt.Errorf("tag policy %q: semver constraint: %w", s, err)
		}
		p.constraint = c
	case KindGlob:
		if _, err := path.Match(arg, ""); err != nil {
			return Policy{}, fmt.Errorf("tag policy %q: glob: %w", s, err)
		}
		p.glob = arg
	case KindRegex:
		re, err := regexp.Compile("^(?:" + arg + ")$")
		if err != nil {
			return Policy{}, fmt.Errorf("tag policy %q: regex: %w", s, err)
		}
		p.re = re
	default:
		return Policy{}, fmt.Errorf("tag policy %q: unknown kind %q; want semver:, glob:, regex: or *", s, kind)
	}
	return p, nil
}

// String returns the policy as written.
func (p Policy) String() string { return p.raw }

// Match reports whether tag is eligible under the policy. Empty tags never
// match: untagged pushes are not deployed.
func (p Policy) Match(tag string) bool {
	if tag == "" {
		return false
	}
	switch p.Kind {
	case KindAny:
		return true
	case KindSemver:
		v, err := semver.NewVersion(tag)
		return err == nil && p.constraint.Check(v)
	case KindGlob:
		ok, _ := path.Match(p.glob, tag)
		return ok
	case KindRegex:
		return p.re.MatchString(tag)
	}
	return false
}

// Compare orders two eligible tags for a semver policy: negative when a is
// older than b, positive when newer, and 0 when equal or when the policy has
// no version order (glob, regex, *), where push time decides instead.
func (p Policy) Compare(a, b string) int {
	if p.Kind != KindSemver {
		return 0
	}
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	if errA != nil || errB != nil {
		return 0
	}
	return va.Compare(vb)
}
