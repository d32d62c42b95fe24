package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-ecs/deckhand/events"
)

// awsCLI runs the installed AWS CLI against one sandbox, with dummy
// credentials, an empty config and --endpoint-url passed explicitly (the CLI
// v1 does not honour AWS_ENDPOINT_URL for every service).
type awsCLI struct {
	t        *testing.T
	bin      string
	endpoint string
	env      []string
	dir      string
}

func newAWSCLI(t *testing.T, endpoint string) *awsCLI {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not found; install awscli to run the independent-client test")
	}
	bin = resolveShim(bin)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-west-2", "AWS_REGION=us-west-2",
		"AWS_CONFIG_FILE=" + empty, "AWS_SHARED_CREDENTIALS_FILE=" + empty,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1",
	}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION", "PYTHONPATH", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return &awsCLI{t: t, bin: bin, endpoint: endpoint, env: env, dir: dir}
}

// resolveShim replaces a pyenv shim with the executable it runs: the shim
// costs about half a second per command.
func resolveShim(bin string) string {
	if filepath.Base(filepath.Dir(bin)) != "shims" {
		return bin
	}
	out, err := exec.Command("pyenv", "which", "aws").Output()
	if err != nil {
		return bin
	}
	if real := strings.TrimSpace(string(out)); real != "" {
		return real
	}
	return bin
}

// run runs one command and returns its standard output. The command gets
// no deadline of its own (a busy machine starts Python slowly); go test's
// -timeout catches a hang.
func (a *awsCLI) run(args ...string) string {
	a.t.Helper()
	args = append(args, "--endpoint-url", a.endpoint, "--output", "json")
	cmd := exec.CommandContext(a.t.Context(), a.bin, args...)
	cmd.Env, cmd.Dir = a.env, a.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		a.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// json runs a command and decodes its JSON output.
func (a *awsCLI) json(args ...string) map[string]any {
	a.t.Helper()
	out := a.run(args...)
	var v map[string]any
	if strings.TrimSpace(out) == "" {
		return v
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		a.t.Fatalf("aws %s: decode output: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}

// path digs into decoded JSON: path(v, "services", 0, "status").
func path(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at [%d]: not a long enough list: %v", k, v)
			}
			v = l[k]
		}
	}
	return v
}

func TestAWSCLI(t *testing.T) {
	c := start(t)
	cli := newAWSCLI(t, c.sb.Endpoint())

	td := func(family, image string) string {
		return fmt.Sprintf(`{"family":%q,"containerDefinitions":[{"name":"app","image":%q,"essential":true}],"cpu":"256","memory":"512"}`, family, image)
	}
	t.Run("ecs services", func(t *testing.T) {
		t.Parallel()
		cli := *cli
		cli.t = t
		cli.json("ecs", "create-cluster", "--cluster-name", "prod")
		reg := cli.json("ecs", "register-task-definition", "--cli-input-json", td("web", "123456789012.dkr.ecr.us-west-2.amazonaws.com/web:1.0"))
		arn := path(t, reg, "taskDefinition", "taskDefinitionArn").(string)
		if !strings.HasSuffix(arn, ":task-definition/web:1") {
			t.Errorf("task definition ARN = %s", arn)
		}
		desc := cli.json("ecs", "describe-task-definition", "--task-definition", "web")
		if got := path(t, desc, "taskDefinition", "containerDefinitions", 0, "image"); got != "123456789012.dkr.ecr.us-west-2.amazonaws.com/web:1.0" {
			t.Errorf("image = %v", got)
		}
		cli.json("ecs", "create-service", "--cluster", "prod", "--service-name", "web", "--task-definition", "web:1", "--desired-count", "2")
		cli.json("ecs", "register-task-definition", "--cli-input-json", td("web", "123456789012.dkr.ecr.us-west-2.amazonaws.com/web:1.1"))
		upd := cli.json("ecs", "update-service", "--cluster", "prod", "--service", "web", "--task-definition", "web:2")
		if got := path(t, upd, "service", "taskDefinition"); !strings.HasSuffix(got.(string), "web:2") {
			t.Errorf("updated task definition = %v", got)
		}
		svc := cli.json("ecs", "describe-services", "--cluster", "prod", "--services", "web")
		if got := path(t, svc, "services", 0, "deployments", 0, "status"); got != "PRIMARY" {
			t.Errorf("first deployment status = %v", got)
		}
	})

	t.Run("ecs tasks", func(t *testing.T) {
		t.Parallel()
		cli := *cli
		cli.t = t
		cli.json("ecs", "create-cluster", "--cluster-name", "jobs")
		cli.json("ecs", "register-task-definition", "--cli-input-json", td("report", "123456789012.dkr.ecr.us-west-2.amazonaws.com/report:1.0"))
		run := cli.json("ecs", "run-task", "--cluster", "jobs", "--task-definition", "report", "--started-by", "cli-test")
		task := path(t, run, "tasks", 0, "taskArn").(string)
		list := cli.json("ecs", "list-tasks", "--cluster", "jobs", "--started-by", "cli-test")
		if got := path(t, list, "taskArns"); len(got.([]any)) != 1 || got.([]any)[0] != task {
			t.Errorf("list-tasks = %v, want [%s]", got, task)
		}
		tasks := cli.json("ecs", "describe-tasks", "--cluster", "jobs", "--tasks", task)
		if got := path(t, tasks, "tasks", 0, "startedBy"); got != "cli-test" {
			t.Errorf("startedBy = %v", got)
		}
	})

	t.Run("ecr", func(t *testing.T) {
		t.Parallel()
		cli := *cli
		cli.t = t
		cli.json("ecr", "create-repository", "--repository-name", "cli-web")
		manifest := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:01"},"layers":[]}`
		put := cli.json("ecr", "put-image", "--repository-name", "cli-web", "--image-tag", "1.0", "--image-manifest", manifest)
		digest := path(t, put, "image", "imageId", "imageDigest").(string)
		if digest != digestOf(manifest) {
			t.Errorf("digest = %s, want %s", digest, digestOf(manifest))
		}
		desc := cli.json("ecr", "describe-images", "--repository-name", "cli-web")
		if got := path(t, desc, "imageDetails", 0, "imageTags", 0); got != "1.0" {
			t.Errorf("tag = %v", got)
		}
		// The CLI v1 prints timestamps as the wire's epoch seconds.
		if got, want := path(t, desc, "imageDetails", 0, "imagePushedAt"), float64(c.sb.Clock().Now().Unix()); got != want {
			t.Errorf("imagePushedAt = %v, want %v", got, want)
		}
	})

	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		cli := *cli
		cli.t = t
		file := filepath.Join(cli.dir, "deckhand.yaml")
		if err := os.WriteFile(file, []byte("version: 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cli.run("s3", "mb", "s3://cli-bucket")
		cli.run("s3", "cp", file, "s3://cli-bucket/config/deckhand.yaml")
		ls := cli.run("s3", "ls", "s3://cli-bucket/config/")
		if !strings.Contains(ls, "deckhand.yaml") || !strings.Contains(ls, " 11 ") {
			t.Errorf("s3 ls = %q", ls)
		}
	})

	t.Run("sqs", func(t *testing.T) {
		t.Parallel()
		cli := *cli
		cli.t = t
		q := cli.json("sqs", "create-queue", "--queue-name", "cli.fifo", "--attributes", "FifoQueue=true,ContentBasedDeduplication=true")
		url := path(t, q, "QueueUrl").(string)
		cli.json("sqs", "send-message", "--queue-url", url, "--message-body", "hello", "--message-group-id", "g")
		got := cli.json("sqs", "receive-message", "--queue-url", url, "--attribute-names", "All")
		if path(t, got, "Messages", 0, "Body") != "hello" || path(t, got, "Messages", 0, "Attributes", "MessageGroupId") != "g" {
			t.Errorf("receive-message = %v", got)
		}
	})

	t.Run("events", func(t *testing.T) {
		t.Parallel()
		cli := *cli
		cli.t = t
		out := cli.json("events", "put-events", "--entries",
			`[{"Source":"deckhand","DetailType":"Deckhand Job State Change","Detail":"{\"status\":\"SUCCEEDED\"}"}]`)
		if path(t, out, "FailedEntryCount") != 0.0 {
			t.Errorf("put-events = %v", out)
		}
	})

	t.Cleanup(func() {
		n := 0
		for _, ev := range c.sb.Events() {
			if ev.Source == "deckhand" || ev.Source == events.SourceECR {
				n++
			}
		}
		if !t.Failed() && n != 2 {
			t.Errorf("bus has %d deckhand/ECR events, want 2 (put-events and put-image)", n)
		}
	})
}
