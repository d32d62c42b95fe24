package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// iamService emulates the IAM roles Deckhand reads (GetRole, for deckhand
// verify) and STS assumes, per account. IAM is global: a role belongs to an
// account, not to a Region.
type iamService struct {
	clock *vclock.Clock

	mu    sync.Mutex
	roles map[string]*role // by ARN-less key account + "/" + name
}

// role is one IAM role.
type role struct {
	account, path, name string
	id                  string
	trust               string // the trust policy document, as given
	description         string
	maxSession          int32 // seconds
	created             time.Time
	tags                [][2]string
}

func (r *role) arn() string { return "arn:aws:iam::" + r.account + ":role" + r.path + r.name }

func newIAM(clock *vclock.Clock) *iamService {
	return &iamService{clock: clock, roles: map[string]*role{}}
}

// handleIAM serves the IAM operations: CreateRole and GetRole, in the
// account of the caller's credentials.
func (s *Sandbox) handleIAM(ctx context.Context, op string, form url.Values) (any, error) {
	account := s.callerOf(ctx).account
	switch op {
	case "GetRole":
		r, err := s.iam.get(account, form.Get("RoleName"))
		if err != nil {
			return nil, err
		}
		return struct {
			Role roleXML `xml:"Role"`
		}{r.xml()}, nil
	case "CreateRole":
		max, _ := strconv.Atoi(form.Get("MaxSessionDuration"))
		r, err := s.iam.create(account, form.Get("Path"), form.Get("RoleName"), form.Get("AssumeRolePolicyDocument"),
			form.Get("Description"), int32(max), queryPairs(form, "Tags", "Key", "Value"))
		if err != nil {
			return nil, err
		}
		return struct {
			Role roleXML `xml:"Role"`
		}{r.xml()}, nil
	}
	return nil, unknownQueryOp(ServiceIAM, op)
}

var roleName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// create adds a role; an existing name is EntityAlreadyExists.
func (i *iamService) create(account, path, name, trust, description string, maxSession int32, tags [][2]string) (*role, error) {
	if path == "" {
		path = "/"
	}
	switch {
	case !roleName.MatchString(name):
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	case !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/"):
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationError",
			"The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	case maxSession != 0 && (maxSession < 3600 || maxSession > 43200):
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", maxSession)
	}
	if _, err := parsePolicy(trust); err != nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "%v", err)
	}
	if maxSession == 0 {
		maxSession = 3600
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.roles[account+"/"+name] != nil {
		return nil, awsproto.Errorf(http.StatusConflict, "EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	r := &role{account: account, path: path, name: name, id: "AROA" + idSuffix(account+"/"+name, 17), trust: trust,
		description: description, maxSession: maxSession, created: i.clock.Now(), tags: tags}
	i.roles[account+"/"+name] = r
	return r, nil
}

// get finds a role by name (IAM's GetRole takes a name, never an ARN).
func (i *iamService) get(account, name string) (*role, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if r := i.roles[account+"/"+name]; r != nil {
		return r, nil
	}
	return nil, awsproto.Errorf(http.StatusNotFound, "NoSuchEntity", "The role with name %s cannot be found.", name)
}

// byARN finds a role by ARN, path included.
func (i *iamService) byARN(arn string) *role {
	account, kind, name, err := splitIAMARN(arn)
	if err != nil || kind != "role" {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if r := i.roles[account+"/"+name]; r != nil && r.arn() == arn {
		return r
	}
	return nil
}

type roleXML struct {
	Path                     string   `xml:"Path"`
	RoleName                 string   `xml:"RoleName"`
	RoleID                   string   `xml:"RoleId"`
	ARN                      string   `xml:"Arn"`
	CreateDate               string   `xml:"CreateDate"`
	AssumeRolePolicyDocument string   `xml:"AssumeRolePolicyDocument"`
	Description              string   `xml:"Description,omitempty"`
	MaxSessionDuration       int32    `xml:"MaxSessionDuration"`
	Tags                     []tagXML `xml:"Tags>member,omitempty"`
	RoleLastUsed             struct{} `xml:"RoleLastUsed"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// xml is the role as IAM answers it. The trust policy is URL-encoded
// (RFC 3986), as IAM returns every policy document: the AWS CLI and boto3
// decode it, SDK v2 clients get it encoded.
func (r *role) xml() roleXML {
	out := roleXML{Path: r.path, RoleName: r.name, RoleID: r.id, ARN: r.arn(), CreateDate: r.created.UTC().Format(time.RFC3339),
		AssumeRolePolicyDocument: strings.ReplaceAll(url.QueryEscape(r.trust), "+", "%20"),
		Description:              r.description, MaxSessionDuration: r.maxSession}
	for _, t := range r.tags {
		out.Tags = append(out.Tags, tagXML{t[0], t[1]})
	}
	return out
}

// RoleSpec describes a role for PutRole. Give either a whole trust policy
// (Trust) or its common shape: TrustService ("ecs-tasks.amazonaws.com")
// and/or TrustAccounts (account ids whose principals may assume it, ARNs
// of users or roles allowed), with ExternalID required of them, and session
// tags allowed when TagSession is set.
type RoleSpec struct {
	ARN           string          `json:"arn"`
	Trust         json.RawMessage `json:"assumeRolePolicyDocument,omitempty"`
	TrustService  string          `json:"trustService,omitempty"`
	TrustAccounts []string        `json:"trustAccounts,omitempty"`
	ExternalID    string          `json:"externalId,omitempty"`
	TagSession    bool            `json:"tagSession,omitempty"`
	MaxSession    int32           `json:"maxSessionDuration,omitempty"`
}

// PutRole creates a role, or replaces the one with the same name in the
// ARN's account. It is the control API's POST /_sandbox/roles.
func (s *Sandbox) PutRole(spec RoleSpec) error {
	account, kind, name, err := splitIAMARN(spec.ARN)
	if err != nil || kind != "role" {
		return fmt.Errorf("role %q: want an IAM role ARN such as arn:aws:iam::123456789012:role/web-task", spec.ARN)
	}
	path := strings.TrimSuffix(spec.ARN[strings.Index(spec.ARN, ":role/")+len(":role"):], name)
	trust := string(spec.Trust)
	if trust == "" {
		if trust, err = trustDocument(spec); err != nil {
			return fmt.Errorf("role %s: %w", spec.ARN, err)
		}
	}
	s.iam.mu.Lock()
	delete(s.iam.roles, account+"/"+name)
	s.iam.mu.Unlock()
	if _, err := s.iam.create(account, path, name, trust, "", spec.MaxSession, nil); err != nil {
		return fmt.Errorf("role %s: %w", spec.ARN, err)
	}
	return nil
}
