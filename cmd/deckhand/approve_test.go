package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestApproveRejectPending runs approve, reject, pending, status and
// history against a sandbox running examples/gates.yaml's deployer and
// reconciler: a promotion waits in production, is listed, approved (once),
// and a second one rejected, each decision recorded with who made it.
func TestApproveRejectPending(t *testing.T) {
	ctx := context.Background()
	sb := sandboxtest.Start(t)
	raw, err := os.ReadFile(filepath.Join(examples, "gates.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := local.New(ctx, sb, local.Options{Dir: examples, Manifest: raw, InitialTags: map[string]string{"shop": "1.0.0"}})
	if err != nil {
		t.Fatal(err)
	}
	args := func(extra ...string) []string {
		return append(extra, "--endpoint-url", sb.Endpoint(), "--region", "us-west-2", "--manifest", "s3://"+local.Bucket+"/deckhand.yaml")
	}
	promote := func(tag string) {
		t.Helper()
		sb.PushImage("shop", tag)
		if err := st.Settle(ctx, 12*time.Minute, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Reconciler.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pump(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if r := deckhand(t, args("pending")...); r.code != 0 || !strings.Contains(r.stdout, "nothing waits for approval") {
		t.Errorf("pending before anything waits: exit %d, %q", r.code, r.stdout)
	}
	promote("1.1.0")
	root := "arn:aws:iam::" + sb.Account() + ":root"
	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr string
	}{
		{"pending lists the promotion", []string{"pending"}, 0, []string{"shop-prod", "prod/shop", "shop=1.1.0@", "promote from shop-staging"}, ""},
		{"status shows the gates", []string{"status", "shop-prod"}, 0, []string{"gates:", "shop-prod: promotes from shop-staging; pending approval: shop-prod:2", "deckhand approve shop-prod"}, ""},
		{"history shows it pending", []string{"history", "shop-prod"}, 0, []string{"PENDING_APPROVAL", "approvals:", "2: pending", "(promoted from shop-staging)"}, ""},
		{"a reject without a reason is a usage error", []string{"reject", "shop-prod"}, 2, nil, "give --reason"},
		{"approve deploys it", []string{"approve", "shop-prod"}, 0, []string{"shop-prod (prod/shop): shop-prod:2 approved by " + root, "deploying: deployment ecs-svc/"}, ""},
		{"approving twice finds nothing pending", []string{"approve", "shop-prod"}, 1, nil, "nothing pending approval; it runs shop-prod:2 (approved by " + root},
		{"approve of an unknown binding", []string{"approve", "shop-nope"}, 3, nil, `binding "shop-nope" not found`},
	}
	for _, s := range steps {
		r := deckhand(t, args(s.args...)...)
		if r.code != s.wantCode {
			t.Errorf("%s: exit %d, want %d", s.name, r.code, s.wantCode)
		}
		for _, want := range s.wantStdout {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: stdout lacks %q", s.name, want)
			}
		}
		if !strings.Contains(r.stderr, s.wantStderr) {
			t.Errorf("%s: stderr lacks %q", s.name, s.wantStderr)
		}
	}
	promote("1.2.0")
	r := deckhand(t, args("reject", "shop-prod", "--reason", "fails the load test")...)
	if r.code != 0 || !strings.Contains(r.stdout, "shop-prod:3 rejected by "+root+": fails the load test") {
		t.Errorf("reject: exit %d, %q", r.code, r.stdout)
	}
	r = deckhand(t, args("history", "shop-prod")...)
	for _, want := range []string{"REJECTED", "3: rejected by " + root, ": fails the load test", "2: approved by " + root} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history after the reject lacks %q", want)
		}
	}
}
