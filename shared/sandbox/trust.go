package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// policy is an IAM policy document, as far as a role's trust policy needs:
// statements with an effect, principals, actions and conditions.
type policy struct {
	Statement oneOrMany[statement] `json:"Statement"`
}

type statement struct {
	Effect    string                                  `json:"Effect"`
	Principal principal                               `json:"Principal"`
	Action    oneOrMany[string]                       `json:"Action"`
	Condition map[string]map[string]oneOrMany[string] `json:"Condition"`
}

// principal is "*" or {"AWS": …, "Service": …, "Federated": …}.
type principal struct {
	any                 bool
	aws, service, other []string
}

func (p *principal) UnmarshalJSON(b []byte) error {
	var star string
	if json.Unmarshal(b, &star) == nil {
		if star != "*" {
			return fmt.Errorf("principal %q: want \"*\" or an object", star)
		}
		p.any = true
		return nil
	}
	var m map[string]oneOrMany[string]
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("principal: %w", err)
	}
	for k, v := range m {
		switch k {
		case "AWS":
			p.aws = v
		case "Service":
			p.service = v
		default:
			p.other = append(p.other, v...)
		}
	}
	return nil
}

// oneOrMany is a JSON string or list of strings (or objects), as policies
// write them.
type oneOrMany[T any] []T

func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	var one T
	if err := json.Unmarshal(b, &one); err == nil {
		*o = []T{one}
		return nil
	}
	var many []T
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*o = many
	return nil
}

// parsePolicy decodes a policy document, or says why it is malformed.
func parsePolicy(doc string) (policy, error) {
	var p policy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("the policy is not valid JSON: %v", err)
	}
	if len(p.Statement) == 0 {
		return p, errors.New("syntax errors in policy: no Statement")
	}
	for _, st := range p.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return p, fmt.Errorf("syntax errors in policy: Effect %q", st.Effect)
		}
	}
	return p, nil
}

// request is what a trust policy is evaluated against: who asks, for what
// action, and the condition keys of the request.
type request struct {
	action       string // sts:AssumeRole, sts:TagSession
	principalARN string // aws:PrincipalArn
	account      string // aws:PrincipalAccount
	keys         map[string][]string
}

// allows evaluates the policy for req: an explicit Deny wins, then any
// Allow; nothing matching denies. A condition operator the sandbox does not
// evaluate is an error rather than a guess.
func (p policy) allows(req request) (bool, error) {
	allowed := false
	for _, st := range p.Statement {
		ok, err := st.matches(req)
		if err != nil {
			return false, err
		}
		if ok && st.Effect == "Deny" {
			return false, nil
		}
		allowed = allowed || ok
	}
	return allowed, nil
}

func (st statement) matches(req request) (bool, error) {
	if !slices.ContainsFunc(st.Action, func(a string) bool { return globMatch(strings.ToLower(a), strings.ToLower(req.action)) }) {
		return false, nil
	}
	if !st.Principal.any && !slices.ContainsFunc(st.Principal.aws, func(a string) bool {
		return a == "*" || a == req.account || a == "arn:aws:iam::"+req.account+":root" || a == req.principalARN
	}) {
		return false, nil
	}
	for op, conds := range st.Condition {
		for key, want := range conds {
			ok, err := condition(op, req.keys[key], want)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, nil
			}
		}
	}
	return true, nil
}

// condition evaluates one condition operator (String*, Arn*, with the
// ForAllValues:/ForAnyValue: set qualifiers and IfExists) on a key's values.
func condition(op string, have, want []string) (bool, error) {
	set, base := "", op
	if q, rest, ok := strings.Cut(op, ":"); ok {
		set, base = q, rest
	}
	base, ifExists := strings.CutSuffix(base, "IfExists")
	var match func(have, want string) bool
	negate := false
	switch base {
	case "StringEquals", "ArnEquals":
		match = func(h, w string) bool { return h == w }
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "ArnLike":
		match = globMatch
	case "StringNotEquals", "ArnNotEquals":
		match, negate = func(h, w string) bool { return h == w }, true
	case "StringNotLike", "ArnNotLike":
		match, negate = globMatch, true
	default:
		return false, fmt.Errorf("the sandbox does not evaluate the condition operator %s", op)
	}
	one := func(h string) bool {
		hit := slices.ContainsFunc(want, func(w string) bool { return match(h, w) })
		return hit != negate
	}
	switch set {
	case "ForAllValues":
		return !slices.ContainsFunc(have, func(h string) bool { return !one(h) }), nil
	case "ForAnyValue":
		return slices.ContainsFunc(have, one), nil
	case "":
		if len(have) == 0 {
			return ifExists || negate, nil
		}
		return one(have[0]), nil
	}
	return false, fmt.Errorf("the sandbox does not evaluate the condition operator %s", op)
}

// globMatch matches IAM's wildcards: * any run of characters, ? one.
func globMatch(s, pattern string) bool {
	// path.Match treats / specially; IAM does not, so map it away.
	ok, err := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}

// trustDocument writes the trust policy a RoleSpec's shorthand describes,
// in the shape the CDK app synthesizes for target roles.
func trustDocument(spec RoleSpec) (string, error) {
	type stmt struct {
		Effect    string                       `json:"Effect"`
		Principal map[string]any               `json:"Principal"`
		Action    string                       `json:"Action"`
		Condition map[string]map[string]string `json:"Condition,omitempty"`
	}
	var sts []stmt
	if spec.TrustService != "" {
		sts = append(sts, stmt{Effect: "Allow", Principal: map[string]any{"Service": spec.TrustService}, Action: "sts:AssumeRole"})
	}
	if len(spec.TrustAccounts) > 0 {
		var principals []string
		for _, a := range spec.TrustAccounts {
			if len(a) == 12 && strings.Trim(a, "0123456789") == "" {
				a = "arn:aws:iam::" + a + ":root"
			}
			principals = append(principals, a)
		}
		st := stmt{Effect: "Allow", Principal: map[string]any{"AWS": principals}, Action: "sts:AssumeRole"}
		if spec.ExternalID != "" {
			st.Condition = map[string]map[string]string{"StringEquals": {"sts:ExternalId": spec.ExternalID}}
		}
		sts = append(sts, st)
		if spec.TagSession {
			sts = append(sts, stmt{Effect: "Allow", Principal: map[string]any{"AWS": principals}, Action: "sts:TagSession"})
		}
	}
	if len(sts) == 0 {
		return "", errors.New("give assumeRolePolicyDocument, trustService or trustAccounts")
	}
	doc, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": sts})
	return string(doc), err
}
