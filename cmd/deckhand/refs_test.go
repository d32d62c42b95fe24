package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// TestRunResolvesReferences: a job's template names a parameter and a
// secret; deckhand run registers a revision whose valueFrom are their
// ARNs (the secret's with the suffix only Secrets Manager knows). A
// parameter that does not exist fails the run before anything is
// registered, naming it and its JSON path; a relative path is refused at
// render.
func TestRunResolvesReferences(t *testing.T) {
	w := seed(t)
	manifest := localManifest(t, "")
	tmpl := filepath.Join(filepath.Dir(manifest), "templates", "report.json")
	body, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	write := func(secrets string) {
		t.Helper()
		b := strings.Replace(string(body), `"command": ["./report"],`, `"command": ["./report"], "secrets": [`+secrets+`],`, 1)
		if err := os.WriteFile(tmpl, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	paramARN, err := w.sb.PutParameter("", "", "/report/token", "SecureString", "t")
	if err != nil {
		t.Fatal(err)
	}
	secretARN, err := w.sb.CreateSecret("", "", "prod/report/db", "s")
	if err != nil {
		t.Fatal(err)
	}
	write(`{"name": "TOKEN", "valueFrom": "{{ ssm \"/report/token\" }}"}, {"name": "DB", "valueFrom": "{{ secret \"prod/report/db\" }}"}`)
	if r := deckhand(t, w.argsWith(manifest, "run", "nightly-report")...); r.code != 0 {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	td, err := w.ecs.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nightly-report")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range td.TaskDefinition.ContainerDefinitions[0].Secrets {
		got = append(got, aws.ToString(s.ValueFrom))
	}
	if strings.Join(got, " ") != paramARN+" "+secretARN {
		t.Errorf("valueFrom %v, want %s and %s", got, paramARN, secretARN)
	}

	before := aws.ToInt32(&td.TaskDefinition.Revision)
	write(`{"name": "TOKEN", "valueFrom": "{{ ssm \"/report/nope\" }}"}`)
	w.sb.Clock().Advance(2 * time.Minute) // another run time, not the same run again
	r := deckhand(t, w.argsWith(manifest, "run", "nightly-report")...)
	if out := r.stdout + r.stderr; r.code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "SSM parameter /report/nope not found in account 123456789012") ||
		!strings.Contains(out, "$.containerDefinitions[0].secrets[0].valueFrom") {
		t.Errorf("run with a missing parameter: exit %d, output %q; want 1, FAILED, naming it and its JSON path", r.code, out)
	}
	if latest, err := w.ecs.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nightly-report")}); err != nil || latest.TaskDefinition.Revision != before {
		t.Errorf("a run that failed to render registered a revision: %v", err)
	}

	write(`{"name": "TOKEN", "valueFrom": "{{ ssm \"report/token\" }}"}`)
	r = deckhand(t, w.argsWith(manifest, "render", "nightly-report", "--image", "report:1.0.0")...)
	if r.code == 0 || !strings.Contains(r.stderr, `ssm "report/token" is a relative path`) {
		t.Errorf("render with a relative SSM path: exit %d, stderr %q", r.code, r.stderr)
	}
}
