package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/gate"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// PromotionIDPrefix starts the id of every promotion the reconciler sends.
const PromotionIDPrefix = "promote-"

// Promotion is a promotion the reconciler sent into the deploy queue.
type Promotion struct {
	ID       string `json:"id"`
	Binding  string `json:"binding"`
	From     string `json:"from"`
	Revision string `json:"revision"`
}

// promotion checks a binding that promotes from another (DESIGN §11): when
// the source serves, steadily, a revision ECS's newest SUCCESSFUL service
// deployment brought, has served it for gates.soak, and the binding runs
// other digests not pushed later, it sends a Deckhand Promotion of those
// digests into the deploy queue (in the message group of the source's
// repositories), unless a gate would only hold it back again (a freeze, a
// running scan, a block or an approval already reported). The deployer
// confirms all of it with ECS before it deploys.
func (r *Reconciler) promotion(ctx context.Context, m *manifest.Manifest, b *manifest.Service, rep *Report) (*Promotion, error) {
	if r.Gates == nil {
		rep.Skipped[b.Name] = "promotes from " + b.PromoteFrom() + ": the reconciler has no ECS client for gates"
		return nil, nil
	}
	log := r.logger().With("binding", b.Name, "cluster", b.Cluster, "service", b.Service)
	out, err := r.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(b.Cluster), Services: []string{b.Service},
		Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
	if err != nil {
		return nil, fmt.Errorf("describe service %s/%s: %w", b.Cluster, b.Service, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		rep.Skipped[b.Name] = fmt.Sprintf("service %s/%s not found", b.Cluster, b.Service)
		return nil, nil
	}
	svc := out.Services[0]
	serviceTags := revision.TagsOf(svc.Tags)
	if why, held := serviceTags[revision.TagHold]; held {
		rep.Held = append(rep.Held, b.Name)
		log.InfoContext(ctx, "service held", "outcome", "HELD", "reason", why)
		return nil, nil
	}
	g, err := r.approvals(ctx, b, &svc)
	if err != nil {
		return nil, err
	}
	src, _ := m.Service(b.PromoteFrom())
	cand, why, err := r.gateReader().Promotable(ctx, src)
	if err != nil {
		return nil, err
	}
	if why != "" {
		rep.Skipped[b.Name] = why
		return nil, nil
	}
	td, err := r.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(revision.OfService(svc)),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		return nil, fmt.Errorf("describe task definition %s: %w", revision.OfService(svc), err)
	}
	running := revision.TagsOf(td.Tags)
	var pushes []Push
	for _, c := range slices.Sorted(maps.Keys(b.Images)) {
		cur, _ := revision.Image(td.TaskDefinition, running, c)
		if _, _, poisoned := running.PushedAtAsOf(c, r.now()); poisoned {
			cur.PushedAt = time.Time{}
		}
		want := candidateImage(cand, c)
		if serviceTags.RolledBack(c, want.Digest) {
			rep.Skipped[b.Name] = fmt.Sprintf("container %s: %s was rolled back here", c, want.Digest)
			return nil, nil
		}
		if want.Digest == cur.Digest {
			continue
		}
		if !cur.PushedAt.IsZero() && want.PushedAt.Truncate(time.Second).Before(cur.PushedAt.Truncate(time.Second)) {
			rep.Skipped[b.Name] = fmt.Sprintf("container %s: %s serves an image pushed before the one running here (never backwards)", c, src.Name)
			return nil, nil
		}
		pushes = append(pushes, Push{Repository: b.Images[c].Origin(), Tag: want.Tag, Digest: want.Digest, PushedAt: want.PushedAt, Account: r.Account})
	}
	if len(pushes) == 0 {
		return nil, nil
	}
	if ready := cand.SucceededAt.Add(b.Gates.SoakDuration()); r.now().Before(ready) {
		rep.Skipped[b.Name] = fmt.Sprintf("soaking: %s reached SUCCEEDED with %s at %s; it promotes from %s",
			src.Name, cand.Revision, cand.SucceededAt.UTC().Format(time.RFC3339), ready.UTC().Format(time.RFC3339))
		return nil, nil
	}
	if kept, err := r.gated(ctx, b, &svc, g, pushes, rep); err != nil || len(kept) < len(pushes) {
		return nil, err
	}
	return r.sendPromotion(ctx, m, b, cand)
}

// candidateImage is the image a promotion candidate's revision records for
// container c.
func candidateImage(cand gate.Candidate, c string) events.PromotedImage {
	img := events.PromotedImage{Digest: cand.Digest(c), Tag: cand.Tags[revision.TagImageTag+c]}
	img.PushedAt, _ = cand.Tags.PushedAt(c)
	return img
}

// sendPromotion enqueues a Deckhand Promotion of cand to b, deduplicated by
// a hash of the binding and the source revision.
func (r *Reconciler) sendPromotion(ctx context.Context, m *manifest.Manifest, b *manifest.Service, cand gate.Candidate) (*Promotion, error) {
	sum := sha256.Sum256([]byte(b.Name + "\x00" + cand.Revision))
	p := &Promotion{ID: PromotionIDPrefix + hex.EncodeToString(sum[:16]), Binding: b.Name, From: cand.Source, Revision: cand.Revision}
	detail := events.Promotion{Binding: b.Name, From: cand.Source, Revision: cand.Revision, SucceededAt: cand.SucceededAt.UTC(),
		Containers: map[string]events.PromotedImage{}}
	for c, img := range b.Images {
		pi := candidateImage(cand, c)
		pi.Repository = img.Origin()
		detail.Containers[c] = pi
	}
	body, err := json.Marshal(events.PromotionEvent{Version: "0", ID: p.ID, DetailType: events.DetailTypePromotion, Source: events.SourceDeckhand,
		Account: r.Account, Time: r.now().UTC(), Region: r.Region, Resources: []string{}, Detail: detail})
	if err != nil {
		return nil, fmt.Errorf("encode promotion %s: %w", p.ID, err)
	}
	group, ok := m.GroupOfBinding(b.Name)
	if !ok {
		return nil, fmt.Errorf("promotion of %s: no message group", b.Name)
	}
	if err := r.Queue.Send(ctx, group, p.ID, body); err != nil {
		return nil, fmt.Errorf("enqueue promotion of %s to %s: %w", cand.Revision, b.Name, err)
	}
	r.logger().InfoContext(ctx, "enqueued promotion", "binding", b.Name, "from", cand.Source, "revision", cand.Revision,
		"group", group, "id", p.ID, "outcome", "enqueued")
	return p, nil
}
