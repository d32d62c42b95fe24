package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/aws/ecrimages"
	"github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"
)

// stamp is one pushed image as rule 5 orders it.
type stamp struct {
	// Registry is the account the image lives in ("" for Deckhand's own).
	Registry, Repository, Tag, Digest string
	At                                time.Time
}

func stampOf(p Push, own string) stamp {
	reg := p.Account
	if reg == own {
		reg = ""
	}
	return stamp{Registry: reg, Repository: p.Repository, Tag: p.Tag, Digest: p.Digest, At: p.PushedAt}
}

// pushTimes is rule 5's order of two pushes of one image source (issue 10
// item 4). ECR's events carry whole seconds, and some pushes carry ECR's
// millisecond times (the reconciler's, catch-up's), so push times are
// compared to the second; pushes in the same second order by the policy's
// version order (semver); when the policy cannot order them (glob, regex,
// *, or one tag pushed twice) and the images differ, ECR is asked for its
// precise push times (DescribeImages' imagePushedAt), and only then; an
// exact tie orders by tag, as the newest eligible image does
// (tagpolicy.Policy.Newer). Build one per invocation: it remembers ECR's
// answers.
type pushTimes struct {
	ecr ecrAPI // nil: no precise times (ties order by tag)

	mu sync.Mutex
	at map[string]time.Time // registry/repository@digest
}

func (e *Engine) newPushTimes() *pushTimes {
	return &pushTimes{ecr: e.ECR, at: map[string]time.Time{}}
}

func (s stamp) key() string { return s.Registry + "/" + s.Repository + "@" + s.Digest }

// order compares a and b: positive when a is the newer push, negative when
// it is the older, 0 when they are the same image or cannot be told apart.
// It asks ECR only for a tie the policy cannot order.
func (t *pushTimes) order(ctx context.Context, policy tagpolicy.Policy, a, b stamp) (int, error) {
	if c, tie := coarse(policy, a, b); !tie {
		return c, nil
	}
	if err := t.fetch(ctx, a, b); err != nil {
		return 0, err
	}
	return t.known(policy, a, b), nil
}

// known is order with the precise times fetched so far, never calling ECR.
func (t *pushTimes) known(policy tagpolicy.Policy, a, b stamp) int {
	if c, tie := coarse(policy, a, b); !tie {
		return c
	}
	t.mu.Lock()
	pa, okA := t.at[a.key()]
	pb, okB := t.at[b.key()]
	t.mu.Unlock()
	if okA && okB && !pa.IsZero() && !pb.IsZero() {
		if c := pa.Compare(pb); c != 0 {
			return c
		}
	}
	return strings.Compare(a.Tag, b.Tag)
}

// coarse orders by the second of the push times and the policy's version
// order; tie says that only ECR's precise times can tell two different
// images apart.
func coarse(policy tagpolicy.Policy, a, b stamp) (c int, tie bool) {
	if c := a.At.Truncate(time.Second).Compare(b.At.Truncate(time.Second)); c != 0 {
		return c, false
	}
	if c := policy.Compare(a.Tag, b.Tag); c != 0 {
		return c, false
	}
	return 0, a.Digest != b.Digest
}

// fetch asks ECR for the precise push times of the stamps it does not know
// yet, one call per repository.
func (t *pushTimes) fetch(ctx context.Context, stamps ...stamp) error {
	if t.ecr == nil {
		return nil
	}
	byRepo := map[[2]string][]string{}
	t.mu.Lock()
	for _, s := range stamps {
		if _, ok := t.at[s.key()]; !ok && s.Digest != "" {
			k := [2]string{s.Registry, s.Repository}
			byRepo[k] = append(byRepo[k], s.Digest)
		}
	}
	t.mu.Unlock()
	var errs []error
	for k, digests := range byRepo {
		got, err := ecrimages.PushedAt(ctx, t.ecr, k[0], k[1], digests...)
		if err != nil {
			errs = append(errs, fmt.Errorf("order pushes in one second: %w", err))
			continue
		}
		t.mu.Lock()
		for _, d := range digests {
			// A missing image has no precise time: remember the zero time
			// so it is not asked for again, and known orders it by tag.
			t.at[stamp{Registry: k[0], Repository: k[1], Digest: d}.key()] = got[d]
		}
		t.mu.Unlock()
	}
	return errors.Join(errs...)
}

// resolveTies asks ECR, before coalescing, for the precise push times of
// pushes in one batch that share a repository and a second but not an
// image (coalesce cannot wait for ECR per pair). Pushes whose times could
// not be read are returned as retryable failures and left out.
func (e *Engine) resolveTies(ctx context.Context, t *pushTimes, pushes []Push) ([]Push, []Outcome) {
	type second struct {
		registry, repository string
		at                   time.Time
	}
	groups := map[second][]stamp{}
	for _, p := range pushes {
		s := stampOf(p, e.Account)
		k := second{s.Registry, s.Repository, s.At.Truncate(time.Second)}
		groups[k] = append(groups[k], s)
	}
	var tied []stamp
	for _, g := range groups {
		for _, s := range g[1:] {
			if s.Digest != g[0].Digest {
				tied = append(tied, g...)
				break
			}
		}
	}
	if len(tied) == 0 {
		return pushes, nil
	}
	err := t.fetch(ctx, tied...)
	if err == nil {
		return pushes, nil
	}
	failedKeys := map[string]bool{}
	for _, s := range tied {
		failedKeys[s.key()] = true
	}
	var kept []Push
	var outs []Outcome
	for _, p := range pushes {
		if failedKeys[stampOf(p, e.Account).key()] {
			outs = append(outs, failed(Outcome{Pushes: []Push{p}, Event: pushEvent(p, "", "")}, err))
			continue
		}
		kept = append(kept, p)
	}
	return kept, outs
}
