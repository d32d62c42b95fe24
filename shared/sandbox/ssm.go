package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// ssmService emulates SSM Parameter Store's subset Deckhand reads:
// PutParameter, GetParameter and GetParameters, with parameter ARNs (what a
// task definition's secrets[].valueFrom names).
type ssmService struct {
	clock           *vclock.Clock
	account, region string

	mu     sync.Mutex
	params map[string]*parameter
}

type parameter struct {
	name, typ, value, description string
	version                       int64
	modified                      time.Time
}

func newSSM(clock *vclock.Clock, account, region string) *ssmService {
	return &ssmService{clock: clock, account: account, region: region, params: map[string]*parameter{}}
}

func (m *ssmService) handle(_ context.Context, op string, body []byte) (any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch op {
	case "PutParameter":
		return m.put(body)
	case "GetParameter":
		var in struct {
			Name           string
			WithDecryption bool
		}
		if err := decodeInput(body, &in); err != nil {
			return nil, err
		}
		p := m.lookup(in.Name)
		if p == nil {
			return nil, awsproto.Errorf(http.StatusBadRequest, "ParameterNotFound", "Parameter %s not found.", in.Name)
		}
		return map[string]any{"Parameter": m.out(p, in.WithDecryption)}, nil
	case "GetParameters":
		return m.getMany(body)
	}
	return nil, awsproto.Errorf(http.StatusBadRequest, "UnknownOperationException", "operation %s is not supported by the sandbox", op)
}

// parameterName is SSM's name rule: letters, digits and _.-/, a hierarchy
// starting with /, at most 15 levels and 1011 characters.
var parameterName = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

func (m *ssmService) put(body []byte) (any, error) {
	var in struct {
		Name, Value, Type, Description string
		Overwrite                      bool
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	switch {
	case len(in.Name) > 1011 || !parameterName.MatchString(in.Name) || strings.Contains(in.Name, "/") && !strings.HasPrefix(in.Name, "/") || strings.Count(in.Name, "/") > 15:
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException",
			"Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")
	case in.Value == "" || len(in.Value) > 4096:
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length between 1 and 4096")
	}
	p := m.params[in.Name]
	switch {
	case p != nil && !in.Overwrite:
		return nil, awsproto.Errorf(http.StatusBadRequest, "ParameterAlreadyExists",
			"The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	case p == nil && in.Type != "String" && in.Type != "StringList" && in.Type != "SecureString":
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", in.Type)
	case p == nil:
		p = &parameter{name: in.Name, typ: in.Type}
		m.params[in.Name] = p
	case in.Type != "":
		p.typ = in.Type
	}
	p.value, p.description, p.modified = in.Value, in.Description, m.clock.Now()
	p.version++
	return map[string]any{"Version": p.version, "Tier": "Standard"}, nil
}

// lookup finds a parameter by name or ARN.
func (m *ssmService) lookup(name string) *parameter {
	if rest, ok := strings.CutPrefix(name, m.arnPrefix()); ok {
		if p := m.params[rest]; p != nil {
			return p
		}
		name = strings.TrimPrefix(rest, "/")
	}
	return m.params[name]
}

func (m *ssmService) arnPrefix() string {
	return "arn:aws:ssm:" + m.region + ":" + m.account + ":parameter"
}

// arn is a parameter's ARN: the name after "parameter", with one slash.
func (m *ssmService) arn(name string) string {
	return m.arnPrefix() + "/" + strings.TrimPrefix(name, "/")
}

func (m *ssmService) out(p *parameter, decrypt bool) map[string]any {
	value := p.value
	if p.typ == "SecureString" && !decrypt {
		value = base64.StdEncoding.EncodeToString([]byte("sandbox-kms:" + p.value)) // SSM answers the ciphertext
	}
	return map[string]any{
		"Name": p.name, "Type": p.typ, "Value": value, "Version": p.version, "ARN": m.arn(p.name),
		"LastModifiedDate": epochSeconds(p.modified), "DataType": "text",
	}
}

func (m *ssmService) getMany(body []byte) (any, error) {
	var in struct {
		Names          []string
		WithDecryption bool
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	if len(in.Names) == 0 || len(in.Names) > 10 {
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException",
			"1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	params, invalid := []map[string]any{}, []string{}
	seen := map[string]bool{}
	for _, n := range in.Names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if p := m.lookup(n); p != nil {
			params = append(params, m.out(p, in.WithDecryption))
		} else {
			invalid = append(invalid, n)
		}
	}
	return map[string]any{"Parameters": params, "InvalidParameters": invalid}, nil
}

// PutParameter creates or overwrites an SSM parameter in an account and
// Region ("" for the sandbox's own) and returns its ARN. typ is String,
// StringList or SecureString. It is the control API's
// POST /_sandbox/ssm-parameters.
func (s *Sandbox) PutParameter(account, region, name, typ, value string) (string, error) {
	m := s.scope(account, region).ssm
	body, _ := json.Marshal(map[string]any{"Name": name, "Type": typ, "Value": value, "Overwrite": true})
	if _, err := m.handle(context.Background(), "PutParameter", body); err != nil {
		return "", err
	}
	return m.arn(name), nil
}
