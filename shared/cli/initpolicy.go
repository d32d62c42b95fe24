package cli

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"
)

// GuessedPolicy is the tag policy `deckhand init` writes for a container,
// and why: the person adopting a service reads Why and narrows or widens
// the policy.
type GuessedPolicy struct {
	Policy string `json:"policy"`        // a policy tagpolicy.Parse accepts, matching Tag
	Tag    string `json:"tag,omitempty"` // the running tag it was guessed from ("" if none)
	Why    string `json:"why"`
}

var (
	numberedTagRe = regexp.MustCompile(`^([^0-9]+)([0-9]+)$`)
	prefixTagRe   = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*[-_.])`)
)

// GuessPolicy guesses a tag policy from the tags of the running image
// (its reference's tag and every tag ECR knows for its digest). A semantic
// version wins: semver:^MAJOR (0.MINOR.x for 0.x). Otherwise the first tag
// by name decides: PREFIX + a number is regex:PREFIX[0-9]+ (release-42;
// the prefix has no digits),
// WORD + a separator + anything is glob:WORD-* (main-3f2a1c9), a single
// word (latest) is that tag alone, and no tag at all is * (every tag). The
// policy always accepts the running tag.
func GuessPolicy(tags []string) GuessedPolicy {
	tags = uniqueSorted(tags)
	if len(tags) == 0 {
		return GuessedPolicy{Policy: "*", Why: "the running image has no tag; every tagged push will deploy: narrow it"}
	}
	for _, t := range tags {
		v, err := semver.StrictNewVersion(strings.TrimPrefix(t, "v"))
		if err != nil || v.Prerelease() != "" {
			continue
		}
		g := GuessedPolicy{Tag: t}
		if v.Major() > 0 {
			g.Policy, g.Why = fmt.Sprintf("semver:^%d", v.Major()), fmt.Sprintf("%d.x.x releases from %s on, no new major version", v.Major(), t)
		} else {
			g.Policy, g.Why = fmt.Sprintf("semver:~0.%d", v.Minor()), fmt.Sprintf("0.%d.x releases from %s on", v.Minor(), t)
		}
		return checked(g)
	}
	t := tags[0]
	g := GuessedPolicy{Tag: t}
	switch {
	case numberedTagRe.MatchString(t):
		prefix := numberedTagRe.FindStringSubmatch(t)[1]
		g.Policy, g.Why = "regex:"+regexp.QuoteMeta(prefix)+"[0-9]+", fmt.Sprintf("%s followed by a number, like %s", prefix, t)
	case prefixTagRe.MatchString(t):
		prefix := prefixTagRe.FindString(t)
		g.Policy, g.Why = "glob:"+globQuote(prefix)+"*", fmt.Sprintf("tags starting %s, like %s", prefix, t)
	default:
		g.Policy, g.Why = "glob:"+globQuote(t), fmt.Sprintf("only the tag %s, as the service runs it now (a mutable tag: each push of it deploys)", t)
	}
	return checked(g)
}

// checked falls back to the running tag alone if the guess does not accept
// it (a guess is only a guess; the service must stay deployable as it is).
func checked(g GuessedPolicy) GuessedPolicy {
	if p, err := tagpolicy.Parse(g.Policy); err == nil && p.Match(g.Tag) {
		return g
	}
	return GuessedPolicy{Policy: "regex:" + regexp.QuoteMeta(g.Tag), Tag: g.Tag, Why: fmt.Sprintf("only the tag %s, as the service runs it now", g.Tag)}
}

func globQuote(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

func uniqueSorted(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}
