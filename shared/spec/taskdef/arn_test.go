package taskdef

import "testing"

func TestSplitARN(t *testing.T) {
	tests := map[string]struct {
		in     string
		family string
		rev    int
	}{
		"a full ARN":                {"arn:aws:ecs:us-west-2:123456789012:task-definition/web:7", "web", 7},
		"family and revision":       {"web-staging:12", "web-staging", 12},
		"a family without revision": {"report", "report", -1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, r := SplitARN(tc.in)
			if f != tc.family || r != tc.rev {
				t.Errorf("SplitARN(%q) = %q, %d; want %q, %d", tc.in, f, r, tc.family, tc.rev)
			}
		})
	}
}
