package main

import (
	"strings"
	"testing"
)

func TestConsoleRefusesABadAddress(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string
	}{
		"every interface":            {[]string{"console", "--addr", "0.0.0.0:8080"}, "binds only to 127.0.0.1"},
		"a LAN address":              {[]string{"console", "--addr", "10.0.0.5:8080"}, "binds only to 127.0.0.1"},
		"sandbox console, no seed":   {[]string{"sandbox", "--addr", "127.0.0.1:0", "--console"}, "--console needs --seed"},
		"sandbox console on the LAN": {[]string{"sandbox", "--addr", "127.0.0.1:0", "--seed", "../../examples", "--console=0.0.0.0:8080"}, "binds only to 127.0.0.1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := deckhand(t, tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("deckhand %s: exit %d, stderr %q; want exit %d saying %q", strings.Join(tc.args, " "), r.code, r.stderr, exitUsage, tc.want)
			}
		})
	}
}
