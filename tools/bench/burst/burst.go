// Package burst measures burst convergence: many pushes at once across
// many services, with the sandbox's ECS throttle buckets on and the
// engine pacing on the virtual clock, against the lower bound the
// RegisterTaskDefinition bucket imposes.
package burst

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/engine/revision"
	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

// Config sizes a burst.
type Config struct {
	Pushes, Repositories, Services int
	// Duplicates is the share of pushes delivered a second time with a
	// fresh delivery id.
	Duplicates float64
	Seed       uint64
	// NoCatchUp runs the deployer without its ECR client: coalescing within
	// a batch only, the baseline for catch-up.
	NoCatchUp bool
}

// Result is one burst's outcome.
type Result struct {
	Config     Config
	Deliveries int
	// Converged is the virtual time from the first delivery to the last
	// UpdateService, after which every service runs its newest image.
	Converged time.Duration
	// Settled is when every rollout had completed as well.
	Settled time.Duration
	// Needed are the registers the end state needs (services whose newest
	// image changed); Bound is the bucket's lower bound for them.
	Needed    int
	Bound     time.Duration
	Registers int
	// Naive is one register per delivery per bound service.
	Naive      int
	Superseded int
	Already    int
	Failed     int
	// CaughtUp counts deployments that caught up to a newer image through
	// ECR; DescribeImages counts the ECR calls that cost.
	CaughtUp       int
	DescribeImages int
	Throttled      int // ThrottlingException answers
	Behind         []string
}

// Ratio is Converged over Bound.
func (r Result) Ratio() float64 {
	if r.Bound <= 0 {
		return 0
	}
	return r.Converged.Seconds() / r.Bound.Seconds()
}

// Run runs one burst against sb (listening, fresh).
func Run(ctx context.Context, sb *sandbox.Sandbox, dir string, cfg Config) (Result, error) {
	res := Result{Config: cfg}
	var m strings.Builder
	m.WriteString("version: 1\nservices:\n")
	initial := map[string]string{}
	for i := range cfg.Services {
		repo := fmt.Sprintf("r%02d", i%cfg.Repositories)
		fmt.Fprintf(&m, "  - {name: s%03d, cluster: burst, service: s%03d, template: t.json, images: {app: {repository: %s, tags: \"semver:*\"}}}\n", i, i, repo)
		initial[repo] = "0.1.0"
	}
	tmpl := `{"family": "{{ .Service }}", "containerDefinitions": [{"name": "app", "image": "{{ .Image }}", "essential": true}]}`
	if err := os.WriteFile(filepath.Join(dir, "t.json"), []byte(tmpl), 0o644); err != nil {
		return res, err
	}
	st, err := local.New(ctx, sb, local.Options{Dir: dir, Manifest: []byte(m.String()), InitialTags: initial, DesiredCount: 1})
	if err != nil {
		return res, err
	}
	// The engine paces with ECS's own rates on the virtual clock. Its Sleep
	// advances the clock; Concurrency 1 keeps one goroutine advancing it,
	// and since the register bucket is account-wide, parallel bindings could
	// not register faster anyway.
	var mu sync.Mutex
	st.Deployer.RegisterLimit = rate.NewLimiter(revision.RegisterRate, revision.RegisterBurst)
	st.Deployer.UpdateLimit = rate.NewLimiter(revision.UpdateRate, revision.UpdateBurst)
	st.Deployer.Concurrency = 1
	if cfg.NoCatchUp {
		st.Deployer.ECR = nil
	}
	st.Deployer.Now = sb.Clock().Now
	st.Deployer.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		sb.Clock().Advance(d)
		return ctx.Err()
	}
	sb.EnableThrottling(true)
	sb.ResetCalls()

	rnd := rand.New(rand.NewPCG(cfg.Seed, 0xb0257))
	newest := map[string]string{}
	var raws [][]byte
	for i := range cfg.Pushes {
		repo, tag := fmt.Sprintf("r%02d", i%cfg.Repositories), fmt.Sprintf("1.0.%d", i)
		digest := sb.PushImageSilently(repo, tag)
		newest[repo] = digest
		raws = append(raws, pushEvent(sb, fmt.Sprintf("burst-%d", i), repo, tag, digest))
		sb.Clock().Advance(time.Millisecond)
	}
	for i := range int(float64(cfg.Pushes) * cfg.Duplicates) {
		var ev events.Raw
		_ = json.Unmarshal(raws[rnd.IntN(cfg.Pushes)], &ev)
		ev.ID += fmt.Sprintf("-dup%d", i)
		raw, _ := json.Marshal(ev)
		raws = append(raws, raw)
	}
	rnd.Shuffle(len(raws), func(i, j int) { raws[i], raws[j] = raws[j], raws[i] })
	res.Deliveries = len(raws)
	res.Naive = len(raws) * cfg.Services / cfg.Repositories
	start := sb.Clock().Now()
	for _, raw := range raws {
		if err := st.Router.Deliver(raw); err != nil {
			return res, err
		}
	}
	for round := 0; round < 600; round++ {
		if _, err := st.Pump(ctx); err != nil {
			return res, err
		}
		if res.Behind = behind(st, cfg, newest); len(res.Behind) == 0 {
			break
		}
		sb.Clock().Advance(time.Second)
	}
	for _, u := range sb.ECS().UpdateHistory() {
		if d := u.Time.Sub(start); u.Cluster == "burst" && d > res.Converged {
			res.Converged = d
		}
	}
	if err := st.Settle(ctx, 5*time.Minute, 5*time.Second); err != nil {
		return res, err
	}
	for _, d := range st.Deployments() {
		switch d.Status {
		case events.StatusSucceeded:
			if t := d.Time.Sub(start); t > res.Settled {
				res.Settled = t
			}
		case events.StatusStarted:
			if strings.Contains(d.Reason, "caught up from") {
				res.CaughtUp++
			}
		case events.StatusSuperseded:
			res.Superseded++
		case events.StatusAlreadyDeployed:
			res.Already++
		case events.StatusFailed:
			res.Failed++
		}
	}
	for _, c := range sb.Calls() {
		if c.Service == sandbox.ServiceECS && c.Op == "RegisterTaskDefinition" && c.Status == 200 {
			res.Registers++
		}
		if c.Op == "DescribeImages" {
			res.DescribeImages++
		}
		if c.Service == sandbox.ServiceECS && c.Status == 400 && (c.Op == "RegisterTaskDefinition" || c.Op == "UpdateService") {
			res.Throttled++ // the only 400s these calls get here are throttles
		}
	}
	res.Needed = cfg.Services // every service's repository got a newer image
	res.Bound = time.Duration(max(0, res.Needed-revision.RegisterBurst)/revision.RegisterRate) * time.Second
	return res, nil
}

func pushEvent(sb *sandbox.Sandbox, id, repo, tag, digest string) []byte {
	raw, _ := json.Marshal(events.ImageActionEvent{
		Version: "0", ID: id, DetailType: events.DetailTypeImageAction, Source: events.SourceECR,
		Account: sb.Account(), Region: sb.Region(), Time: sb.Clock().Now(), Resources: []string{},
		Detail: events.ECRImageAction{Result: events.ResultSuccess, ActionType: events.ActionPush, RepositoryName: repo, ImageDigest: digest, ImageTag: tag},
	})
	return raw
}

// behind lists the services not yet on their repository's newest image.
func behind(st *local.Stack, cfg Config, newest map[string]string) []string {
	var out []string
	for i := range cfg.Services {
		name := fmt.Sprintf("s%03d", i)
		_, imgs, err := st.Running(name)
		if err != nil || !strings.HasSuffix(imgs["app"], newest[fmt.Sprintf("r%02d", i%cfg.Repositories)]) {
			out = append(out, name)
		}
	}
	return out
}
