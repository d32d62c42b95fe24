package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// IDPrefix starts the id of every synthetic push. The deployer reads it as
// trigger=reconcile (deploy.ReconcileIDPrefix).
const IDPrefix = "reconcile-"

// Push is a synthetic ECR push the reconciler enqueues.
type Push struct {
	// ID is the event id and the FIFO deduplication id: IDPrefix plus a
	// hash of the repository, tag and digest, so every pass names the same
	// missed push the same way.
	ID         string    `json:"id"`
	Account    string    `json:"account"`
	Repository string    `json:"repository"`
	Tag        string    `json:"tag"`
	Digest     string    `json:"digest"`
	PushedAt   time.Time `json:"pushedAt"`
}

func pushOf(img taskdef.Image) Push {
	sum := sha256.Sum256([]byte(img.Repository + "\x00" + img.Tag + "\x00" + img.Digest))
	account, _, _ := strings.Cut(img.Registry, ".")
	return Push{
		ID:      IDPrefix + hex.EncodeToString(sum[:16]),
		Account: account, Repository: img.Repository, Tag: img.Tag, Digest: img.Digest, PushedAt: img.PushedAt,
	}
}

// Event returns the push as the "ECR Image Action" event EventBridge would
// have delivered. Its time is the image's push time, which the deployer
// records as the pushed-at high-water mark.
func (p Push) Event(region string) events.ImageActionEvent {
	return events.ImageActionEvent{
		Version: "0", ID: p.ID, DetailType: events.DetailTypeImageAction, Source: events.SourceECR,
		Account: p.Account, Time: p.PushedAt.UTC(), Region: region, Resources: []string{},
		Detail: events.ECRImageAction{
			Result: events.ResultSuccess, RepositoryName: p.Repository, ImageDigest: p.Digest,
			ActionType: events.ActionPush, ImageTag: p.Tag,
		},
	}
}

// enqueue sends the push into the deploy FIFO queue in the repository's
// message group, deduplicated by its id.
func (r *Reconciler) enqueue(ctx context.Context, p Push, group string) error {
	body, err := json.Marshal(p.Event(r.Region))
	if err != nil {
		return fmt.Errorf("encode push %s: %w", p.ID, err)
	}
	if err := r.Queue.Send(ctx, group, p.ID, body); err != nil {
		return fmt.Errorf("enqueue push %s:%s (%s): %w", p.Repository, p.Tag, p.Digest, err)
	}
	r.logger().InfoContext(ctx, "enqueued synthetic push", "repository", p.Repository, "tag", p.Tag, "digest", p.Digest,
		"group", group, "id", p.ID, "outcome", "enqueued")
	return nil
}
