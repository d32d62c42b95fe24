package targets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// stsAPI is the part of the STS client the provider uses.
type stsAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

var _ stsAPI = (*sts.Client)(nil)

// Session tag keys Deckhand sets when it assumes a target's role (the
// target roles let the hub tag sessions with deckhand:* keys only).
const (
	TagBinding = "deckhand:binding"
	TagTarget  = "deckhand:target"
)

// Defaults of a Provider.
const (
	// DefaultDuration is what a session asks for: the target roles' maximum
	// (infra/target.go), STS's default.
	DefaultDuration = time.Hour
	// DefaultRefresh is how long before it expires a session is renewed,
	// so no call is signed with credentials about to expire (the SDK's
	// credential cache renews as early).
	DefaultRefresh = 5 * time.Minute
)

// Provider assumes the targets' roles and builds their ECS clients. It
// keeps one session and one client per target and binding for the life of
// the process, renews a session before it expires, and makes no AWS call
// until a target binding is first used (none at a function's init). It is
// safe for concurrent use.
type Provider struct {
	// AWS is the hub's SDK configuration: the STS client is built from it,
	// and each target's ECS client from a copy in the target's Region
	// signed with the session's credentials.
	AWS aws.Config
	// ExternalID is the sts:ExternalId the target roles require
	// (DECKHAND_EXTERNAL_ID).
	ExternalID string
	// Now is the clock sessions expire on (default time.Now; the sandbox's
	// virtual clock in simulations).
	Now func() time.Time
	// STS assumes the roles (default: a client built from AWS).
	STS stsAPI
	// Duration and Refresh default to DefaultDuration and DefaultRefresh.
	Duration, Refresh time.Duration

	mu      sync.Mutex
	clients map[clientKey]*client
	stsOnce sync.Once
}

type clientKey struct{ account, region, role, binding string }

type client struct {
	ECS
	session *session
}

// ECS returns the ECS client of binding in target t (named name in the
// manifest), with fresh credentials: the first call for a binding, and the
// first after its session expired or was refused with ExpiredToken,
// assumes the role. An error is an *Error naming the role.
func (p *Provider) ECS(ctx context.Context, name string, t manifest.Target, binding string) (ECS, error) {
	k := clientKey{t.Account, t.Region, t.Role, binding}
	p.mu.Lock()
	if p.clients == nil {
		p.clients = map[clientKey]*client{}
	}
	c := p.clients[k]
	if c == nil {
		s := &session{p: p, target: name, t: t, binding: binding}
		c = &client{ECS: p.newECS(t.Region, s), session: s}
		p.clients[k] = c
	}
	p.mu.Unlock()
	if _, err := c.session.Retrieve(ctx); err != nil {
		return nil, err
	}
	return c.ECS, nil
}

// newECS builds a target's ECS client: the hub's configuration in the
// target's Region, signed with the session. A call refused because the
// session expired (ExpiredToken*: the role's credentials can expire
// before the clock here says so, and AWS may revoke them) drops the
// session and is retried with a new one.
func (p *Provider) newECS(region string, s *session) *ecs.Client {
	cfg := p.AWS.Copy()
	cfg.Region = region
	cfg.Credentials = s
	base := cfg.Retryer
	cfg.Retryer = func() aws.Retryer {
		var r aws.Retryer
		if base != nil {
			r = base()
		} else {
			r = retry.NewStandard()
		}
		return retry.AddWithErrorCodes(r, awserr.ExpiredCodes()...)
	}
	cfg.APIOptions = append(cfg.APIOptions[:len(cfg.APIOptions):len(cfg.APIOptions)], func(stack *middleware.Stack) error {
		// Between the retry loop and signing: each attempt that comes back
		// expired drops the session, so the next attempt signs with a new one.
		return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("DeckhandRenewExpiredSession",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil && awserr.ExpiredToken(err) {
					s.Invalidate()
				}
				return out, md, err
			}), "Signing", middleware.Before)
	})
	return ecs.NewFromConfig(cfg)
}

func (p *Provider) sts() stsAPI {
	p.stsOnce.Do(func() {
		if p.STS == nil {
			p.STS = sts.NewFromConfig(p.AWS)
		}
	})
	return p.STS
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Provider) duration() time.Duration { return or(p.Duration, DefaultDuration) }
func (p *Provider) refresh() time.Duration  { return or(p.Refresh, DefaultRefresh) }

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// SessionName is the RoleSessionName of a binding's session: "deckhand-"
// and the binding, which CloudTrail shows in every call's assumed-role ARN.
// A name past STS's 64 characters keeps its start and a hash.
func SessionName(binding string) string {
	name := "deckhand-" + binding
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(binding))
	return name[:64-17] + "-" + hex.EncodeToString(sum[:8])
}
