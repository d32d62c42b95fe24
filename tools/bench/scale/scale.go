// Package scale measures one cold deployer invocation against manifests of
// growing size (issue 17): N bindings, five of them bound to the pushed
// repository and sharing one template, one push. The deployer binary runs
// under the Lambda Runtime API (tools/bench/lambdart) against the sandbox;
// only the five pushed services exist in ECS, so what grows with N is the
// manifest the deployer reads, parses and plans with.
package scale

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
	"github.com/deckhand-ecs/deckhand/tools/bench/coldstart"
	"github.com/deckhand-ecs/deckhand/tools/bench/lambdart"
)

// Pushed is how many bindings the pushed repository feeds.
const Pushed = 5

const (
	cluster  = "scale"
	repo     = "pushed"
	template = `{"family": "{{ .Service }}", "containerDefinitions": [{"name": "app", "image": "{{ .Image }}", "essential": true,
  "environment": [{"name": "N", "value": "{{ .Vars.N }}"}]}]}`
)

// Manifest is deckhand.yaml with n bindings: the first Pushed bound to the
// pushed repository, every other one to a repository of its own.
func Manifest(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nservices:\n")
	for i := range n {
		r := repo
		if i >= Pushed {
			r = fmt.Sprintf("r%05d", i)
		}
		fmt.Fprintf(&b, "  - {name: s%05d, cluster: %s, service: s%05d, template: t.json, images: {app: {repository: %s, tags: \"semver:*\"}}, vars: {N: \"%d\"}}\n",
			i, cluster, i, r, i)
	}
	return []byte(b.String())
}

// Fixture is a sandbox holding an n-binding manifest, its template and the
// pushed repository's five services.
type Fixture struct {
	SB       *sandbox.Sandbox
	Bindings int
	Env      []string
	seq      int
	// group is the pushed repository's FIFO message group, the SQS
	// record's MessageGroupId.
	group string
}

// Setup uploads the manifest and template and creates the five pushed
// services on their first image.
func Setup(ctx context.Context, sb *sandbox.Sandbox, n int) (*Fixture, error) {
	cfg := sb.AWSConfig()
	s3c := s3.NewFromConfig(cfg, config.S3Options(sb.Endpoint()))
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(local.Bucket)}); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	for key, body := range map[string][]byte{"deckhand.yaml": Manifest(n), "t.json": []byte(template)} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(local.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			return nil, fmt.Errorf("upload %s: %w", key, err)
		}
	}
	ecsc := ecs.NewFromConfig(cfg)
	if _, err := ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		return nil, fmt.Errorf("create cluster: %w", err)
	}
	digest := sb.PushImageSilently(repo, "1.0.0")
	image := taskdef.Registry(sb.Account(), sb.Region()) + "/" + repo + "@" + digest
	for i := range Pushed {
		name := fmt.Sprintf("s%05d", i)
		td, err := ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(name),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true)}}})
		if err != nil {
			return nil, fmt.Errorf("register %s: %w", name, err)
		}
		if _, err := ecsc.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
			DesiredCount: aws.Int32(1), TaskDefinition: td.TaskDefinition.TaskDefinitionArn}); err != nil {
			return nil, fmt.Errorf("create service %s: %w", name, err)
		}
	}
	sb.Clock().Advance(2 * time.Minute)
	return &Fixture{SB: sb, Bindings: n, group: "scale", Env: []string{
		"AWS_ENDPOINT_URL=" + sb.Endpoint(), "AWS_REGION=" + sb.Region(), "DECKHAND_BUCKET=" + local.Bucket,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
	}}, nil
}

// push is an SQS batch with one fresh push to the pushed repository.
func (f *Fixture) push() []byte {
	f.seq++
	tag := fmt.Sprintf("1.1.%d", f.seq)
	digest := f.SB.PushImageSilently(repo, tag)
	f.SB.Clock().Advance(time.Second)
	raw, _ := json.Marshal(events.ImageActionEvent{
		Version: "0", ID: fmt.Sprintf("scale-%d", f.seq), DetailType: events.DetailTypeImageAction, Source: events.SourceECR,
		Account: f.SB.Account(), Region: f.SB.Region(), Time: f.SB.Clock().Now().Truncate(time.Second), Resources: []string{},
		Detail: events.ECRImageAction{Result: events.ResultSuccess, ActionType: events.ActionPush, RepositoryName: repo, ImageDigest: digest, ImageTag: tag},
	})
	ev := events.WrapSQS("arn:aws:sqs:us-west-2:123456789012:deckhand-deploy.fifo", f.group, raw)
	ev.Records[0].MessageId = fmt.Sprintf("scale-msg-%d", f.seq)
	out, _ := json.Marshal(ev)
	return out
}

// Launch is one cold deployer process handling one push.
type Launch struct {
	// Invocation is the first invocation alone: first response minus init.
	Invocation time.Duration
	lambdart.Launch
}

// Measure starts bin once (cold) and invokes it with one push; the push
// must deploy the five pushed bindings.
func Measure(ctx context.Context, f *Fixture, bin string) (Launch, error) {
	before := len(f.SB.ECS().UpdateHistory())
	l, err := lambdart.Run(ctx, bin, lambdart.Options{Env: f.Env, Payloads: [][]byte{f.push()}})
	if err != nil {
		return Launch{}, err
	}
	if l.Results[0].Error {
		return Launch{}, fmt.Errorf("%d bindings: the invocation answered an error: %s", f.Bindings, l.Results[0].Body)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(l.Results[0].Body, &resp); err != nil || len(resp.BatchItemFailures) > 0 {
		return Launch{}, fmt.Errorf("%d bindings: batch response %s (%v)", f.Bindings, l.Results[0].Body, err)
	}
	// Distinct services: an SDK retry of an UpdateService whose answer was
	// slow may update a service twice.
	updated := map[string]bool{}
	for _, u := range f.SB.ECS().UpdateHistory()[before:] {
		updated[u.Service] = true
	}
	if len(updated) != Pushed {
		return Launch{}, fmt.Errorf("%d bindings: %d services updated, want %d", f.Bindings, len(updated), Pushed)
	}
	return Launch{Invocation: l.FirstResponse - l.Init, Launch: l}, nil
}

// UseParts uploads the manifest's parts, one per FIFO message group
// (manifest.Parts), as the CDK app does (coldstart.UploadParts), and has the deployer read its
// group's (DECKHAND_MANIFEST_PARTS): pushes then come in the pushed
// repository's message group.
func (f *Fixture) UseParts(ctx context.Context) error {
	m, err := manifest.Parse("deckhand.yaml", Manifest(f.Bindings))
	if err != nil {
		return err
	}
	if err := coldstart.UploadParts(ctx, f.SB, m, ""); err != nil {
		return err
	}
	group, ok := m.GroupOf(repo)
	if !ok {
		return fmt.Errorf("repository %s has no message group", repo)
	}
	f.group = group
	f.Env = append(f.Env, "DECKHAND_MANIFEST_PARTS="+coldstart.PartsPrefix)
	return nil
}
