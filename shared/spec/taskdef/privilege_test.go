package taskdef

import (
	"errors"
	"strings"
	"testing"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// TestTemplatesCannotRaisePrivileges holds DESIGN §9's last rule: each way
// a template can raise a container's privileges is refused at its JSON
// path, unless the binding's allow: grants exactly that.
func TestTemplatesCannotRaisePrivileges(t *testing.T) {
	// web is bound (its image is Deckhand's); side is not.
	td := func(task, side string) string {
		return `{"family":"web",` + task + `"containerDefinitions":[{"name":"web","image":"{{ .Image }}"},{"name":"side",` + side + `}]}`
	}
	const ecrSide = `"image":"123456789012.dkr.ecr.us-west-2.amazonaws.com/side@` + pxySHA + `"`
	tests := map[string]struct {
		tmpl     string
		allow    *manifest.Allow
		sources  *manifest.Sources
		wantPath string // "" when the template is accepted
	}{
		"an unprivileged sidecar from Deckhand's own ECR is fine": {tmpl: td("", ecrSide)},
		"a privileged container": {
			tmpl: td("", ecrSide+`,"privileged":true`), wantPath: "$.containerDefinitions[1].privileged",
		},
		"a privileged container, written in another case": {
			tmpl: td("", ecrSide+`,"Privileged":true`), wantPath: "$.containerDefinitions[1].privileged",
		},
		"a privileged container the binding allows": {
			tmpl: td("", ecrSide+`,"privileged":true`), allow: &manifest.Allow{Privileged: true},
		},
		"the host's network":                {tmpl: td(`"networkMode":"host",`, ecrSide), wantPath: "$.networkMode"},
		"the host's network, allowed":       {tmpl: td(`"networkMode":"host",`, ecrSide), allow: &manifest.Allow{HostNetwork: true}},
		"the host's PID namespace":          {tmpl: td(`"pidMode":"host",`, ecrSide), wantPath: "$.pidMode"},
		"a task's own PID namespace":        {tmpl: td(`"pidMode":"task",`, ecrSide)},
		"the host's PID namespace, allowed": {tmpl: td(`"pidMode":"host",`, ecrSide), allow: &manifest.Allow{HostPID: true}},
		"the host's IPC namespace":          {tmpl: td(`"ipcMode":"host",`, ecrSide), wantPath: "$.ipcMode"},
		"the host's IPC namespace, allowed": {tmpl: td(`"ipcMode":"host",`, ecrSide), allow: &manifest.Allow{HostIPC: true}},
		"a host-path volume": {
			tmpl: td(`"volumes":[{"name":"v","host":{"sourcePath":"/var/run/docker.sock"}}],`, ecrSide), wantPath: "$.volumes[0].host.sourcePath",
		},
		"a host-path volume below an allowed path": {
			tmpl:  td(`"volumes":[{"name":"v","host":{"sourcePath":"/var/run/docker.sock"}}],`, ecrSide),
			allow: &manifest.Allow{HostPaths: []string{"/var/run"}},
		},
		"a host path that climbs out of an allowed one": {
			tmpl:  td(`"volumes":[{"name":"v","host":{"sourcePath":"/var/run/../../etc"}}],`, ecrSide),
			allow: &manifest.Allow{HostPaths: []string{"/var/run"}}, wantPath: "$.volumes[0].host.sourcePath",
		},
		"a host path that only shares a prefix": {
			tmpl:  td(`"volumes":[{"name":"v","host":{"sourcePath":"/var/runaway"}}],`, ecrSide),
			allow: &manifest.Allow{HostPaths: []string{"/var/run"}}, wantPath: "$.volumes[0].host.sourcePath",
		},
		"a Docker-managed volume is no host path": {tmpl: td(`"volumes":[{"name":"v","host":{}}],`, ecrSide)},
		"a local-driver bind mount of the host's root": {
			tmpl:     td(`"volumes":[{"name":"v","dockerVolumeConfiguration":{"driver":"local","driverOpts":{"type":"none","o":"bind","device":"/"}}}],`, ecrSide),
			wantPath: "$.volumes[0].dockerVolumeConfiguration.driverOpts.device",
		},
		"a host device": {
			tmpl:     td("", ecrSide+`,"linuxParameters":{"devices":[{"hostPath":"/dev/mem"}]}`),
			wantPath: "$.containerDefinitions[1].linuxParameters.devices[0].hostPath",
		},
		"an added capability": {
			tmpl:     td("", ecrSide+`,"linuxParameters":{"capabilities":{"add":["SYS_ADMIN"]}}`),
			wantPath: "$.containerDefinitions[1].linuxParameters.capabilities.add[0]",
		},
		"an added capability the binding allows, however it is spelled": {
			tmpl:  td("", ecrSide+`,"linuxParameters":{"capabilities":{"add":["cap_net_admin"]}}`),
			allow: &manifest.Allow{Capabilities: []string{"NET_ADMIN"}},
		},
		"a capability other than the one allowed": {
			tmpl:  td("", ecrSide+`,"linuxParameters":{"capabilities":{"add":["NET_ADMIN","SYS_PTRACE"]}}`),
			allow: &manifest.Allow{Capabilities: []string{"NET_ADMIN"}}, wantPath: "$.containerDefinitions[1].linuxParameters.capabilities.add[1]",
		},
		"dropping capabilities is fine": {tmpl: td("", ecrSide+`,"linuxParameters":{"capabilities":{"drop":["ALL"]}}`)},
		"an image from Docker Hub":      {tmpl: td("", `"image":"nginx:latest"`), wantPath: "$.containerDefinitions[1].image"},
		"an image from Docker Hub the binding allows": {
			tmpl: td("", `"image":"datadog/agent:7"`), allow: &manifest.Allow{Registries: []string{"docker.io"}},
		},
		"an image below an allowed path prefix": {
			tmpl:  td("", `"image":"public.ecr.aws/aws-observability/aws-for-fluent-bit:2"`),
			allow: &manifest.Allow{Registries: []string{"public.ecr.aws/aws-observability"}},
		},
		"an image that only shares a path prefix": {
			tmpl:  td("", `"image":"public.ecr.aws/aws-observability-evil/x:1"`),
			allow: &manifest.Allow{Registries: []string{"public.ecr.aws/aws-observability"}}, wantPath: "$.containerDefinitions[1].image",
		},
		"an image from another account's ECR": {
			tmpl: td("", `"image":"999999999999.dkr.ecr.us-west-2.amazonaws.com/side:1"`), wantPath: "$.containerDefinitions[1].image",
		},
		"an image from a sources: account's ECR in a sources: Region": {
			tmpl:    td("", `"image":"210987654321.dkr.ecr.eu-central-1.amazonaws.com/side:1"`),
			sources: &manifest.Sources{Accounts: []string{"210987654321"}, Regions: []string{"eu-central-1"}},
		},
		"an image made by a placeholder is checked as rendered": {
			tmpl: td("", `"image":"{{ .Vars.LOG_LEVEL }}.example.com/side:1"`), wantPath: "$.containerDefinitions[1].image",
		},
		"a bound container's template image does not matter": {
			tmpl: `{"family":"web","containerDefinitions":[{"name":"web","image":"evil.example.com/web:1"},{"name":"side",` + ecrSide + `}]}`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := sampleData()
			delete(d.Images, "proxy")
			_, err := Render([]byte(tc.tmpl), d, Options{Key: "k", Roles: roles, Allow: tc.allow, Sources: tc.sources})
			if tc.wantPath == "" {
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				return
			}
			var te *Error
			if !errors.As(err, &te) || !errors.Is(err, ErrTemplate) {
				t.Fatalf("err = %v, want a *taskdef.Error", err)
			}
			if te.Path != tc.wantPath || !strings.Contains(err.Error(), "allow: {") {
				t.Errorf("err = %v (path %q), want path %q and the allow: that would grant it", err, te.Path, tc.wantPath)
			}
		})
	}
}

func TestSplitImage(t *testing.T) {
	tests := map[string][2]string{
		"nginx":                         {"docker.io", "library/nginx"},
		"nginx:1.27@" + webSHA:          {"docker.io", "library/nginx"},
		"datadog/agent:7":               {"docker.io", "datadog/agent"},
		"index.docker.io/datadog/agent": {"docker.io", "datadog/agent"},
		"localhost/x:1":                 {"localhost", "x"},
		"localhost:5000/team/x":         {"localhost:5000", "team/x"},
		"ghcr.io/acme/tool:v1":          {"ghcr.io", "acme/tool"},
		"123456789012.dkr.ecr.us-west-2.amazonaws.com/web@" + webSHA: {"123456789012.dkr.ecr.us-west-2.amazonaws.com", "web"},
	}
	for in, want := range tests {
		if host, repo := splitImage(in); host != want[0] || repo != want[1] {
			t.Errorf("splitImage(%q) = %q, %q; want %q, %q", in, host, repo, want[0], want[1])
		}
	}
}
