package local

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
)

// alice is the person who approves and rejects in these tests: requests
// signed with her key are her identity's (STS GetCallerIdentity).
const alice = "arn:aws:iam::123456789012:user/alice"

// gatesStack seeds examples/gates.yaml (or the manifest given, with the
// examples' templates) on a fresh sandbox.
func gatesStack(t *testing.T, manifest string) *Stack {
	t.Helper()
	if manifest == "" {
		raw, err := os.ReadFile("../../../examples/gates.yaml")
		if err != nil {
			t.Fatal(err)
		}
		manifest = string(raw)
	}
	sb := sandboxtest.Start(t)
	st, err := New(context.Background(), sb, Options{Dir: "../../../examples", Manifest: []byte(manifest), InitialTags: map[string]string{"shop": "1.0.0"}})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if err := sb.AccessKey("AKIAALICE", alice); err != nil {
		t.Fatal(err)
	}
	return st
}

// person is the CLI's environment for alice, on the sandbox's clock.
func (st *Stack) person() *cli.Env {
	cfg := st.SB.AWSConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAALICE", "secret", "")
	return &cli.Env{ECS: ecs.NewFromConfig(cfg), ECR: ecr.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg),
		Source: store.NewS3(st.S3, Bucket, "deckhand.yaml"), Account: st.SB.Account(), Region: st.SB.Region(),
		Clock: cli.SandboxClock{Endpoint: st.SB.Endpoint()}}
}

// advance moves the clock in steps of at most 10 s, pumping after each,
// so rollouts, scans and their events follow one another as in AWS.
func (st *Stack) advance(t *testing.T, d time.Duration) {
	t.Helper()
	if err := st.Settle(context.Background(), d, 10*time.Second); err != nil {
		t.Fatalf("settle: %v", err)
	}
}

// reconcile runs one reconciler pass and delivers what it sent.
func (st *Stack) reconcile(t *testing.T) {
	t.Helper()
	if _, err := st.Reconciler.Run(context.Background()); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if _, err := st.Pump(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// dropQueued loses whatever waits in the deploy queue, as if EventBridge
// never delivered it (a missed scan event).
func (st *Stack) dropQueued(t *testing.T) {
	t.Helper()
	if _, err := sqs.NewFromConfig(st.SB.AWSConfig()).PurgeQueue(context.Background(), &sqs.PurgeQueueInput{QueueUrl: aws.String(st.Router.QueueURL())}); err != nil {
		t.Fatal(err)
	}
}

// scan scripts the scan of an image just pushed (its scan is running).
func (st *Stack) scan(t *testing.T, repo, digest string, script sandbox.ScanScript) {
	t.Helper()
	if err := st.SB.SetScanFindings("", "", repo, digest, script); err != nil {
		t.Fatal(err)
	}
}

// decisions are the statuses emitted for binding from event index n on.
func (st *Stack) decisions(n int, binding string) []events.DeploymentStatus {
	var out []events.DeploymentStatus
	for _, d := range st.Deployments()[n:] {
		if d.Binding == binding {
			out = append(out, d.Status)
		}
	}
	return out
}

// last is binding's newest event of a status since index n.
func (st *Stack) last(t *testing.T, n int, binding string, status events.DeploymentStatus) Deployment {
	t.Helper()
	ds := st.Deployments()[n:]
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Binding == binding && ds[i].Status == status {
			return ds[i]
		}
	}
	t.Fatalf("no %s event for %s; events: %v", status, binding, st.decisions(n, binding))
	return Deployment{}
}

// runs reports whether binding's service runs digest in its shop container.
func (st *Stack) runs(t *testing.T, binding, digest string) bool {
	t.Helper()
	return strings.HasSuffix(st.image(t, binding, "shop"), "@"+digest)
}

// revisionTags are a revision's tags.
func (st *Stack) revisionTags(t *testing.T, arn string) revision.Tags {
	t.Helper()
	out, err := st.ECS.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	return revision.TagsOf(out.Tags)
}
