package targets

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// session is one binding's credentials in a target: an aws.CredentialsProvider
// that assumes the target's role, keeps the credentials until Refresh
// before they expire (on the provider's clock), and assumes the role again
// after that or after Invalidate. Concurrent retrievals share one
// AssumeRole.
type session struct {
	p       *Provider
	target  string
	t       manifest.Target
	binding string

	mu    sync.Mutex
	creds aws.Credentials
	ok    bool
}

// Retrieve returns the session's credentials, assuming the role when it
// has none that stay valid for Refresh. An error is an *Error.
func (s *session) Retrieve(ctx context.Context) (aws.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ok && s.p.now().Add(s.p.refresh()).Before(s.creds.Expires) {
		return s.creds, nil
	}
	s.ok = false
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(s.t.Role),
		RoleSessionName: aws.String(SessionName(s.binding)),
		DurationSeconds: aws.Int32(int32(s.p.duration() / time.Second)),
		Tags: []ststypes.Tag{
			{Key: aws.String(TagBinding), Value: aws.String(s.binding)},
			{Key: aws.String(TagTarget), Value: aws.String(s.target)},
		},
	}
	if s.p.ExternalID != "" {
		in.ExternalId = aws.String(s.p.ExternalID)
	}
	out, err := s.p.sts().AssumeRole(ctx, in)
	if err != nil {
		if s.p.ExternalID == "" {
			err = fmt.Errorf("%w (no external id: DECKHAND_EXTERNAL_ID is not set)", err)
		}
		return aws.Credentials{}, &Error{Target: s.target, Role: s.t.Role, Binding: s.binding, Err: err}
	}
	c := out.Credentials
	if c == nil || c.Expiration == nil {
		return aws.Credentials{}, &Error{Target: s.target, Role: s.t.Role, Binding: s.binding, Err: fmt.Errorf("AssumeRole answered without credentials")}
	}
	s.creds = aws.Credentials{
		AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken),
		Source: "DeckhandAssumeRole", CanExpire: true, Expires: *c.Expiration, AccountID: s.t.Account,
	}
	s.ok = true
	return s.creds, nil
}

// Invalidate drops the credentials: the next Retrieve assumes the role.
func (s *session) Invalidate() {
	s.mu.Lock()
	s.ok = false
	s.mu.Unlock()
}
