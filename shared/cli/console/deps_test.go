package console

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLambdaBinariesLinkNoConsole holds the console out of the Lambda
// functions: nothing under functions/ may import this package, chromedp or
// html/template (tools/bench/size measures what they weigh).
func TestLambdaBinariesLinkNoConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("lists the functions' dependencies with the go command")
	}
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "-tags", "lambda.norpc", "./functions/...")
	cmd.Dir = "../../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./functions/...: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !strings.Contains(string(out), "github.com/deckhand-ecs/deckhand/shared/engine/deploy") {
		t.Fatalf("go list -deps ./functions/... does not look like the functions' dependencies (%d packages)", len(deps))
	}
	for _, d := range deps {
		if d == "github.com/deckhand-ecs/deckhand/shared/cli/console" || strings.HasPrefix(d, "github.com/chromedp/") || d == "html/template" {
			t.Errorf("a Lambda function links %s", d)
		}
	}
}
