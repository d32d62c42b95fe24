package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeFiles writes files (path → content) under a new directory and
// returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	teamTarget = "targets:\n  prod-eu: { account: \"210987654321\", region: eu-central-1, role: arn:aws:iam::210987654321:role/deckhand-target }\n"
	teamSvc    = "services:\n  - name: pay\n    target: prod-eu\n    cluster: prod\n    service: pay\n    template: templates/pay.json\n    images: { pay: { repository: pay, tags: \"semver:*\" } }\n"
)

func TestLoadIncludes(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"deckhand.yaml":       "version: 1\ninclude: [teams/, shared/roles.yaml]\nservices:\n  - {name: web, cluster: hub, service: web, template: t.json, images: {web: {repository: web, tags: \"*\"}}}\n",
		"teams/payments.yaml": teamTarget + teamSvc,
		"teams/search.yml":    "services:\n  - {name: search, target: prod-eu, cluster: prod, service: search, template: t.json, images: {s: {repository: search, tags: \"*\"}}}\n",
		"teams/README.md":     "not a manifest\n",
		"shared/roles.yaml":   "version: 1\nroles: [arn:aws:iam::210987654321:role/pay-task]\n",
	})
	m, err := Load(filepath.Join(dir, "deckhand.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var names []string
	for _, s := range m.Services {
		names = append(names, s.Name)
	}
	if diff := cmp.Diff([]string{"web", "pay", "search"}, names); diff != "" {
		t.Errorf("services in load order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"arn:aws:iam::210987654321:role/pay-task"}, m.RolesIn("210987654321")); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"prod"}, m.ClustersIn("prod-eu")); diff != "" {
		t.Errorf("clusters of prod-eu (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"hub"}, m.ClustersIn("")); diff != "" {
		t.Errorf("Deckhand's own clusters (-want +got):\n%s", diff)
	}

	// The bundle the CDK app uploads parses to the same manifest, and its
	// errors still name the included file and line.
	bundle, err := Bundle(filepath.Join(dir, "deckhand.yaml"))
	if err != nil {
		t.Fatalf("Bundle: %v", err)
	}
	fromS3, err := Parse("s3://b/deckhand.yaml", bundle)
	if err != nil {
		t.Fatalf("Parse(bundle): %v", err)
	}
	if diff := cmp.Diff(names, serviceNames(fromS3)); diff != "" {
		t.Errorf("bundle services (-want +got):\n%s", diff)
	}
	if got := len(fromS3.BindingsFor("pay")); got != 1 {
		t.Errorf("bundle BindingsFor(pay) = %d", got)
	}
	broken := strings.Replace(string(bundle), "tags: \"semver:*\"", "tags: \"semver:!\"", 1)
	_, err = Parse("s3://b/deckhand.yaml", []byte(broken))
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("Parse(broken bundle) = %v", err)
	}
	want := Problem{File: "teams/payments.yaml", Line: 9, Field: "services[0].images.pay.tags"}
	got := me.Problems[0]
	got.Msg = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bundle problem (-want +got):\n%s", diff)
	}
}

func serviceNames(m *Manifest) []string {
	var out []string
	for _, s := range m.Services {
		out = append(out, s.Name)
	}
	return out
}

func TestBundleOfOneFileIsTheFile(t *testing.T) {
	path := "../../../examples/deckhand.yaml"
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Bundle(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("Bundle of a manifest without includes is not the file itself")
	}
}

// TestBadInput is issue 14's bad input: each a clear error naming the file
// and the line.
func TestBadInput(t *testing.T) {
	svc := func(name, target, cluster string) string {
		return "  - {name: " + name + ", target: " + target + ", cluster: " + cluster + ", service: " + name + ", template: t.json, images: {x: {repository: r, tags: \"*\"}}}\n"
	}
	tests := map[string]struct {
		files                        map[string]string
		wantFile, wantField, wantMsg string
		wantLine                     int
	}{
		"a malformed account id": {
			files:    map[string]string{"deckhand.yaml": "version: 1\ntargets:\n  eu: { account: \"21098765432\", region: eu-central-1, role: arn:aws:iam::210987654321:role/t }\n"},
			wantFile: "deckhand.yaml", wantLine: 3, wantField: "targets.eu.account", wantMsg: "not a 12-digit account id",
		},
		"an account id YAML reads as a number": {
			files:    map[string]string{"deckhand.yaml": "version: 1\ntargets:\n  eu:\n    account: 0210987654321\n    region: eu-central-1\n    role: arn:aws:iam::210987654321:role/t\n"},
			wantFile: "deckhand.yaml", wantLine: 4, wantField: "targets.eu.account", wantMsg: "not a 12-digit account id",
		},
		"an unknown Region": {
			files:    map[string]string{"deckhand.yaml": "version: 1\ntargets:\n  eu:\n    account: \"210987654321\"\n    region: eu-middle-1\n    role: arn:aws:iam::210987654321:role/t\n"},
			wantFile: "deckhand.yaml", wantLine: 5, wantField: "targets.eu.region", wantMsg: `unknown Region "eu-middle-1"`,
		},
		"a role in another account than its target": {
			files:    map[string]string{"deckhand.yaml": "version: 1\ntargets:\n  eu:\n    account: \"210987654321\"\n    region: eu-central-1\n    role: arn:aws:iam::123456789012:role/t\n"},
			wantFile: "deckhand.yaml", wantLine: 6, wantField: "targets.eu.role", wantMsg: "is in account 123456789012, not in the target's account 210987654321",
		},
		"two targets with one name in one file": {
			files:    map[string]string{"deckhand.yaml": "version: 1\ntargets:\n  eu: { account: \"210987654321\", region: eu-central-1, role: arn:aws:iam::210987654321:role/t }\n  eu: { account: \"210987654321\", region: eu-west-1, role: arn:aws:iam::210987654321:role/t }\n"},
			wantFile: "deckhand.yaml", wantLine: 4, wantMsg: `mapping key "eu" already defined at line 3`,
		},
		"two targets with one name in two files": {
			files: map[string]string{
				"deckhand.yaml": "version: 1\ninclude: [teams/a.yaml]\n" + teamTarget,
				"teams/a.yaml":  "# team a\n" + teamTarget,
			},
			wantFile: "teams/a.yaml", wantLine: 3, wantField: "targets.prod-eu", wantMsg: `duplicate target "prod-eu" (first defined at `,
		},
		"a top-level retention in an included file": {
			files: map[string]string{
				"deckhand.yaml": "version: 1\ninclude: [teams/a.yaml]\nretention: { keep: 5 }\n",
				"teams/a.yaml":  "# team a\nretention: { keep: 2 }\n",
			},
			wantFile: "teams/a.yaml", wantLine: 2, wantField: "retention", wantMsg: "belongs in the root manifest; set retention: on this file",
		},
		"a service naming a target nobody defined": {
			files:    map[string]string{"deckhand.yaml": "version: 1\n" + teamTarget + "services:\n" + svc("a", "prod-us", "prod")},
			wantFile: "deckhand.yaml", wantLine: 5, wantField: "services[0].target", wantMsg: `target "prod-us" not found; known: prod-eu`,
		},
		"gates on a binding in a target": {
			files:    map[string]string{"deckhand.yaml": "version: 1\n" + teamTarget + "services:\n  - {name: a, target: prod-eu, cluster: prod, service: a, template: t.json, gates: {approval: {required: true}}, images: {x: {repository: r, tags: \"*\"}}}\n"},
			wantFile: "deckhand.yaml", wantLine: 5, wantField: "services[0].gates", wantMsg: `gates on a binding with target "prod-eu" are not supported yet`,
		},
		"deployment alarms on a binding in a target": {
			files:    map[string]string{"deckhand.yaml": "version: 1\n" + teamTarget + "services:\n  - {name: a, target: prod-eu, cluster: prod, service: a, template: t.json, deployment: {strategy: rolling, alarms: [a5xx]}, images: {x: {repository: r, tags: \"*\"}}}\n"},
			wantFile: "deckhand.yaml", wantLine: 5, wantField: "services[0].deployment.alarms", wantMsg: `deployment alarms on a binding with target "prod-eu" are not supported yet`,
		},
		"one cluster reached through two roles": {
			files: map[string]string{"deckhand.yaml": "version: 1\ntargets:\n" +
				"  a: { account: \"210987654321\", region: eu-central-1, role: arn:aws:iam::210987654321:role/a }\n" +
				"  b: { account: \"210987654321\", region: eu-central-1, role: arn:aws:iam::210987654321:role/b }\n" +
				"services:\n" + svc("x", "a", "prod") + svc("y", "b", "prod")},
			wantFile: "deckhand.yaml", wantLine: 7, wantField: "services[1].cluster", wantMsg: `cluster "prod" in account 210987654321, eu-central-1 is also used through role arn:aws:iam::210987654321:role/a`,
		},
		"one ECS service bound twice across files": {
			files: map[string]string{
				"deckhand.yaml": "version: 1\ninclude: [b.yaml]\n" + teamTarget + "services:\n" + svc("x", "prod-eu", "prod"),
				"b.yaml":        "services:\n  - {name: y, target: prod-eu, cluster: prod, service: x, template: t.json, images: {x: {repository: r, tags: \"*\"}}}\n",
			},
			wantFile: "b.yaml", wantLine: 2, wantField: "services[0].service", wantMsg: `ECS service "x" of cluster "prod" in account 210987654321, eu-central-1 is already bound at `,
		},
		"an include cycle": {
			files: map[string]string{
				"deckhand.yaml": "version: 1\ninclude: [a.yaml]\n",
				"a.yaml":        "include: [sub/b.yaml]\n",
				"sub/b.yaml":    "# b\ninclude: [../a.yaml]\n",
			},
			wantFile: "sub/b.yaml", wantLine: 2, wantField: "include[0]", wantMsg: "include cycle: ",
		},
		"a missing include": {
			files:    map[string]string{"deckhand.yaml": "version: 1\ninclude:\n  - teams/\n  - nope.yaml\n", "teams/a.yaml": "roles: []\n"},
			wantFile: "deckhand.yaml", wantLine: 4, wantField: "include[1]", wantMsg: `include "nope.yaml": no such file or directory`,
		},
		"an include leaving the manifest's directory": {
			files:    map[string]string{"deckhand.yaml": "version: 1\ninclude: [../etc/x.yaml]\n"},
			wantFile: "deckhand.yaml", wantLine: 2, wantField: "include[0]", wantMsg: "inside the manifest's directory",
		},
		"a duplicate binding name across files": {
			files: map[string]string{
				"deckhand.yaml": "version: 1\ninclude: [b.yaml]\nservices:\n" + svc("x", "''", "prod"),
				"b.yaml":        "jobs:\n  - {name: x, schedule: rate(1 hour), cluster: batch, template: t}\n",
			},
			wantFile: "b.yaml", wantLine: 2, wantField: "jobs[0].name", wantMsg: `duplicate name "x" (first used at `,
		},
		"a bad field in an included file": {
			files:    map[string]string{"deckhand.yaml": "version: 1\ninclude: [b.yaml]\n", "b.yaml": "# b\nservices:\n  - {name: x, colour: blue}\n"},
			wantFile: "b.yaml", wantLine: 3, wantField: "services[0].colour", wantMsg: `unknown field "colour"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			_, err := Load(filepath.Join(dir, "deckhand.yaml"))
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Load = %v, want *manifest.Error", err)
			}
			for _, p := range me.Problems {
				if p.File == filepath.Join(dir, filepath.FromSlash(tc.wantFile)) && p.Line == tc.wantLine && p.Field == tc.wantField && strings.Contains(p.Msg, tc.wantMsg) {
					return
				}
			}
			t.Errorf("no problem at %s:%d %s containing %q; got:\n%v", tc.wantFile, tc.wantLine, tc.wantField, tc.wantMsg, err)
		})
	}
}

func TestParseRefusesIncludesWithoutFiles(t *testing.T) {
	_, err := Parse("s3://b/deckhand.yaml", []byte("version: 1\ninclude: [teams/]\n"))
	var me *Error
	if !errors.As(err, &me) || me.Problems[0].Line != 2 || !strings.Contains(me.Problems[0].Msg, "bundle") {
		t.Fatalf("Parse of a lone file with include: = %v, want a problem on line 2 naming the bundle", err)
	}
}

func TestMalformedBundle(t *testing.T) {
	for name, data := range map[string]string{
		"a length past the end": bundleHeader + "#@file 999 deckhand.yaml\nversion: 1\n",
		"no entry line":         bundleHeader + "version: 1\n",
		"no files":              bundleHeader,
	} {
		_, err := Parse("s3://b/deckhand.yaml", []byte(data))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "malformed manifest bundle") {
			t.Errorf("%s: Parse = %v, want a malformed-bundle problem", name, err)
		}
	}
}

// TestMessageGroupsPackBeyondTheLimit: with more repository groups than
// MaxMessageGroups, groups share message groups but are never split, and
// GroupOf agrees with MessageGroups.
func TestMessageGroupsPackBeyondTheLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nservices:\n")
	const n = 3 * MaxMessageGroups
	for i := range n {
		// Each pair of repositories r<i>a and r<i>b is one group.
		b.WriteString("  - {name: s" + strconv.Itoa(i) + ", cluster: c, service: s" + strconv.Itoa(i) + ", template: t, images: {a: {repository: r" + strconv.Itoa(i) + "a, tags: \"*\"}, b: {repository: r" + strconv.Itoa(i) + "b, tags: \"*\"}}}\n")
	}
	m, err := Parse("m.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	mgs := m.MessageGroups()
	if len(mgs) > MaxMessageGroups || len(mgs) < MaxMessageGroups/2 {
		t.Fatalf("%d message groups for %d groups, want at most %d and not far fewer", len(mgs), n, MaxMessageGroups)
	}
	repos := 0
	for _, mg := range mgs {
		for _, r := range mg.Repositories {
			repos++
			if got, _ := m.GroupOf(r); got != mg.ID {
				t.Errorf("GroupOf(%s) = %s, want %s", r, got, mg.ID)
			}
			other := strings.TrimSuffix(r, "a") + "b"
			if strings.HasSuffix(r, "a") {
				if got, _ := m.GroupOf(other); got != mg.ID {
					t.Errorf("group {%s, %s} split across message groups %s and %s", r, other, mg.ID, got)
				}
			}
		}
	}
	if repos != 2*n {
		t.Errorf("%d repositories in message groups, want %d", repos, 2*n)
	}
}

func TestLongRepositoryNamesFitEventBridgesMessageGroupID(t *testing.T) {
	long := strings.Repeat("a", 150)
	m, err := Parse("m.yaml", []byte("version: 1\nservices:\n  - {name: s, cluster: c, service: s, template: t, images: {x: {repository: "+long+", tags: \"*\"}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	id, ok := m.GroupOf(long)
	if !ok || len(id) > maxMessageGroupID || !strings.HasPrefix(id, long[:50]) {
		t.Errorf("GroupOf(150 characters) = %q (%d characters), want at most %d", id, len(id), maxMessageGroupID)
	}
}
