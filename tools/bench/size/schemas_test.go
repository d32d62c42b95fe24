package size

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// sdkSchemas matches the generated schema tables of the AWS SDK's
// schema-based (de)serialization (service/<name>/schemas), enabled for ECS
// and ECR in September 2026, EventBridge and SQS in August 2026.
var sdkSchemas = regexp.MustCompile(`^github\.com/aws/aws-sdk-go-v2/service/[a-z0-9]+/schemas$`)

// allowedSchemas are schema packages a function links on purpose, with
// why. CloudWatch: the deployer checks that a binding's deployment alarms
// exist (issue 12, shared/aws/alarms); the proxy serves no CloudWatch
// release before schema-based serde, and its tables' init measured
// 0.33–0.60 ms (GODEBUG=inittrace=1, three runs), in the deployer only.
var allowedSchemas = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas": "the deployer's alarm check (issue 12)",
}

// TestFunctionsLinkNoSDKSchemas guards a deliberate pin in go.mod: the ECS,
// EventBridge, ECR and SQS clients (and SSM v1.79.3 and Secrets Manager
// v1.49.0, which the deployer and the runner link to resolve {{ ssm }} and
// {{ secret }}: shared/aws/refs) stay at their last releases before
// schema-based serde, whose package init builds the schema tables on every
// cold start (ECS 1.3 ms, EventBridge 0.5 ms, ECR 0.4 ms measured with
// GODEBUG=inittrace=1; the deployer's init ratio went from 2.2 to 1.65).
// An upgrade that brings them back fails here; see BENCHMARKS.md §1 before
// taking it.
func TestFunctionsLinkNoSDKSchemas(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "-tags", "lambda.norpc", "./functions/...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./functions/...: %v", err)
	}
	var found []string
	sdk := 0
	for line := range strings.Lines(string(out)) {
		pkg := strings.TrimSpace(line)
		if strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/") {
			sdk++
		}
		if sdkSchemas.MatchString(pkg) && allowedSchemas[pkg] == "" {
			found = append(found, pkg)
		}
	}
	if sdk == 0 {
		t.Fatalf("go list -deps ./functions/... names no SDK service package; is the list empty?\n%s", out)
	}
	if len(found) > 0 {
		t.Errorf("the functions link SDK schema packages, whose init runs on every cold start: %s", strings.Join(found, ", "))
	}
}
