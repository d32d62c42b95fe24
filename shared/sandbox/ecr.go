package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// ecrService emulates the ECR API subset Deckhand uses: repositories and
// image manifests with tags. PutImage and BatchDeleteImage publish
// "ECR Image Action" events on the bus.
type ecrService struct {
	s               *Sandbox
	account, region string
	bus             *bus

	mu    sync.Mutex
	repos map[string]*repository
	order []string // repository names in creation order
	seq   int      // PushImage manifest counter

	scanning registryScanning      // PutRegistryScanningConfiguration (ecr_scan.go)
	scripts  map[string]ScanScript // scan outcomes by "repo@digest" or "repo"
	findings int                   // finding names
}

type repository struct {
	name       string
	created    time.Time
	images     []*image // push order
	scanOnPush bool     // imageScanningConfiguration
}

type image struct {
	digest    string
	manifest  string
	mediaType string
	artifact  string
	size      int64
	tags      []string
	pushedAt  time.Time
	scan      *imageScan // the latest scan, or nil (ecr_scan.go)
}

func newECR(s *Sandbox, account, region string, b *bus) *ecrService {
	e := &ecrService{s: s, account: account, region: region, bus: b, repos: map[string]*repository{},
		scanning: registryScanning{ScanType: "BASIC", Rules: []scanRule{}}, scripts: map[string]ScanScript{}}
	s.clock.OnAdvance(e.advance)
	return e
}

type ecrOp func(e *ecrService, body []byte) (any, []pendingEvent, error)

var ecrOps = map[string]ecrOp{
	"CreateRepository":     (*ecrService).createRepository,
	"DescribeRepositories": (*ecrService).describeRepositories,
	"PutImage":             (*ecrService).putImage,
	"DescribeImages":       (*ecrService).describeImages,
	"BatchGetImage":        (*ecrService).batchGetImage,
	"ListImages":           (*ecrService).listImages,
	"BatchDeleteImage":     (*ecrService).batchDeleteImage,

	"PutImageScanningConfiguration":    (*ecrService).putImageScanningConfiguration,
	"PutRegistryScanningConfiguration": (*ecrService).putRegistryScanningConfiguration,
	"GetRegistryScanningConfiguration": (*ecrService).getRegistryScanningConfiguration,
	"StartImageScan":                   (*ecrService).startImageScan,
	"DescribeImageScanFindings":        (*ecrService).describeImageScanFindings,
}

// pendingEvent is an event an operation publishes once it has released the
// ECR lock.
type pendingEvent struct {
	source     string // default aws.ecr
	detailType string
	resources  []string
	detail     any
	at         time.Time // when it happened; zero: now
}

func (e *ecrService) handle(_ context.Context, op string, body []byte) (any, error) {
	f, ok := ecrOps[op]
	if !ok {
		return nil, awsproto.Errorf(http.StatusBadRequest, "UnknownOperationException", "operation %s is not supported by the sandbox", op)
	}
	e.mu.Lock()
	due := e.completeScans(e.s.clock.Now())
	out, evs, err := f(e, body)
	e.mu.Unlock()
	e.publish(append(due, evs...))
	return out, err
}

// publish emits events an operation left pending, after the ECR lock is
// released.
func (e *ecrService) publish(evs []pendingEvent) {
	for _, ev := range evs {
		source := ev.source
		if source == "" {
			source = sourceECR
		}
		if ev.at.IsZero() {
			e.bus.emit(source, ev.detailType, ev.resources, ev.detail)
			continue
		}
		raw, _ := json.Marshal(ev.detail)
		e.bus.publish(e.bus.envelope(source, ev.detailType, ev.resources, raw, ev.at))
	}
}

const sourceECR = "aws.ecr"

func decodeInput(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return awsproto.Errorf(http.StatusBadRequest, "SerializationException", "decode request: %v", err)
	}
	return nil
}

func (e *ecrService) repoARN(name string) string {
	return fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", e.region, e.account, name)
}

func (e *ecrService) repoOut(r *repository) map[string]any {
	return map[string]any{
		"repositoryArn":              e.repoARN(r.name),
		"registryId":                 e.account,
		"repositoryName":             r.name,
		"repositoryUri":              fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", e.account, e.region, r.name),
		"createdAt":                  epochSeconds(r.created),
		"imageTagMutability":         "MUTABLE",
		"imageScanningConfiguration": map[string]bool{"scanOnPush": r.scanOnPush},
	}
}

func (e *ecrService) repo(name string) (*repository, error) {
	r := e.repos[name]
	if r == nil {
		return nil, awsproto.Errorf(http.StatusBadRequest, "RepositoryNotFoundException",
			"The repository with name '%s' does not exist in the registry with id '%s'", name, e.account)
	}
	return r, nil
}

// ensureRepo returns the repository, creating it if needed. Callers hold mu.
func (e *ecrService) ensureRepo(name string) *repository {
	if r := e.repos[name]; r != nil {
		return r
	}
	r := &repository{name: name, created: e.s.clock.Now()}
	e.repos[name] = r
	e.order = append(e.order, name)
	return r
}

func (e *ecrService) createRepository(body []byte) (any, []pendingEvent, error) {
	var in struct {
		RepositoryName             string `json:"repositoryName"`
		ImageScanningConfiguration struct {
			ScanOnPush bool `json:"scanOnPush"`
		} `json:"imageScanningConfiguration"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, nil, err
	}
	if in.RepositoryName == "" {
		return nil, nil, awsproto.InvalidParameter("repositoryName is required")
	}
	if e.repos[in.RepositoryName] != nil {
		return nil, nil, awsproto.Errorf(http.StatusBadRequest, "RepositoryAlreadyExistsException",
			"The repository with name '%s' already exists in the registry with id '%s'", in.RepositoryName, e.account)
	}
	r := e.ensureRepo(in.RepositoryName)
	r.scanOnPush = in.ImageScanningConfiguration.ScanOnPush
	return map[string]any{"repository": e.repoOut(r)}, nil, nil
}

func (e *ecrService) describeRepositories(body []byte) (any, []pendingEvent, error) {
	var in struct {
		RepositoryNames []string `json:"repositoryNames"`
		NextToken       string   `json:"nextToken"`
		MaxResults      int      `json:"maxResults"`
	}
	if err := decodeInput(body, &in); err != nil {
		return nil, nil, err
	}
	names := e.order
	if len(in.RepositoryNames) > 0 {
		names = in.RepositoryNames
	}
	var repos []map[string]any
	for _, n := range names {
		r, err := e.repo(n)
		if err != nil {
			return nil, nil, err
		}
		repos = append(repos, e.repoOut(r))
	}
	page, next, err := paginate(repos, in.NextToken, in.MaxResults, 100, 1000)
	if err != nil {
		return nil, nil, err
	}
	return map[string]any{"repositories": nonNil(page), "nextToken": next}, nil, nil
}

// paginate cuts items into a page. Tokens are decimal offsets.
func paginate[T any](items []T, token string, max, def, limit int) ([]T, *string, error) {
	if max <= 0 {
		max = def
	}
	if max > limit {
		return nil, nil, awsproto.InvalidParameter("maxResults must be at most %d", limit)
	}
	start := 0
	if token != "" {
		if _, err := fmt.Sscanf(token, "%d", &start); err != nil || start < 0 || start > len(items) {
			return nil, nil, awsproto.InvalidParameter("invalid nextToken")
		}
	}
	end := min(start+max, len(items))
	if end < len(items) {
		next := fmt.Sprint(end)
		return items[start:end], &next, nil
	}
	return items[start:end], nil, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// epochSeconds is how the JSON protocols encode timestamps.
func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

func (r *repository) byDigest(digest string) *image {
	for _, im := range r.images {
		if im.digest == digest {
			return im
		}
	}
	return nil
}

func (r *repository) byTag(tag string) *image {
	for _, im := range r.images {
		if slices.Contains(im.tags, tag) {
			return im
		}
	}
	return nil
}
