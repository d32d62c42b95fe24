package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// handleSTS serves the STS operations: AssumeRole and GetCallerIdentity.
func (s *Sandbox) handleSTS(ctx context.Context, op string, form url.Values) (any, error) {
	who := s.callerOf(ctx)
	switch op {
	case "GetCallerIdentity":
		return struct {
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
			ARN     string `xml:"Arn"`
		}{who.userID, who.account, who.arn}, nil
	case "AssumeRole":
		return s.assumeRole(who, form)
	}
	return nil, unknownQueryOp(ServiceSTS, op)
}

var (
	sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalID  = regexp.MustCompile(`^[\w+=,.@:/-]{2,}$`)
)

func stsValidation(format string, args ...any) error {
	return awsproto.Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

type assumeRoleResult struct {
	Credentials struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string `xml:"SecretAccessKey"`
		SessionToken    string `xml:"SessionToken"`
		Expiration      string `xml:"Expiration"`
	} `xml:"Credentials"`
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		ARN           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
	PackedPolicySize *int   `xml:"PackedPolicySize,omitempty"`
	SourceIdentity   string `xml:"SourceIdentity,omitempty"`
}

// assumeRole issues temporary credentials for a role in any account, as
// STS does when the role's trust policy allows the caller: sts:AssumeRole
// (with the request's sts:ExternalId, aws:PrincipalArn, …) and, for session
// tags, sts:TagSession. A role that does not exist is AccessDenied, like a
// role that does not trust the caller: STS does not tell them apart.
func (s *Sandbox) assumeRole(who *caller, form url.Values) (any, error) {
	roleARN, name, extID := form.Get("RoleArn"), form.Get("RoleSessionName"), form.Get("ExternalId")
	duration := 3600
	if d := form.Get("DurationSeconds"); d != "" {
		var err error
		if duration, err = strconv.Atoi(d); err != nil {
			return nil, stsValidation("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be a number", d)
		}
	}
	tags := queryPairs(form, "Tags", "Key", "Value")
	switch {
	case len(roleARN) < 20:
		return nil, stsValidation("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", roleARN)
	case !sessionName.MatchString(name):
		return nil, stsValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", name)
	case duration < 900:
		return nil, stsValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", duration)
	case duration > 43200:
		return nil, stsValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", duration)
	case extID != "" && (!externalID.MatchString(extID) || len(extID) > 1224):
		return nil, stsValidation("1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:/-]*", extID)
	case len(tags) > 50:
		return nil, stsValidation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	denied := func(action string) error {
		return awsproto.Errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", who.arn, action, roleARN)
	}
	r := s.iam.byARN(roleARN)
	if r == nil {
		return nil, denied("sts:AssumeRole")
	}
	pol, err := parsePolicy(r.trust)
	if err != nil {
		return nil, denied("sts:AssumeRole")
	}
	req := request{action: "sts:AssumeRole", principalARN: who.principalARN, account: who.account, keys: map[string][]string{
		"aws:PrincipalArn": {who.principalARN}, "aws:PrincipalAccount": {who.account}, "sts:RoleSessionName": {name},
	}}
	if extID != "" {
		req.keys["sts:ExternalId"] = []string{extID}
	}
	if si := form.Get("SourceIdentity"); si != "" {
		req.keys["sts:SourceIdentity"] = []string{si}
	}
	for _, t := range tags {
		req.keys["aws:TagKeys"] = append(req.keys["aws:TagKeys"], t[0])
		req.keys["aws:RequestTag/"+t[0]] = []string{t[1]}
	}
	for _, action := range []string{"sts:AssumeRole", "sts:TagSession"} {
		if action == "sts:TagSession" && len(tags) == 0 {
			break
		}
		req.action = action
		ok, err := pol.allows(req)
		if err != nil {
			return nil, awsproto.Errorf(http.StatusForbidden, "AccessDenied", "%s on resource: %s: %v", action, roleARN, err)
		}
		if !ok {
			return nil, denied(action)
		}
	}
	switch {
	case who.session != nil && duration > 3600:
		return nil, stsValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	case duration > int(r.maxSession):
		return nil, stsValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	sess := s.issue(r, who, name, extID, form.Get("SourceIdentity"), tags, time.Duration(duration)*time.Second)
	var out assumeRoleResult
	out.Credentials.AccessKeyID, out.Credentials.SecretAccessKey = sess.accessKeyID, sess.secret
	out.Credentials.SessionToken, out.Credentials.Expiration = sess.token, sess.expires.UTC().Format(time.RFC3339)
	out.AssumedRoleUser.AssumedRoleID = r.id + ":" + name
	out.AssumedRoleUser.ARN = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", r.account, r.name, name)
	out.SourceIdentity = sess.sourceIdentity
	if len(tags) > 0 {
		packed, _ := json.Marshal(tags)
		size := len(packed) * 100 / 2048 // percent of the packed size limit
		out.PackedPolicySize = &size
	}
	return out, nil
}

// issue records a new STS session.
func (s *Sandbox) issue(r *role, who *caller, name, extID, sourceIdentity string, tags [][2]string, d time.Duration) *session {
	c := s.creds
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	seed := fmt.Sprintf("%d/%s/%s", c.seq, r.arn(), name)
	sess := &session{
		accessKeyID: "ASIA" + idSuffix(seed, 16),
		secret:      base64.RawStdEncoding.EncodeToString([]byte(idSuffix(seed+"/secret", 30))),
		token:       base64.StdEncoding.EncodeToString([]byte("sandbox-session/" + idSuffix(seed+"/token", 96))),
		expires:     s.clock.Now().Add(d), account: r.account, roleARN: r.arn(), roleID: r.id,
		seq: c.seq, sessionName: name, externalID: extID, sourceIdentity: sourceIdentity, tags: map[string]string{}, issuer: who.principalARN,
	}
	for _, t := range tags {
		sess.tags[t[0]] = t[1]
	}
	c.sessions[sess.accessKeyID] = sess
	return sess
}

// Session is one set of temporary credentials STS issued, as
// GET /_sandbox/sessions lists them: what the engine asked for.
type Session struct {
	AccessKeyID    string            `json:"accessKeyId"`
	RoleARN        string            `json:"roleArn"`
	SessionName    string            `json:"roleSessionName"`
	ExternalID     string            `json:"externalId,omitempty"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
	Tags           map[string]string `json:"tags"`
	Issuer         string            `json:"issuer"` // the principal that assumed the role
	Expiration     time.Time         `json:"expiration"`
}

// Sessions returns every STS session issued, oldest first.
func (s *Sandbox) Sessions() []Session {
	s.creds.mu.Lock()
	defer s.creds.mu.Unlock()
	all := make([]*session, 0, len(s.creds.sessions))
	for _, x := range s.creds.sessions {
		all = append(all, x)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	out := []Session{}
	for _, x := range all {
		out = append(out, Session{AccessKeyID: x.accessKeyID, RoleARN: x.roleARN, SessionName: x.sessionName, ExternalID: x.externalID,
			SourceIdentity: x.sourceIdentity, Tags: maps.Clone(x.tags), Issuer: x.issuer, Expiration: x.expires})
	}
	return out
}
