package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

func TestGuessPolicy(t *testing.T) {
	cases := map[string]struct {
		tags []string
		want string
	}{
		"a release follows its major version":             {[]string{"1.4.2"}, "semver:^1"},
		"a v-prefixed release too":                        {[]string{"v2.0.1"}, "semver:^2"},
		"a 0.x release follows its minor version":         {[]string{"0.9.3"}, "semver:~0.9"},
		"a version among ECR's tags beats a mutable tag":  {[]string{"latest", "3.1.0"}, "semver:^3"},
		"a prerelease is no release":                      {[]string{"1.0.0-rc1"}, "glob:1.0.0-rc1"},
		"a numbered tag follows its prefix":               {[]string{"release-42"}, "regex:release-[0-9]+"},
		"a branch-and-commit tag follows its branch":      {[]string{"main-3f2a1c9"}, "glob:main-*"},
		"a single mutable tag is that tag alone":          {[]string{"latest"}, "glob:latest"},
		"no tag at all takes every tag, and says so":      {nil, "*"},
		"a number alone is a prefixless numbered tag too": {[]string{"42"}, "glob:42"},
	}
	for name, tc := range cases {
		g := GuessPolicy(tc.tags)
		if diff := cmp.Diff(tc.want, g.Policy); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", name, diff)
		}
		if g.Why == "" {
			t.Errorf("%s: no reason given", name)
		}
		if len(tc.tags) > 0 {
			p, err := tagpolicy.Parse(g.Policy)
			if err != nil || !p.Match(g.Tag) {
				t.Errorf("%s: policy %s does not accept the running tag %s (%v)", name, g.Policy, g.Tag, err)
			}
		}
	}
}

// TestEscapeLiteralRendersItself renders templates whose strings look like
// placeholders, escaped: each renders to itself.
func TestEscapeLiteralRendersItself(t *testing.T) {
	for _, s := range []string{
		"plain", "{{ .Image }}", "{{json .}}", "@@IMAGE@@", "@@NOT_A_VAR@@ and {{", "}} {{- x -}}",
		`quote " backslash \ tab	newline
 unicode é 日本`, "<b>&amp;</b>", "{{", "@@@@", "\x00\x7f",
	} {
		doc := map[string]any{"family": "f", "containerDefinitions": []any{map[string]any{
			"name": "c", "image": "nginx@sha256:" + strings.Repeat("a", 64), "command": []any{escapeLiteral(s)}}}}
		tmpl, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		r, err := taskdef.Render(tmpl, taskdef.Data{Account: "123456789012", Region: "us-west-2"}, taskdef.Options{Allow: &manifest.Allow{Registries: []string{"docker.io"}}})
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if got := r.Input.ContainerDefinitions[0].Command[0]; got != s {
			t.Errorf("%q renders %q", s, got)
		}
	}
}

func TestSameAsRunningSeesAChange(t *testing.T) {
	raw := `{"taskDefinition": {"family": "f", "revision": 3, "status": "ACTIVE", "taskDefinitionArn": "arn:aws:ecs:us-west-2:123456789012:task-definition/f:3",
		"containerDefinitions": [{"name": "app", "image": "x:1", "cpu": 0, "environment": [{"name": "A", "value": "1"}]}]}}`
	d, err := parseDescribed([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	bound := map[string]manifest.Image{"app": {Repository: "x"}}
	for name, tc := range map[string]struct {
		rendered string
		same     bool
	}{
		"the same definition with another image": {`{"family":"f","containerDefinitions":[{"name":"app","image":"r/x@sha256:1","cpu":0,"environment":[{"name":"A","value":"1"}]}]}`, true},
		"a changed value":                        {`{"family":"f","containerDefinitions":[{"name":"app","image":"x:1","cpu":0,"environment":[{"name":"A","value":"2"}]}]}`, false},
		"a field left out":                       {`{"family":"f","containerDefinitions":[{"name":"app","image":"x:1","environment":[{"name":"A","value":"1"}]}]}`, false},
	} {
		err := sameAsRunning(d, &taskdef.Rendered{JSON: []byte(tc.rendered)}, bound)
		if (err == nil) != tc.same {
			t.Errorf("%s: sameAsRunning = %v, want same %v", name, err, tc.same)
		}
	}
}

// TestAllowForLetsTheRevisionRender: the allow: block init writes for a
// revision that raises privileges is what the renderer needs to accept it,
// and each grant has a reason.
func TestAllowForLetsTheRevisionRender(t *testing.T) {
	raw := `{"taskDefinition": {"family": "agent", "networkMode": "host", "pidMode": "host", "ipcMode": "host",
		"volumes": [{"name": "docker", "host": {"sourcePath": "/var/run/docker.sock"}},
		            {"name": "proc", "dockerVolumeConfiguration": {"driver": "local", "driverOpts": {"device": "/proc", "o": "bind", "type": "none"}}}],
		"containerDefinitions": [
		  {"name": "agent", "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/agent:1.0.0", "privileged": true,
		   "linuxParameters": {"capabilities": {"add": ["SYS_ADMIN", "cap_net_admin"]}, "devices": [{"hostPath": "/dev/fuse"}]}},
		  {"name": "sidecar", "image": "ghcr.io/example/tools/sidecar:2"}]}}`
	d, err := parseDescribed([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	allow, why := allowFor(d.Input, map[string]bool{"sidecar": true}, []string{"123456789012.dkr.ecr.us-west-2.amazonaws.com"})
	want := &manifest.Allow{Privileged: true, HostNetwork: true, HostPID: true, HostIPC: true,
		HostPaths: []string{"/var/run/docker.sock", "/proc", "/dev/fuse"}, Capabilities: []string{"SYS_ADMIN", "NET_ADMIN"},
		Registries: []string{"ghcr.io/example/tools"}}
	if diff := cmp.Diff(want, allow); diff != "" {
		t.Errorf("allow (-want +got):\n%s", diff)
	}
	if len(why) != 10 {
		t.Errorf("%d reasons for 10 grants: %q", len(why), why)
	}
	tmpl, err := templateOf(d, map[string]string{"agent": "{{ .Image }}"})
	if err != nil {
		t.Fatal(err)
	}
	data := taskdef.Data{Account: "123456789012", Region: "us-west-2", Primary: "agent",
		Images: map[string]taskdef.Image{"agent": {Registry: "123456789012.dkr.ecr.us-west-2.amazonaws.com", Repository: "agent", Digest: "sha256:" + strings.Repeat("b", 64)}}}
	if _, err := taskdef.Render(tmpl, data, taskdef.Options{Allow: allow}); err != nil {
		t.Errorf("render with the allow: block: %v", err)
	}
	if _, err := taskdef.Render(tmpl, data, taskdef.Options{}); err == nil {
		t.Errorf("render without it succeeded: the revision raises no privilege the test means it to")
	}
}
