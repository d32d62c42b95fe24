package local

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/deckhand-ecs/deckhand/events"
)

// docsPattern is the event pattern docs/gates.md gives after marker.
func docsPattern(t *testing.T, marker string) string {
	t.Helper()
	raw, err := os.ReadFile("../../../docs/gates.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "<!-- pattern: "+marker)
	if !ok {
		t.Fatalf("docs/gates.md has no <!-- pattern: %s marker", marker)
	}
	_, rest, ok = strings.Cut(rest, "```json\n")
	body, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatalf("docs/gates.md: no ```json block after the %s marker", marker)
	}
	return body
}

// TestDocsPendingApprovalRule: the rule docs/gates.md gives for
// notifications matches every PENDING_APPROVAL the deployer emits and no
// other event Deckhand emits on the way (scan, start, verdicts, APPROVED,
// REJECTED), as the sandbox's EventBridge and the AWS CLI judge it.
func TestDocsPendingApprovalRule(t *testing.T) {
	ctx := context.Background()
	pattern := docsPattern(t, "pending-approval")
	st := gatesStack(t, "")
	person := st.person()
	for i, tag := range []string{"1.1.0", "1.2.0"} {
		st.SB.PushImage("shop", tag)
		st.advance(t, 12*time.Minute)
		st.reconcile(t)
		var err error
		if i == 0 {
			_, err = person.Approve(ctx, "shop-prod")
		} else {
			_, err = person.Reject(ctx, "shop-prod", "fails the load test")
		}
		if err != nil {
			t.Fatal(err)
		}
		st.advance(t, 2*time.Minute)
	}
	client := eventbridge.NewFromConfig(st.SB.AWSConfig())
	var match, other []byte
	seen := map[events.DeploymentStatus]int{}
	for _, ev := range st.SB.Events() {
		if ev.Source != events.SourceDeckhand {
			continue
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var d events.DeploymentStateChange
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			t.Fatal(err)
		}
		seen[d.Status]++
		out, err := client.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(pattern), Event: aws.String(string(raw))})
		if err != nil {
			t.Fatal(err)
		}
		want := ev.DetailType == events.DetailTypeDeckhandDeployment && d.Status == events.StatusPendingApproval
		if out.Result != want {
			t.Errorf("the docs' rule says %t for a %s %s of %s, want %t", out.Result, ev.DetailType, d.Status, d.Binding, want)
		}
		if want {
			match = raw
		} else {
			other = raw
		}
	}
	for _, s := range []events.DeploymentStatus{events.StatusPendingApproval, events.StatusApproved, events.StatusRejected, events.StatusStarted, events.StatusSucceeded} {
		if seen[s] == 0 {
			t.Errorf("the run emitted no %s; it emitted %v", s, seen)
		}
	}
	t.Run("the AWS CLI agrees", func(t *testing.T) {
		bin, err := exec.LookPath("aws")
		if err != nil {
			t.Skip("aws (the AWS CLI) not found; install it to check the docs' rule with aws events test-event-pattern")
		}
		home := t.TempDir()
		empty := filepath.Join(home, "empty")
		if err := os.WriteFile(empty, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			event []byte
			want  string
		}{{match, `"Result": true`}, {other, `"Result": false`}} {
			cmd := exec.CommandContext(t.Context(), bin, "events", "test-event-pattern", "--event-pattern", pattern, "--event", string(c.event),
				"--endpoint-url", st.SB.Endpoint(), "--region", st.SB.Region(), "--output", "json")
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_ACCESS_KEY_ID=AKIDSANDBOX", "AWS_SECRET_ACCESS_KEY=secret",
				"AWS_CONFIG_FILE=" + empty, "AWS_SHARED_CREDENTIALS_FILE=" + empty, "AWS_EC2_METADATA_DISABLED=true", "NO_PROXY=127.0.0.1"}
			for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION", "PYTHONPATH", "LANG"} {
				if v, ok := os.LookupEnv(k); ok {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
			}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("aws events test-event-pattern: %v\n%s", err, stderr.String())
			}
			if !strings.Contains(stdout.String(), c.want) {
				t.Errorf("aws events test-event-pattern said %s, want %s", stdout.String(), c.want)
			}
		}
	})
}
