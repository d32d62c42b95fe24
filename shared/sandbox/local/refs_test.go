package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// TestDeployResolvesSSMAndSecretReferences: web's template names its
// database URL with {{ ssm }} and an API key with {{ secret }}; a push
// deploys a revision whose valueFrom are the parameter's and the secret's
// ARNs, looked up by the deployer. api's template names a parameter that
// does not exist: its push is FAILED, naming the parameter and the JSON
// path, and nothing is registered for it.
func TestDeployResolvesSSMAndSecretReferences(t *testing.T) {
	sb := sandboxtest.Start(t)
	ctx := context.Background()
	secretARN, err := sb.CreateSecret("", "", "prod/web/api-key", "k")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../../examples")); err != nil {
		t.Fatal(err)
	}
	rewrite := func(name, old, new string) {
		p := filepath.Join(dir, "templates", name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s has no %q", name, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rewrite("web.json", `"{{ ssm \"/web/database-url\" }}"}`,
		`"{{ ssm \"/web/database-url\" }}"}, {"name": "API_KEY", "valueFrom": "{{ secret \"prod/web/api-key\" }}"}`)
	st, err := New(ctx, sb, Options{Dir: dir, InitialTags: ExampleTags})
	if err != nil {
		t.Fatal(err)
	}
	// Changed after the seed, which creates what templates name.
	rewrite("api.json", `"image": "@@IMAGE@@",`, `"image": "@@IMAGE@@", "secrets": [{"name": "DB", "valueFrom": "{{ ssm \"/api/nope\" }}"}],`)
	api, _ := os.ReadFile(filepath.Join(dir, "templates", "api.json"))
	if err := st.PutTemplate(ctx, "templates/api.json", api); err != nil {
		t.Fatal(err)
	}
	before := len(sb.ECS().TaskDefinitions("api"))
	sb.PushImage("web", "1.1.0")
	sb.PushImage("api", "2.1.0")
	st.mustSettle(t)
	got := statusesByBinding(st.Deployments())
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{
		"web": {events.StatusStarted, events.StatusSucceeded}, "api": {events.StatusFailed},
	}, got); diff != "" {
		t.Fatalf("deployments (-want +got):\n%s", diff)
	}
	serving, _, _ := st.Running("web")
	td, err := st.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(serving)})
	if err != nil {
		t.Fatal(err)
	}
	var valueFrom []string
	for _, s := range td.TaskDefinition.ContainerDefinitions[0].Secrets {
		valueFrom = append(valueFrom, aws.ToString(s.ValueFrom))
	}
	paramARN := "arn:aws:ssm:us-west-2:123456789012:parameter/web/database-url" // seeded: examples' web.json names it
	if diff := cmp.Diff([]string{paramARN, secretARN}, valueFrom); diff != "" {
		t.Errorf("web's secrets[].valueFrom (-want +got):\n%s", diff)
	}
	for _, d := range st.Deployments() {
		if d.Binding == "api" && (!strings.Contains(d.Reason, "SSM parameter /api/nope not found in account 123456789012, Region us-west-2") ||
			!strings.Contains(d.Reason, "$.containerDefinitions[0].secrets[0].valueFrom")) {
			t.Errorf("api's FAILED reason %q; want the parameter and its JSON path named", d.Reason)
		}
	}
	if after := len(sb.ECS().TaskDefinitions("api")); after != before {
		t.Errorf("api has %d revisions after a failed render, %d before", after, before)
	}
}
