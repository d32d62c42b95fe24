package sandbox_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

// TestBoto3Compatibility drives the sandbox server through boto3, whose
// botocore validates S3 checksums and follows paginators by their tokens.
// Each script exercises one AWS behaviour and prints what it saw.
func TestBoto3Compatibility(t *testing.T) {
	c := start(t)
	py := newBoto3(t, c.sb.Endpoint())

	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html (startedBy, group)
	// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
	t.Run("a service's tasks are listed and described, and replaced by a rolling update", func(t *testing.T) {
		py := *py
		py.t = t
		got := py.run(`
ecs = client("ecs")
ecs.create_cluster(clusterName="boto")
def td(image):
    return ecs.register_task_definition(family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="256", memory="512", containerDefinitions=[{"name": "api", "image": image}])
td("repo/api@sha256:one")
net = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
svc = ecs.create_service(cluster="boto", serviceName="api", taskDefinition="api:1", desiredCount=3,
    launchType="FARGATE", networkConfiguration=net)["service"]
first = svc["deployments"][0]["id"]
advance(60)
arns = ecs.list_tasks(cluster="boto", serviceName="api")["taskArns"]
tasks = ecs.describe_tasks(cluster="boto", tasks=arns)["tasks"]
out["listed"] = len(arns)
out["described"] = sorted({"%s %s %s" % (t["startedBy"] == first, t["group"], t["lastStatus"]) for t in tasks})
out["cluster running"] = ecs.describe_clusters(clusters=["boto"])["clusters"][0]["runningTasksCount"]
td("repo/api@sha256:two")
ecs.update_service(cluster="boto", service="api", taskDefinition="api:2")
advance(60)
now = ecs.list_tasks(cluster="boto", serviceName="api")["taskArns"]
out["replaced"] = len(now) == 3 and not set(now) & set(arns)
pages = ecs.get_paginator("list_tasks").paginate(cluster="boto", serviceName="api", desiredStatus="STOPPED",
    PaginationConfig={"PageSize": 2})
stopped = [a for p in pages for a in p["taskArns"]]
out["old ones stopped"] = set(arns) <= set(stopped)
out["stop codes"] = sorted({t["stopCode"] for t in ecs.describe_tasks(cluster="boto", tasks=arns)["tasks"]})
`)
		want := map[string]any{
			"listed": 3.0, "described": []any{"True service:api RUNNING"}, "cluster running": 3.0,
			"replaced": true, "old ones stopped": true, "stop codes": []any{"ServiceSchedulerInitiated"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (If-None-Match, If-Match, If-Unmodified-Since)
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
	t.Run("S3 conditional reads answer 304 and 412, and checksum-mode reads validate", func(t *testing.T) {
		t.Parallel()
		py := *py
		py.t = t
		got := py.run(`
import datetime
s3 = client("s3")
s3.create_bucket(Bucket="boto-reads")
put = s3.put_object(Bucket="boto-reads", Key="t.json", Body=b'{"family":"t"}', ChecksumAlgorithm="CRC32")
etag = put["ETag"]
get = lambda **kw: s3.get_object(Bucket="boto-reads", Key="t.json", **kw)["Body"].read()
out["If-None-Match current"] = code(lambda: get(IfNoneMatch=etag))
out["If-Match stale"] = code(lambda: get(IfMatch='"0123"'))
out["If-Unmodified-Since 2001"] = code(lambda: get(IfUnmodifiedSince=datetime.datetime(2001, 1, 1)))
out["If-Match current"] = code(lambda: get(IfMatch=etag))
checked = s3.get_object(Bucket="boto-reads", Key="t.json", ChecksumMode="ENABLED")
out["checksum"] = checked.get("ChecksumCRC32") == put.get("ChecksumCRC32") != None
out["body"] = checked["Body"].read().decode()
# botocore asks for checksums on every GetObject unless told to only when required
lazy = session.client("s3", endpoint_url=ep, config=cfg.merge(botocore.config.Config(response_checksum_validation="when_required")))
plain = lazy.get_object(Bucket="boto-reads", Key="t.json")
out["headers without checksum mode"] = sorted(h for h in plain["ResponseMetadata"]["HTTPHeaders"]
    if h.startswith("x-amz-checksum") or h in ("x-amz-date", "x-amz-content-sha256", "x-amz-sdk-checksum-algorithm"))
`)
		want := map[string]any{
			"If-None-Match current": "304", "If-Match stale": "PreconditionFailed", "If-Unmodified-Since 2001": "PreconditionFailed",
			"If-Match current": "ok", "checksum": true, "body": `{"family":"t"}`, "headers without checksum mode": []any{},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
	t.Run("S3 ListObjectVersions pages with NextKeyMarker and NextVersionIdMarker", func(t *testing.T) {
		t.Parallel()
		py := *py
		py.t = t
		want := putVersions(t, c, "boto-versions", []string{"a.json", "b.json", "c.json"}, 2)
		got := py.run(`
s3 = client("s3")
pages = s3.get_paginator("list_object_versions").paginate(Bucket="boto-versions", PaginationConfig={"PageSize": 4})
out["versions"] = [v["Key"] + "@" + v["VersionId"] for p in pages for v in p.get("Versions", [])]
`)
		var listed []string
		for _, v := range got["versions"].([]any) {
			listed = append(listed, v.(string))
		}
		if !slices.Equal(want, listed) {
			t.Errorf("paginated versions %v, want %v", listed, want)
		}
	})

	// https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization
	// https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#operation-error-serialization
	t.Run("a service the sandbox does not emulate answers NotImplemented in its own protocol", func(t *testing.T) {
		t.Parallel()
		py := *py
		py.t = t
		got := py.run(`
out["application-autoscaling"] = code(lambda: client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs"))
out["servicediscovery"] = code(lambda: client("servicediscovery").list_namespaces())
out["cloudformation"] = code(lambda: client("cloudformation").describe_stacks())
out["elbv2"] = code(lambda: client("elbv2").describe_target_groups())
`)
		want := map[string]any{"application-autoscaling": "NotImplemented", "servicediscovery": "NotImplemented", "cloudformation": "NotImplemented", "elbv2": "NotImplemented"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		var recorded []string
		for _, call := range c.sb.Calls() {
			if call.Status == 501 {
				recorded = append(recorded, call.Service+" "+call.Op)
			}
		}
		slices.Sort(recorded)
		wantCalls := []string{"application-autoscaling DescribeScalableTargets", "cloudformation DescribeStacks", "elasticloadbalancing DescribeTargetGroups", "servicediscovery ListNamespaces"}
		if diff := cmp.Diff(wantCalls, recorded); diff != "" {
			t.Errorf("calls recorded with 501 (-want +got):\n%s", diff)
		}
		for _, call := range c.sb.Calls() {
			if call.Service == sandbox.ServiceS3 && strings.HasPrefix(call.Op, "ListBuckets") {
				t.Errorf("an unsupported service was recorded as %s", fmt.Sprint(call))
			}
		}
	})
}
