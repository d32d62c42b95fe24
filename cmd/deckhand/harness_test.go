package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

const examples = "../../examples"

// result is one CLI invocation.
type result struct {
	code           int
	stdout, stderr string
}

// deckhand runs the CLI in-process with an empty environment.
func deckhand(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, func(string) string { return "" })
	t.Logf("deckhand %s → %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// world is a sandbox seeded from examples/: the bucket with the manifest
// and templates, cluster prod, images pushed, and services web, api,
// worker, checkout and search running a bootstrap revision (not Deckhand's).
type world struct {
	sb      *sandbox.Sandbox
	ecs     *ecs.Client
	digests map[string]string // repo:tag → digest
}

// args returns the global flags aimed at the sandbox, then extra.
func (w *world) args(extra ...string) []string {
	return append(extra, "--endpoint-url", w.sb.Endpoint(), "--region", "us-west-2", "--manifest", "s3://deckhand/deckhand.yaml")
}

// argsWith is args with a local manifest in place of the bucket's.
func (w *world) argsWith(manifest string, extra ...string) []string {
	return append(extra, "--endpoint-url", w.sb.Endpoint(), "--region", "us-west-2", "--manifest", manifest)
}

// localManifest writes examples/deckhand.yaml with services appended (YAML
// list items) and the example templates to a temporary directory, and
// returns the manifest's path.
func localManifest(t *testing.T, services string) string {
	t.Helper()
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(examples, "deckhand.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(raw), "\njobs:\n", "\n"+services+"jobs:\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "deckhand.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "templates"), os.DirFS(filepath.Join(examples, "templates"))); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "deckhand.yaml")
}

func (w *world) push(repo, tag string) string {
	d := w.sb.PushImage(repo, tag)
	w.digests[repo+":"+tag] = d
	return d
}

func seed(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	sb := sandboxtest.Start(t)
	cfg := sb.AWSConfig()
	w := &world{sb: sb, ecs: ecs.NewFromConfig(cfg), digests: map[string]string{}}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("deckhand")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(examples, "templates", "*.json"))
	files = append(files, filepath.Join(examples, "deckhand.yaml"))
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := filepath.Rel(examples, f)
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("deckhand"), Key: aws.String(filepath.ToSlash(key)), Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	if _, err := w.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	// What examples/templates/web.json names with {{ ssm }}.
	if _, err := sb.PutParameter("", "", "/web/database-url", "SecureString", "postgres://db/web"); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"web:1.0.0", "proxy:stable-1", "api:2.0.0", "worker:release-1", "report:1.0.0", "checkout:1.0.0", "search:1.0.0"} {
		repo, tag, _ := strings.Cut(ref, ":")
		w.push(repo, tag)
	}
	src := store.Dir{ManifestPath: filepath.Join(examples, "deckhand.yaml")}
	for name, imgs := range map[string][]string{"web": {"web:1.0.0", "proxy:stable-1"}, "api": {"api:2.0.0", "proxy:stable-1"}, "worker": {"worker:release-1"},
		"checkout": {"checkout:1.0.0"}, "search": {"search:1.0.0"}} {
		req := cli.RenderRequest{Name: name, Account: sb.Account(), Region: sb.Region()}
		for _, ref := range imgs {
			r, err := cli.ParseImageRef(ref)
			if err != nil {
				t.Fatal(err)
			}
			res, err := cli.OfflineImage(r, w.digests[ref], "")
			if err != nil {
				t.Fatal(err)
			}
			req.Images = append(req.Images, res)
		}
		rendered, err := cli.Render(ctx, src, req)
		if err != nil {
			t.Fatalf("render bootstrap %s: %v", name, err)
		}
		td, err := w.ecs.RegisterTaskDefinition(ctx, rendered.Rendered.Input)
		if err != nil {
			t.Fatalf("register bootstrap %s: %v", name, err)
		}
		if _, err := w.ecs.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String("prod"), ServiceName: aws.String(name), DesiredCount: aws.Int32(2),
			TaskDefinition: td.TaskDefinition.TaskDefinitionArn, LaunchType: ecstypes.LaunchTypeFargate,
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}},
			LoadBalancers:        blueGreenLB(name),
		}); err != nil {
			t.Fatalf("create service %s: %v", name, err)
		}
	}
	// Let the bootstrap rollouts complete.
	sb.Clock().Advance(60e9)
	return w
}

// service returns the web service as ECS describes it.
func (w *world) service(t *testing.T, name string) ecstypes.Service {
	t.Helper()
	out, err := w.ecs.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{name},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("describe service %s: %v", name, err)
	}
	return out.Services[0]
}

// image returns the image a service's revision runs in container c.
func (w *world) image(t *testing.T, name, c string) string {
	t.Helper()
	svc := w.service(t, name)
	td, err := w.ecs.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: svc.TaskDefinition})
	if err != nil {
		t.Fatal(err)
	}
	for _, cd := range td.TaskDefinition.ContainerDefinitions {
		if aws.ToString(cd.Name) == c {
			return aws.ToString(cd.Image)
		}
	}
	t.Fatalf("%s has no container %s", aws.ToString(svc.TaskDefinition), c)
	return ""
}

// blueGreenLB is the load balancer ECS's blue/green, linear and canary
// deployments need (an alternate target group, a production listener
// rule), for the example's progressive services.
func blueGreenLB(service string) []ecstypes.LoadBalancer {
	if service != "checkout" && service != "search" {
		return nil
	}
	elb := "arn:aws:elasticloadbalancing:us-west-2:123456789012:"
	return []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(elb + "targetgroup/" + service + "-blue/1"), ContainerName: aws.String(service), ContainerPort: aws.Int32(80),
		AdvancedConfiguration: &ecstypes.AdvancedConfiguration{AlternateTargetGroupArn: aws.String(elb + "targetgroup/" + service + "-green/2"),
			ProductionListenerRule: aws.String(elb + "listener-rule/app/prod/1/2/3")}}}
}
