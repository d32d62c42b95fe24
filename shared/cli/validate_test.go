package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
)

func validateDir(t *testing.T, dir string) *ValidateReport {
	t.Helper()
	path := filepath.Join(dir, "deckhand.yaml")
	rep, err := Validate(context.Background(), store.Dir{ManifestPath: path}, path, "us-west-2")
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return rep
}

func fields(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, filepath.Base(f.File)+" "+f.Field)
	}
	return out
}

// TestValidateExamples: every binding and job of the examples validates,
// and so can run (the job cache-warm once had awsvpc without a network,
// which RunTask refuses).
func TestValidateExamples(t *testing.T) {
	rep := validateDir(t, filepath.Join("..", "..", "examples"))
	if !rep.OK() {
		t.Errorf("examples/deckhand.yaml has problems:\n%v", rep.Problems)
	}
	if rep.Templates != rep.Services+rep.Jobs {
		t.Errorf("rendered %d templates for %d services and %d jobs", rep.Templates, rep.Services, rep.Jobs)
	}
}

const validateRoles = "roles: [arn:aws:iam::123456789012:role/exec]\n"

// TestValidateListsEveryProblem: one run lists every problem of a template
// and every job RunTask would refuse, each at its path.
func TestValidateListsEveryProblem(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"deckhand.yaml": "version: 1\n" + validateRoles + `services:
  - name: web
    cluster: prod
    service: web
    template: web.json
    images: { web: { repository: web, tags: "*" } }
    vars: { LOG_LEVEL: info }
jobs:
  - name: warm
    schedule: rate(1 hour)
    cluster: prod
    template: warm.json
    images: { web: { fromService: web } }
`,
		"web.json": `{"family":"web","taskRoleArn":"arn:aws:iam::123456789012:role/admin","containerDefinitions":[
  {"name":"web","image":"{{ .Imgae }}","environment":[{"name":"L","value":"{{ .Vars.LOG_LEVL }}"}]},
  {"name":"side","image":"nginx:1.27","privileged":true}]}`,
		"warm.json": `{"family":"warm","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512",
  "containerDefinitions":[{"name":"web","image":"{{ .Image }}"}]}`,
	})
	rep := validateDir(t, dir)
	want := []string{
		"web.json $.containerDefinitions[0].environment[0].value", "web.json $.containerDefinitions[0].image",
		"web.json $.taskRoleArn", "web.json $.containerDefinitions[1].privileged", "web.json $.containerDefinitions[1].image",
		"warm.json $.networkMode",
	}
	if diff := cmp.Diff(want, fields(rep.Problems)); diff != "" {
		t.Errorf("problems (-want +got):\n%s\n%v", diff, rep.Problems)
	}
	for _, w := range []string{"did you mean .Image?", "did you mean LOG_LEVEL?", "allow: { privileged: true }", "allow: { registries: [docker.io] }",
		"job warm: networkMode awsvpc needs a network configuration"} {
		if !strings.Contains(joinFindings(rep.Problems), w) {
			t.Errorf("no problem says %q:\n%s", w, joinFindings(rep.Problems))
		}
	}
}

// TestValidateJobWithoutImages: a job may omit images:, and then its
// images run as written: a mutable tag is warned about, a digest is not.
func TestValidateJobWithoutImages(t *testing.T) {
	const ecr = "123456789012.dkr.ecr.us-west-2.amazonaws.com/tool"
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tmpl := func(image string) string {
		return `{"family":"tool","containerDefinitions":[{"name":"tool","image":"` + image + `"}]}`
	}
	dir := writeFiles(t, map[string]string{
		"deckhand.yaml": "version: 1\n" + validateRoles + `jobs:
  - { name: tagged, schedule: rate(1 hour), cluster: prod, template: tagged.json }
  - { name: pinned, schedule: rate(1 hour), cluster: prod, template: pinned.json, overrides: { container: tool, command: [./x] } }
`,
		"tagged.json": tmpl(ecr + ":latest"),
		"pinned.json": tmpl(ecr + "@" + digest),
	})
	rep := validateDir(t, dir)
	if !rep.OK() {
		t.Fatalf("problems: %v", rep.Problems)
	}
	if diff := cmp.Diff([]string{"tagged.json $.containerDefinitions[0].image"}, fields(rep.Warnings)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s\n%v", diff, rep.Warnings)
	}
	if rep.Templates != 2 {
		t.Errorf("rendered %d templates, want both jobs'", rep.Templates)
	}
}

// TestValidateAllow: the binding's allow: is what lets a template raise a
// privilege, in validate as in the deployer.
func TestValidateAllow(t *testing.T) {
	manifest := func(allow string) string {
		return "version: 1\n" + validateRoles + `services:
  - name: agent
    cluster: prod
    service: agent
    template: agent.json
    images: { agent: { repository: agent, tags: "*" } }
` + allow
	}
	tmpl := `{"family":"agent","pidMode":"host","volumes":[{"name":"sock","host":{"sourcePath":"/var/run/docker.sock"}}],"containerDefinitions":[
  {"name":"agent","image":"{{ .Image }}","privileged":true},
  {"name":"log","image":"public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]}`
	denied := validateDir(t, writeFiles(t, map[string]string{"deckhand.yaml": manifest(""), "agent.json": tmpl}))
	want := []string{"agent.json $.pidMode", "agent.json $.volumes[0].host.sourcePath", "agent.json $.containerDefinitions[0].privileged", "agent.json $.containerDefinitions[1].image"}
	if diff := cmp.Diff(want, fields(denied.Problems)); diff != "" {
		t.Errorf("without allow: problems (-want +got):\n%s", diff)
	}
	allowed := validateDir(t, writeFiles(t, map[string]string{"deckhand.yaml": manifest(
		"    allow: { privileged: true, hostPID: true, hostPaths: [/var/run/docker.sock], registries: [public.ecr.aws/aws-observability] }\n"), "agent.json": tmpl}))
	if !allowed.OK() {
		t.Errorf("with allow: problems %v", allowed.Problems)
	}
}

func joinFindings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}
