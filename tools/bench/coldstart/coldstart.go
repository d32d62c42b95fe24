// Package coldstart measures a function binary's start under the Lambda
// Runtime API (tools/bench/lambdart) against the in-process sandbox: time to the
// first `next`, time to the first response, peak RSS, and the AWS calls made
// before the first invocation (there must be none).
package coldstart

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/tools/bench/lambdart"
)

// Services is how many bindings the fixture has; Batch pushes to each.
const Services = 10

// Fixture is a seeded sandbox and the deployer's environment for it.
type Fixture struct {
	SB    *sandbox.Sandbox
	Stack *local.Stack
	// Snapshot is the deployer's snapshot of the bucket (DECKHAND_SNAPSHOT):
	// the directory the manifest and template were uploaded from.
	Snapshot string
	Env      []string
	seq      int
	// groups is each repository's FIFO message group, which Batch puts
	// its pushes in, as the deploy queue's rules do.
	groups map[string]string
}

// PartsPrefix is where the fixture puts the manifest's parts, as the CDK
// app does (infra.PartsPrefix): in the bucket and in the snapshot.
const PartsPrefix = "deckhand.parts/"

// Setup seeds sb (listening) with Services single-container bindings.
func Setup(ctx context.Context, sb *sandbox.Sandbox, dir string) (*Fixture, error) {
	return SetupWith(ctx, sb, dir, "")
}

// SetupWith is Setup with deployment (a deployment: block in YAML flow
// style, "" for none) on every binding.
func SetupWith(ctx context.Context, sb *sandbox.Sandbox, dir, deployment string) (*Fixture, error) {
	var m strings.Builder
	m.WriteString("version: 1\nservices:\n")
	initial := map[string]string{}
	if deployment != "" {
		deployment = ", deployment: " + deployment
	}
	for i := range Services {
		fmt.Fprintf(&m, "  - {name: svc%d, cluster: bench, service: svc%d, template: t.json, images: {app: {repository: r%d, tags: \"semver:*\"}}%s}\n", i, i, i, deployment)
		initial[fmt.Sprintf("r%d", i)] = "1.0.0"
	}
	tmpl := `{"family": "{{ .Service }}", "containerDefinitions": [{"name": "app", "image": "{{ .Image }}", "essential": true}]}`
	if err := os.WriteFile(filepath.Join(dir, "t.json"), []byte(tmpl), 0o644); err != nil {
		return nil, err
	}
	// The deployer's snapshot (infra/snapshot.go) holds the objects as
	// uploaded: dir does, once it holds the manifest too.
	if err := os.WriteFile(filepath.Join(dir, "deckhand.yaml"), []byte(m.String()), 0o644); err != nil {
		return nil, err
	}
	snapshot, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := local.New(ctx, sb, local.Options{Dir: dir, InitialTags: initial, DesiredCount: 1})
	if err != nil {
		return nil, err
	}
	parsed, err := manifest.Parse("deckhand.yaml", []byte(m.String()))
	if err != nil {
		return nil, err
	}
	if err := UploadParts(ctx, sb, parsed, dir); err != nil {
		return nil, err
	}
	groups := map[string]string{}
	for repo := range initial {
		if g, ok := parsed.GroupOf(repo); ok {
			groups[repo] = g
		}
	}
	return &Fixture{SB: sb, Stack: st, Snapshot: snapshot, groups: groups, Env: []string{
		"AWS_ENDPOINT_URL=" + sb.Endpoint(), "AWS_REGION=" + sb.Region(), "DECKHAND_BUCKET=" + local.Bucket,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
		"DECKHAND_SNAPSHOT=" + snapshot, "DECKHAND_MANIFEST_PARTS=" + PartsPrefix,
	}}, nil
}

// UploadParts puts m's parts, one per FIFO message group (manifest.Parts),
// in the sandbox's bucket under PartsPrefix, as the CDK app does
// (infra/parts.go), and, when snapshotDir is not "", in that snapshot
// directory too (infra/snapshot.go).
func UploadParts(ctx context.Context, sb *sandbox.Sandbox, m *manifest.Manifest, snapshotDir string) error {
	parts, err := m.Parts()
	if err != nil {
		return err
	}
	s3c := s3.NewFromConfig(sb.AWSConfig(), config.S3Options(sb.Endpoint()))
	for group, body := range parts {
		key := manifest.PartKey(PartsPrefix, group)
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(local.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			return fmt.Errorf("upload %s: %w", key, err)
		}
		if snapshotDir == "" {
			continue
		}
		path := filepath.Join(snapshotDir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Batch returns an SQS event with n fresh pushes, one per binding (n ≤
// Services), as the deploy queue hands them to the deployer.
func (f *Fixture) Batch(n int) []byte {
	var bodies [][]byte
	for i := range n {
		f.seq++
		repo, tag := fmt.Sprintf("r%d", i%Services), fmt.Sprintf("1.1.%d", f.seq)
		digest := f.SB.PushImageSilently(repo, tag)
		f.SB.Clock().Advance(time.Second)
		raw, _ := json.Marshal(events.ImageActionEvent{
			Version: "0", ID: fmt.Sprintf("bench-%d", f.seq), DetailType: events.DetailTypeImageAction, Source: events.SourceECR,
			Account: f.SB.Account(), Region: f.SB.Region(), Time: f.SB.Clock().Now(), Resources: []string{},
			Detail: events.ECRImageAction{Result: events.ResultSuccess, ActionType: events.ActionPush, RepositoryName: repo, ImageDigest: digest, ImageTag: tag},
		})
		bodies = append(bodies, raw)
	}
	ev := events.WrapSQS("arn:aws:sqs:us-west-2:123456789012:deckhand-deploy.fifo", "", bodies...)
	for i := range ev.Records {
		ev.Records[i].MessageId = fmt.Sprintf("bench-msg-%d-%d", f.seq, i)
		ev.Records[i].Attributes["MessageGroupId"] = f.groups[fmt.Sprintf("r%d", i%Services)]
	}
	raw, _ := json.Marshal(ev)
	return raw
}

// Start is one measured launch.
type Start struct {
	lambdart.Launch
	// CallsAtInit are the AWS calls the sandbox answered between exec and
	// the first `next`.
	CallsAtInit int
}

// Measure launches bin with the fixture's environment (sb's calls are
// reset first) and invokes the payloads.
func Measure(ctx context.Context, f *Fixture, bin string, payloads ...[]byte) (Start, error) {
	f.SB.ResetCalls()
	l, err := lambdart.Run(ctx, bin, lambdart.Options{Env: f.Env, Payloads: payloads,
		OnInit: func() any { return len(f.SB.Calls()) }})
	if err != nil {
		return Start{}, err
	}
	s := Start{Launch: l}
	s.CallsAtInit, _ = l.AtInit.(int)
	for i, r := range l.Results {
		if r.Error {
			return s, fmt.Errorf("invocation %d answered an error: %s", i, r.Body)
		}
	}
	return s, nil
}
