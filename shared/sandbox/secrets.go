package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// secretsService emulates Secrets Manager's subset Deckhand reads:
// CreateSecret, DescribeSecret and GetSecretValue. A secret's ARN ends in a
// hyphen and six random characters, as Secrets Manager names them; a secret
// is found by name, full ARN or partial ARN (without the suffix).
type secretsService struct {
	clock           *vclock.Clock
	account, region string

	mu      sync.Mutex
	secrets map[string]*secret // by name
	seq     int
}

type secret struct {
	name, arn, description string
	value, versionID       string
	created, changed       time.Time
	tags                   []map[string]string
}

func newSecrets(clock *vclock.Clock, account, region string) *secretsService {
	return &secretsService{clock: clock, account: account, region: region, secrets: map[string]*secret{}}
}

func (m *secretsService) handle(_ context.Context, op string, body []byte) (any, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if op == "CreateSecret" {
		return m.create(body)
	}
	var in struct{ SecretId string }
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	var sec *secret
	switch op {
	case "DescribeSecret", "GetSecretValue":
		if sec = m.lookup(in.SecretId); sec == nil {
			return nil, awsproto.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		}
	default:
		return nil, awsproto.Errorf(http.StatusBadRequest, "UnknownOperationException", "operation %s is not supported by the sandbox", op)
	}
	if op == "GetSecretValue" {
		return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": sec.versionID, "SecretString": sec.value,
			"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": epochSeconds(sec.changed)}, nil
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name, "CreatedDate": epochSeconds(sec.created),
		"LastChangedDate": epochSeconds(sec.changed), "VersionIdsToStages": map[string][]string{sec.versionID: {"AWSCURRENT"}}}
	if sec.description != "" {
		out["Description"] = sec.description
	}
	if len(sec.tags) > 0 {
		out["Tags"] = sec.tags
	}
	return out, nil
}

var secretName = regexp.MustCompile(`^[\w/+=.@-]{1,512}$`)

func (m *secretsService) create(body []byte) (any, error) {
	var in struct {
		Name, Description, SecretString, ClientRequestToken string
		Tags                                                []map[string]string
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, err
	}
	switch {
	case !secretName.MatchString(in.Name):
		return nil, awsproto.Errorf(http.StatusBadRequest, "ValidationException",
			"Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	case m.secrets[in.Name] != nil:
		return nil, awsproto.Errorf(http.StatusBadRequest, "ResourceExistsException", "The operation failed because the secret %s already exists.", in.Name)
	}
	m.seq++
	now := m.clock.Now()
	sec := &secret{name: in.Name, description: in.Description, value: in.SecretString, created: now, changed: now, tags: in.Tags,
		arn: fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", m.region, m.account, in.Name, secretSuffix(m.account, m.region, in.Name, m.seq))}
	sec.versionID = in.ClientRequestToken
	if sec.versionID == "" {
		sec.versionID = uuidFrom(uint64(m.seq), "secret-version/"+sec.arn)
	}
	m.secrets[in.Name] = sec
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": sec.versionID}, nil
}

// secretSuffix is the six characters Secrets Manager appends to a secret's
// ARN, deterministic here.
func secretSuffix(account, region, name string, seq int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%s/%d", account, region, name, seq))
	var b [6]byte
	for i := range b {
		b[i] = alphabet[int(h[i])%len(alphabet)]
	}
	return string(b[:])
}

// lookup finds a secret by name, full ARN or partial ARN.
func (m *secretsService) lookup(id string) *secret {
	if sec := m.secrets[id]; sec != nil {
		return sec
	}
	prefix := "arn:aws:secretsmanager:" + m.region + ":" + m.account + ":secret:"
	name, ok := strings.CutPrefix(id, prefix)
	if !ok {
		return nil
	}
	if sec := m.secrets[name]; sec != nil { // partial ARN
		return sec
	}
	for _, sec := range m.secrets {
		if sec.arn == id {
			return sec
		}
	}
	return nil
}

// CreateSecret creates a secret in an account and Region ("" for the
// sandbox's own) and returns its full ARN. It is the control API's
// POST /_sandbox/secrets.
func (s *Sandbox) CreateSecret(account, region, name, value string) (string, error) {
	m := s.scope(account, region).secrets
	body, _ := json.Marshal(map[string]any{"Name": name, "SecretString": value})
	out, err := m.handle(context.Background(), "CreateSecret", body)
	if err != nil {
		return "", err
	}
	return out.(map[string]any)["ARN"].(string), nil
}
