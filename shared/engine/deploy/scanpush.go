package deploy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"
)

// Scan results wake the scan gate (DESIGN §11): the CDK app routes ECR's
// `ECR Image Scan` and Inspector's `Inspector2 Scan` events of the
// manifest's scan-gated repositories into the deploy queue, in the
// repository's message group, and the deployer turns each into the push it
// re-drives. The scan gate then reads the result from ECR itself
// (DescribeImageScanFindings), so a duplicated, late or stale event
// decides nothing on its own; a missed one is made up for by the
// reconciler.

// ScanTrigger is an image's scan result as its event names it.
type ScanTrigger struct {
	EventID, Account, Region string
	Repository, Digest       string
	// From is the event's detail-type.
	From string
}

// ScanTriggerOf reads the trigger from an ECR Image Scan or Inspector2
// Scan event (already decoded and checked).
func ScanTriggerOf(id, account, region, detailType, repository, digest string) ScanTrigger {
	if _, name, ok := strings.Cut(repository, ":repository/"); ok {
		repository = name // Inspector names the repository by its ARN
	}
	return ScanTrigger{EventID: id, Account: account, Region: region, Repository: repository, Digest: digest, From: detailType}
}

// ScanPushes returns the pushes a scan result re-drives: one per binding
// that follows the image's repository and gates on scans, restricted to
// that binding, with the image's tag its policy takes (the newest by its
// order, when several do) and ECR's push time (DescribeImages). A scan no
// such binding takes, or of an image ECR no longer has, is SKIPPED. An
// error (ECR could not be asked) is retryable.
func (e *Engine) ScanPushes(ctx context.Context, t ScanTrigger) ([]Push, []Outcome, error) {
	e.init()
	ignored := func(why string) []Outcome {
		o := Ignored(t.EventID, t.Repository, why)
		o.Event.Containers = map[string]events.ContainerChange{t.Repository: {NewDigest: t.Digest}}
		return []Outcome{o}
	}
	m, err := e.Source.Manifest(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load manifest: %w", err)
	}
	bindings := m.BindingsFor(t.Repository)
	var gated bool
	for _, b := range bindings {
		gated = gated || len(b.Gates.ScanBlocks()) > 0
	}
	if !gated {
		return nil, ignored(fmt.Sprintf("%s of %s: no binding of the repository gates on scans", t.From, shortDigest(t.Digest))), nil
	}
	if e.ECR == nil {
		return nil, nil, fmt.Errorf("scan of %s@%s: the deploy engine has no ECR client to read the image's push", t.Repository, t.Digest)
	}
	in := &ecr.DescribeImagesInput{RepositoryName: aws.String(t.Repository), ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(t.Digest)}}}
	if t.Account != "" && t.Account != e.Account {
		in.RegistryId = aws.String(t.Account)
	}
	var out *ecr.DescribeImagesOutput
	err = e.pacer().Retry(ctx, func() error {
		var err error
		out, err = e.ECR.DescribeImages(ctx, in)
		return err
	})
	if awserr.ImageNotFound(err) || (err == nil && len(out.ImageDetails) == 0) {
		return nil, ignored(fmt.Sprintf("%s of %s: ECR no longer has the image", t.From, shortDigest(t.Digest))), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("describe image %s@%s: %w", t.Repository, t.Digest, err)
	}
	img := out.ImageDetails[0]
	var pushes []Push
	var skipped []Outcome
	for _, b := range bindings {
		if len(b.Gates.ScanBlocks()) == 0 {
			continue
		}
		tag, ok := tagFor(b.Images, t.Repository, img.ImageTags, aws.ToTime(img.ImagePushedAt))
		if !ok {
			o := Ignored(t.EventID, t.Repository, fmt.Sprintf("%s of %s: no tag of the image (%s) matches the tag policy of binding %s",
				t.From, shortDigest(t.Digest), strings.Join(img.ImageTags, ", "), b.Name))
			o.Event.Binding = b.Name
			skipped = append(skipped, o)
			continue
		}
		pushes = append(pushes, Push{EventID: t.EventID, Account: t.Account, Region: t.Region, Repository: t.Repository,
			Tag: tag, Digest: t.Digest, PushedAt: aws.ToTime(img.ImagePushedAt), Trigger: events.TriggerPush, Binding: b.Name, Rescan: true})
	}
	return pushes, skipped, nil
}

// tagFor picks the image's tag a binding's policy takes for repository:
// the newest by the policy's order when several do.
func tagFor(images map[string]manifest.Image, repository string, tags []string, at time.Time) (string, bool) {
	var best string
	var policy tagpolicy.Policy
	for _, img := range images {
		if img.Repository == repository {
			policy = img.Policy()
		}
	}
	for _, t := range tags {
		if !policy.Match(t) {
			continue
		}
		if best == "" || policy.Newer(tagpolicy.Pushed{Tag: t, At: at}, tagpolicy.Pushed{Tag: best, At: at}) {
			best = t
		}
	}
	return best, best != ""
}
