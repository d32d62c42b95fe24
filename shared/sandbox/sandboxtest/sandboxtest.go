// Package sandboxtest starts sandboxes for tests.
package sandboxtest

import (
	"testing"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// Start starts a sandbox on 127.0.0.1 on a free port and closes it when the
// test ends. At most one Options may be given; fields left zero take the
// sandbox defaults. Build clients with the returned sandbox's AWSConfig.
func Start(t testing.TB, opts ...sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	var o sandbox.Options
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		t.Fatalf("sandboxtest.Start: want at most one Options, got %d", len(opts))
	}
	s := sandbox.New(o)
	if _, err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	return s
}
