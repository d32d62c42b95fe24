package main

import (
	"net"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNothingAnswersAtTheEndpoint checks that against an endpoint nothing
// listens on, the CLI says so, not that it found no credentials.
func TestNothingAnswersAtTheEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close()
	want := "nothing answers at " + endpoint + "; is `deckhand sandbox` running?"
	local := filepath.Join(examples, "deckhand.yaml")
	tests := map[string][]string{
		"status with the manifest in S3":  {"status", "--manifest", "s3://deckhand-config/deckhand.yaml"},
		"deploy with the manifest in S3":  {"deploy", "web", "--image", "web:1.1.0", "--manifest", "s3://deckhand-config/deckhand.yaml"},
		"history with a local manifest":   {"history", "web", "--manifest", local},
		"run with a local manifest":       {"run", "nightly-report", "--manifest", local},
		"render --resolve of a local one": {"render", "web", "--image", "web:1.1.0", "--resolve", "--manifest", local},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			r := deckhand(t, append(args, "--endpoint-url", endpoint)...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q", want)
			}
			if strings.Contains(r.stderr, "IMDS") {
				t.Errorf("stderr talks about IMDS credentials")
			}
		})
	}
}

func TestVersion(t *testing.T) {
	r := deckhand(t, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "deckhand version ") {
		t.Errorf("--version: exit %d, stdout %q; want 0 and \"deckhand version …\"", r.code, r.stdout)
	}
	setting := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := map[string]struct {
		info *debug.BuildInfo
		want string
	}{
		"a release build shows its module version": {
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			want: "v1.4.0 (go1.26.8)"},
		"a build from a checkout shows the commit": {
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: setting("vcs", "git", "vcs.revision", "1e6e53e4a9b1c0ffee0123456789abcdef012345", "vcs.time", "2026-11-16T01:00:00Z")},
			want: "(devel) (commit 1e6e53e4a9b1, 2026-11-16T01:00:00Z, go1.26.8)"},
		"uncommitted changes are said": {
			info: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
				Settings: setting("vcs.revision", "1e6e53e4a9b1c0ffee", "vcs.modified", "true")},
			want: "(devel) (commit 1e6e53e4a9b1, modified, go1.26.8)"},
		"no build information": {info: nil, want: "unknown"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, versionOf(tc.info)); diff != "" {
				t.Errorf("version (-want +got):\n%s", diff)
			}
		})
	}
}
