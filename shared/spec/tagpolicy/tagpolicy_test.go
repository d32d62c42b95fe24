package tagpolicy

import "testing"

func TestMatch(t *testing.T) {
	tests := map[string]struct {
		policy string
		yes    []string
		no     []string
	}{
		"semver range accepts versions inside it": {
			policy: "semver:>=1.0.0 <2.0.0",
			yes:    []string{"1.0.0", "1.4.0", "v1.9.9"},
			no:     []string{"0.9.0", "2.0.0", "latest", "", "1.5.0-rc.1"},
		},
		"glob matches a shell pattern": {
			policy: "glob:stable-*",
			yes:    []string{"stable-1", "stable-2026.11"},
			no:     []string{"unstable-1", "stable", ""},
		},
		"regex is anchored": {
			policy: `regex:release-\d+`,
			yes:    []string{"release-1", "release-42"},
			no:     []string{"xrelease-1", "release-1x", "release-"},
		},
		"star accepts any tag but never an untagged push": {
			policy: "*",
			yes:    []string{"latest", "abc"},
			no:     []string{""},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := Parse(tc.policy)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.policy, err)
			}
			for _, tag := range tc.yes {
				if !p.Match(tag) {
					t.Errorf("Match(%q) = false, want true", tag)
				}
			}
			for _, tag := range tc.no {
				if p.Match(tag) {
					t.Errorf("Match(%q) = true, want false", tag)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "semver:", "semver:>>1", "glob:[", "regex:(", "latest", "exact:1.0"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = nil error, want an error", s)
		}
	}
}

func TestCompare(t *testing.T) {
	p, _ := Parse("semver:*")
	if got := p.Compare("1.10.0", "1.9.0"); got <= 0 {
		t.Errorf("Compare(1.10.0, 1.9.0) = %d, want > 0", got)
	}
	g, _ := Parse("glob:*")
	if got := g.Compare("b", "a"); got != 0 {
		t.Errorf("glob Compare = %d, want 0 (push time decides)", got)
	}
}
