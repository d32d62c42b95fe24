package sandbox_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// The compatibility suite: the sandbox server driven by clients Deckhand
// did not write, the AWS CLI (v1, botocore) here and boto3 in
// compat_boto3_test.go. Each case is named after the AWS behaviour it pins.

// cliTaskDef is a Fargate task definition for the AWS CLI.
func cliTaskDef(family, image string) string {
	return fmt.Sprintf(`{"family":%q,"networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512",`+
		`"containerDefinitions":[{"name":"app","image":%q,"portMappings":[{"containerPort":8080}]}]}`, family, image)
}

const cliNetwork = "awsvpcConfiguration={subnets=[subnet-1],securityGroups=[sg-1]}"

func strs(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestAWSCLICompatibility(t *testing.T) {
	c := start(t)
	cli := newAWSCLI(t, c.sb.Endpoint())

	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeClusters.html
	t.Run("ListTasks and DescribeTasks show a service's tasks, started by its deployment, counted by DescribeClusters", func(t *testing.T) {
		cli := *cli
		cli.t = t
		cli.json("ecs", "create-cluster", "--cluster-name", "compat")
		cli.json("ecs", "register-task-definition", "--cli-input-json", cliTaskDef("web", "repo/web@sha256:one"))
		created := cli.json("ecs", "create-service", "--cluster", "compat", "--service-name", "web", "--task-definition", "web:1",
			"--desired-count", "2", "--launch-type", "FARGATE", "--network-configuration", cliNetwork)
		deployment := path(t, created, "service", "deployments", 0, "id").(string)
		c.sb.Clock().Advance(time.Minute)
		arns := strs(t, path(t, cli.json("ecs", "list-tasks", "--cluster", "compat", "--service-name", "web"), "taskArns"))
		if len(arns) != 2 {
			t.Fatalf("list-tasks --service-name web = %v, want 2 tasks", arns)
		}
		tasks := cli.json("ecs", "describe-tasks", "--cluster", "compat", "--tasks", arns[0], arns[1])
		for i := range 2 {
			got := fmt.Sprint(path(t, tasks, "tasks", i, "startedBy"), " ", path(t, tasks, "tasks", i, "group"), " ", path(t, tasks, "tasks", i, "lastStatus"))
			if want := deployment + " service:web RUNNING"; got != want {
				t.Errorf("task %d: %s, want %s", i, got, want)
			}
		}
		cluster := cli.json("ecs", "describe-clusters", "--clusters", "compat")
		if got := path(t, cluster, "clusters", 0, "runningTasksCount"); got != 2.0 {
			t.Errorf("describe-clusters runningTasksCount = %v, want 2", got)
		}
	})

	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
	t.Run("a rolling update replaces a service's tasks and stops the old ones", func(t *testing.T) {
		cli := *cli
		cli.t = t
		old := strs(t, path(t, cli.json("ecs", "list-tasks", "--cluster", "compat", "--service-name", "web"), "taskArns"))
		cli.json("ecs", "register-task-definition", "--cli-input-json", cliTaskDef("web", "repo/web@sha256:two"))
		cli.json("ecs", "update-service", "--cluster", "compat", "--service", "web", "--task-definition", "web:2")
		c.sb.Clock().Advance(time.Minute)
		now := strs(t, path(t, cli.json("ecs", "list-tasks", "--cluster", "compat", "--service-name", "web"), "taskArns"))
		stopped := strs(t, path(t, cli.json("ecs", "list-tasks", "--cluster", "compat", "--service-name", "web", "--desired-status", "STOPPED"), "taskArns"))
		if len(old) != 2 || len(now) != 2 || slices.Contains(now, old[0]) || slices.Contains(now, old[1]) ||
			!slices.Contains(stopped, old[0]) || !slices.Contains(stopped, old[1]) {
			t.Fatalf("after the rollout: running %v, stopped %v; old %v", now, stopped, old)
		}
		tasks := cli.json("ecs", "describe-tasks", "--cluster", "compat", "--tasks", now[0], old[0])
		if got := []any{path(t, tasks, "tasks", 0, "taskDefinitionArn"), path(t, tasks, "tasks", 1, "stopCode")}; !strings.HasSuffix(got[0].(string), "web:2") || got[1] != "ServiceSchedulerInitiated" {
			t.Errorf("new task's revision, old task's stop code = %v", got)
		}
	})

	t.Run("S3", func(t *testing.T) {
		t.Parallel()
		cli := *cli
		cli.t = t
		file := filepath.Join(cli.dir, "web.json")
		if err := os.WriteFile(file, []byte(`{"family":"web"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		cli.json("s3api", "create-bucket", "--bucket", "compat")
		put := cli.json("s3api", "put-object", "--bucket", "compat", "--key", "web.json", "--body", file)
		etag := path(t, put, "ETag").(string)
		out := filepath.Join(cli.dir, "out")

		// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax (If-None-Match)
		t.Run("GetObject with the current ETag in If-None-Match is 304 Not Modified", func(t *testing.T) {
			cli := cli
			cli.t = t
			stderr := cli.fail("s3api", "get-object", "--bucket", "compat", "--key", "web.json", "--if-none-match", etag, out)
			if !strings.Contains(stderr, "(304)") || strings.Contains(stderr, "Traceback") {
				t.Errorf("stderr %q, want a 304 error", stderr)
			}
		})
		// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax (If-Match)
		t.Run("GetObject with a stale ETag in If-Match is 412 PreconditionFailed", func(t *testing.T) {
			cli := cli
			cli.t = t
			stderr := cli.fail("s3api", "get-object", "--bucket", "compat", "--key", "web.json", "--if-match", `"0123"`, out)
			if !strings.Contains(stderr, "(PreconditionFailed)") {
				t.Errorf("stderr %q, want PreconditionFailed", stderr)
			}
		})
		// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax (If-Unmodified-Since)
		t.Run("GetObject with If-Unmodified-Since in the past is 412 PreconditionFailed", func(t *testing.T) {
			cli := cli
			cli.t = t
			stderr := cli.fail("s3api", "get-object", "--bucket", "compat", "--key", "web.json", "--if-unmodified-since", "2001-01-01T00:00:00Z", out)
			if !strings.Contains(stderr, "(PreconditionFailed)") {
				t.Errorf("stderr %q, want PreconditionFailed", stderr)
			}
		})
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
		t.Run("GetObject in checksum mode returns and validates the uploaded checksum", func(t *testing.T) {
			cli := cli
			cli.t = t
			got := cli.json("s3api", "get-object", "--bucket", "compat", "--key", "web.json", "--checksum-mode", "ENABLED", out)
			body, _ := os.ReadFile(out)
			if got["ChecksumCRC32"] == nil || got["ChecksumCRC32"] != put["ChecksumCRC32"] || string(body) != `{"family":"web"}` {
				t.Errorf("get-object = %v, body %q; want the uploaded CRC32 %v", got, body, put["ChecksumCRC32"])
			}
		})
		// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
		t.Run("ListObjectVersions pages with NextKeyMarker and NextVersionIdMarker", func(t *testing.T) {
			cli := cli
			cli.t = t
			want := putVersions(t, c, "compat-versions", []string{"a.json", "b.json"}, 3)
			got := cli.json("s3api", "list-object-versions", "--bucket", "compat-versions", "--page-size", "2")
			var listed []string
			for i := range len(got["Versions"].([]any)) {
				listed = append(listed, fmt.Sprint(path(t, got, "Versions", i, "Key"), "@", path(t, got, "Versions", i, "VersionId")))
			}
			if !slices.Equal(want, listed) {
				t.Errorf("list-object-versions --page-size 2 = %v, want every version, newest first: %v", listed, want)
			}
		})
	})

	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html
	t.Run("a service the sandbox does not emulate answers NotImplemented in its own protocol", func(t *testing.T) {
		t.Parallel()
		cli := *cli
		cli.t = t
		for _, args := range [][]string{
			{"application-autoscaling", "describe-scalable-targets", "--service-namespace", "ecs"},
			{"servicediscovery", "list-namespaces"},
			{"cloudformation", "describe-stacks"},
		} {
			if stderr := cli.fail(args...); !strings.Contains(stderr, "(NotImplemented)") || !strings.Contains(stderr, "does not emulate") {
				t.Errorf("aws %s: stderr %q, want a parsed NotImplemented error", strings.Join(args, " "), stderr)
			}
		}
		for _, want := range []sandbox.Call{
			{Service: "application-autoscaling", Op: "DescribeScalableTargets", Status: 501},
			{Service: "servicediscovery", Op: "ListNamespaces", Status: 501},
			{Service: "cloudformation", Op: "DescribeStacks", Status: 501},
		} {
			if !slices.ContainsFunc(c.sb.Calls(), func(got sandbox.Call) bool {
				return got.Service == want.Service && got.Op == want.Op && got.Status == want.Status
			}) {
				t.Errorf("no call %+v recorded", want)
			}
		}
	})
}

// putVersions puts n versions of each key into a new bucket through the Go
// SDK and returns key@version for each, in S3's listing order: keys in
// order, each key's versions newest first.
func putVersions(t *testing.T, c clients, bucket string, keys []string, n int) []string {
	t.Helper()
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, key := range keys {
		var ids []string
		for i := range n {
			out, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(fmt.Sprint(i))})
			if err != nil {
				t.Fatal(err)
			}
			ids = append([]string{key + "@" + aws.ToString(out.VersionId)}, ids...)
		}
		want = append(want, ids...)
	}
	return want
}
