// Package refs resolves the {{ ssm "/path" }} and {{ secret "name" }}
// references of a template to ARNs before it is rendered (issue 15 item
// 2): SSM parameters with GetParameters (ten names a call, without
// decryption: only the ARN is read), Secrets Manager secrets with
// DescribeSecret (metadata only). A Secrets Manager ARN ends in six random
// characters, so it must be looked up; an SSM parameter's could be
// computed, but looking it up makes a missing parameter a render error
// rather than a task that fails to start.
//
// The deployer and the runner build one Resolver per process (New); found
// ARNs are kept for TTL across warm invocations, so a warm deployment of a
// template with references makes no extra call.
package refs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/deckhand-ecs/deckhand/shared/aws/awserr"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// SSMAPI is the part of the SSM client the resolver uses.
type SSMAPI interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
}

// SecretsAPI is the part of the Secrets Manager client the resolver uses.
type SecretsAPI interface {
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

var (
	_ SSMAPI     = (*ssm.Client)(nil)
	_ SecretsAPI = (*secretsmanager.Client)(nil)
)

// DefaultTTL is how long a found ARN is kept.
const DefaultTTL = 5 * time.Minute

// maxNames is how many names one GetParameters call takes.
const maxNames = 10

// Resolver resolves references. It is safe for concurrent use.
type Resolver struct {
	SSM     SSMAPI
	Secrets SecretsAPI
	// TTL is how long a found ARN is kept (default DefaultTTL; negative:
	// not at all). A name not found is never kept: it may be created.
	TTL time.Duration
	// Now is the clock of the cache (default time.Now).
	Now func() time.Time

	mu    sync.Mutex
	cache map[taskdef.Ref]entry
}

type entry struct {
	arn string
	at  time.Time
}

// New builds a resolver with SSM and Secrets Manager clients on cfg. It
// makes no call.
func New(cfg aws.Config) *Resolver {
	return &Resolver{SSM: ssm.NewFromConfig(cfg), Secrets: secretsmanager.NewFromConfig(cfg)}
}

var _ taskdef.Resolver = (*Resolver)(nil)

// Resolve returns the ARNs of refs that exist; a reference that does not
// exist is absent (rendering then names it). An error is an AWS error
// (throttling, access denied, …), classified by the caller.
func (r *Resolver) Resolve(ctx context.Context, refs []taskdef.Ref) (taskdef.Refs, error) {
	out := taskdef.Refs{}
	var params []string
	var secrets []taskdef.Ref
	for _, ref := range refs {
		if arn, ok := r.cached(ref); ok {
			out[ref] = arn
			continue
		}
		switch ref.Kind {
		case taskdef.RefSSM:
			params = append(params, ref.Name)
		case taskdef.RefSecret:
			secrets = append(secrets, ref)
		}
	}
	for len(params) > 0 {
		batch := params[:min(maxNames, len(params))]
		params = params[len(batch):]
		if err := r.parameters(ctx, batch, out); err != nil {
			return nil, err
		}
	}
	for _, ref := range secrets {
		if err := r.secret(ctx, ref, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *Resolver) parameters(ctx context.Context, names []string, out taskdef.Refs) error {
	if r.SSM == nil {
		return fmt.Errorf("resolve SSM parameters %v: no SSM client", names)
	}
	res, err := r.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(false)})
	if err != nil {
		return fmt.Errorf("get SSM parameters %v: %w", names, err)
	}
	for _, p := range res.Parameters {
		ref := taskdef.Ref{Kind: taskdef.RefSSM, Name: aws.ToString(p.Name)}
		out[ref] = aws.ToString(p.ARN)
		r.keep(ref, out[ref])
	}
	return nil
}

func (r *Resolver) secret(ctx context.Context, ref taskdef.Ref, out taskdef.Refs) error {
	if r.Secrets == nil {
		return fmt.Errorf("resolve secret %s: no Secrets Manager client", ref.Name)
	}
	res, err := r.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ref.Name)})
	if awserr.SecretNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("describe secret %s: %w", ref.Name, err)
	}
	if res.DeletedDate != nil {
		return nil // scheduled for deletion: ECS cannot read it
	}
	out[ref] = aws.ToString(res.ARN)
	r.keep(ref, out[ref])
	return nil
}

func (r *Resolver) cached(ref taskdef.Ref) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.cache[ref]
	if !ok || r.now().Sub(e.at) >= r.ttl() {
		return "", false
	}
	return e.arn, true
}

func (r *Resolver) keep(ref taskdef.Ref, arn string) {
	if r.ttl() <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cache == nil {
		r.cache = map[taskdef.Ref]entry{}
	}
	r.cache[ref] = entry{arn: arn, at: r.now()}
}

func (r *Resolver) ttl() time.Duration {
	if r.TTL == 0 {
		return DefaultTTL
	}
	return r.TTL
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
