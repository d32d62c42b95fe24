package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// caller is who signed an API request, and where it works: the account
// its credentials belong to and the Region it signed for.
type caller struct {
	account, region string
	arn             string   // what GetCallerIdentity answers
	userID          string   // GetCallerIdentity's UserId
	principalARN    string   // aws:PrincipalArn: the role of a role session, else arn
	session         *session // the STS session of temporary credentials, or nil
}

// accessKey is a long-term access key registered through the control API.
type accessKey struct {
	account, arn, userID string
}

// session is one set of temporary credentials STS issued.
type session struct {
	seq                        uint64
	accessKeyID, secret, token string
	expires                    time.Time // virtual
	account                    string
	roleARN, roleID            string
	sessionName                string
	externalID, sourceIdentity string
	tags                       map[string]string
	issuer                     string // the principal ARN that assumed the role
}

// keyring holds the access keys the sandbox knows: keys registered
// through the control API and STS sessions. Any other key id is the root of
// the sandbox's own account, or, when it is 12 digits, of that account.
type keyring struct {
	mu       sync.Mutex
	keys     map[string]accessKey
	sessions map[string]*session
	seq      uint64
}

func newKeyring() *keyring {
	return &keyring{keys: map[string]accessKey{}, sessions: map[string]*session{}}
}

// credentialScope reads a request's SigV4 credential scope (Authorization
// header or presigned X-Amz-Credential): access key id and Region.
func credentialScope(r *http.Request) (akid, region string) {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, after, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return "", ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	parts := strings.Split(strings.TrimSpace(cred), "/") // AKID/date/region/service/aws4_request
	if len(parts) != 5 {
		return "", ""
	}
	return parts[0], parts[2]
}

// rootCaller is an account's root user, the identity of keys the sandbox
// does not know.
func (s *Sandbox) rootCaller(account, region string) *caller {
	arn := "arn:aws:iam::" + account + ":root"
	return &caller{account: account, region: region, arn: arn, userID: account, principalARN: arn}
}

// resolveCaller finds who signed r. STS session credentials must carry
// their session token and be unexpired on the virtual clock, as AWS checks
// them; an unsigned request is the home account's root.
func (s *Sandbox) resolveCaller(r *http.Request, proto protocol) (*caller, error) {
	akid, region := credentialScope(r)
	if region == "" {
		region = s.opts.Region
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if token == "" {
		token = r.URL.Query().Get("X-Amz-Security-Token")
	}
	s.creds.mu.Lock()
	sess, key := s.creds.sessions[akid], s.creds.keys[akid]
	s.creds.mu.Unlock()
	switch {
	case sess != nil:
		if token != sess.token {
			return nil, invalidToken(proto)
		}
		if !s.clock.Now().Before(sess.expires) {
			return nil, expiredToken(proto)
		}
		_, roleName, _ := strings.Cut(sess.roleARN, ":role/")
		roleName = roleName[strings.LastIndex(roleName, "/")+1:]
		return &caller{
			account: sess.account, region: region,
			arn:          fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", sess.account, roleName, sess.sessionName),
			userID:       sess.roleID + ":" + sess.sessionName,
			principalARN: sess.roleARN, session: sess,
		}, nil
	case key.account != "":
		return &caller{account: key.account, region: region, arn: key.arn, userID: key.userID, principalARN: key.arn}, nil
	case len(akid) == 12 && strings.Trim(akid, "0123456789") == "":
		return s.rootCaller(akid, region), nil
	}
	return s.rootCaller(s.opts.Account, region), nil
}

// AccessKey registers a long-term access key id for an identity: an IAM
// user or role ARN ("arn:aws:iam::210987654321:user/alice"), whose account
// requests signed with the key work in. It is what GetCallerIdentity
// answers for the key, and the aws:PrincipalArn trust policies see.
func (s *Sandbox) AccessKey(accessKeyID, arn string) error {
	account, kind, name, err := splitIAMARN(arn)
	if err != nil {
		return fmt.Errorf("access key %s: %w", accessKeyID, err)
	}
	if accessKeyID == "" {
		return fmt.Errorf("access key for %s: the access key id is required", arn)
	}
	prefix := "AIDA"
	if kind == "role" {
		prefix = "AROA"
	}
	s.creds.mu.Lock()
	defer s.creds.mu.Unlock()
	s.creds.keys[accessKeyID] = accessKey{account: account, arn: arn, userID: prefix + idSuffix(arn+"/"+name, 17)}
	return nil
}

// splitIAMARN splits arn:aws:iam::ACCOUNT:user/NAME (or role/, with paths).
func splitIAMARN(arn string) (account, kind, name string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || len(parts[4]) != 12 {
		return "", "", "", fmt.Errorf("%q is not an IAM ARN such as arn:aws:iam::123456789012:user/alice", arn)
	}
	kind, rest, ok := strings.Cut(parts[5], "/")
	if !ok || rest == "" || kind != "user" && kind != "role" {
		return "", "", "", fmt.Errorf("%q names no IAM user or role", arn)
	}
	return parts[4], kind, rest[strings.LastIndex(rest, "/")+1:], nil
}

// expiredToken is AWS's answer to expired temporary credentials.
func expiredToken(proto protocol) *awsproto.Error {
	if proto == protoQuery {
		return awsproto.Errorf(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
	}
	if proto == protoS3 {
		return awsproto.Errorf(http.StatusBadRequest, "ExpiredToken", "The provided token has expired.")
	}
	return awsproto.Errorf(http.StatusBadRequest, "ExpiredTokenException", "The security token included in the request is expired")
}

// invalidToken is AWS's answer to temporary credentials without their
// session token, or with another session's.
func invalidToken(proto protocol) *awsproto.Error {
	switch proto {
	case protoQuery:
		return awsproto.Errorf(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	case protoS3:
		return awsproto.Errorf(http.StatusForbidden, "InvalidToken", "The provided token is malformed or otherwise invalid.")
	}
	return awsproto.Errorf(http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
}
