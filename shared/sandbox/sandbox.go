// Package sandbox is Deckhand's local AWS: an in-process emulator of the
// ECS, ECR, S3, SQS and EventBridge APIs that Deckhand uses, and of the STS,
// IAM, SSM, Secrets Manager, CloudWatch (alarms) and CloudWatch Logs subsets
// it reads, served
// over real HTTP on loopback. The real AWS SDK v2 clients and the AWS CLI
// talk to it through an endpoint override. Any other AWS service is
// answered with a NotImplemented error in that service's own protocol
// (route.go). docs/sandbox.md describes what it emulates and how faithfully.
//
// State is kept per account and Region (scope.go), read from each
// request's credentials and SigV4 signing Region; callers that do not care
// land in Options.Account and Options.Region.
//
// Nothing in the sandbox reads wall time: rollouts, SQS visibility timeouts,
// deduplication windows and throttle buckets move only when the virtual clock
// (Clock) is advanced.
//
// Build clients from AWSConfig:
//
//	cfg := sb.AWSConfig()
//	ecsClient := ecs.NewFromConfig(cfg)
//	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
//
// S3 clients must use path-style addressing against an endpoint override.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/ecssim"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/vclock"
)

// DefaultStart is the virtual clock's start when Options.Start is zero.
var DefaultStart = time.Date(2026, 11, 16, 1, 0, 0, 0, time.UTC)

// Options configure a Sandbox. The zero value is usable.
type Options struct {
	Account string       // default "123456789012"
	Region  string       // default "us-west-2"
	Start   time.Time    // virtual clock start; default DefaultStart
	Logger  *slog.Logger // default discards
	Seed    uint64       // seeds fault probabilities and event ids
	// ECSTiming sets the ECS emulator's lifecycle durations; zero fields
	// take ecssim's defaults.
	ECSTiming ecssim.Timing
	// Latency delays every API answer by this much real time (default 0).
	// AWS answers in milliseconds, never in the tens of microseconds a
	// loopback sandbox takes; a few milliseconds keep clients off races
	// that only such speed exposes (docs/sandbox.md, "The Go SDK's closed
	// connection"). The virtual clock does not move.
	Latency time.Duration
}

func (o Options) withDefaults() Options {
	if o.Account == "" {
		o.Account = "123456789012"
	}
	if o.Region == "" {
		o.Region = "us-west-2"
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// Sandbox is the emulated AWS. Create it with New, serve it with Listen and
// release it with Close. It is safe for concurrent use.
type Sandbox struct {
	opts  Options
	clock *vclock.Clock
	log   *slog.Logger

	bus      *bus
	ecr      *ecrService
	sqs      *sqsService
	s3       *s3Service
	ecs      ecsService
	cw       *cloudWatch
	faults   *faults
	throttle *throttler
	calls    *callLog
	requests atomic.Uint64 // request ids
	eventIDs atomic.Uint64 // event ids, shared by every bus

	places scopes      // per account and Region (scope.go)
	iam    *iamService // roles, per account
	creds  *keyring    // access keys and STS sessions

	tasklogs taskLogs // what task containers write (logs_tasks.go)

	client *http.Client

	mu       sync.Mutex
	srv      *http.Server
	ln       net.Listener
	endpoint string
}

// New builds a sandbox. It does not listen until Listen is called.
func New(opts Options) *Sandbox {
	opts = opts.withDefaults()
	s := &Sandbox{
		opts:  opts,
		clock: vclock.New(opts.Start),
		log:   opts.Logger,
		calls: &callLog{},
		client: &http.Client{Transport: &http.Transport{
			Proxy: nil, MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second,
		}},
	}
	s.places.byKey = map[place]*scope{}
	// One CloudWatch alarm store (the home account's and Region's); every
	// account's ECS watches it, and hears of its state changes.
	s.cw = newCloudWatch(s)
	s.cw.changed = s.alarmsChanged
	s.iam = newIAM(s.clock)
	s.creds = newKeyring()
	home := s.home()
	s.bus, s.ecr, s.sqs, s.ecs = home.bus, home.ecr, home.sqs, home.ecs
	s.s3 = newS3(s.clock)
	s.faults = newFaults(opts.Seed)
	s.throttle = newThrottler(s.clock)
	return s
}

// Listen serves the sandbox on addr, which must be a loopback address such as
// "127.0.0.1:0"; ":0" and "" also mean 127.0.0.1 on a free port. It returns
// the endpoint URL, e.g. "http://127.0.0.1:40123".
func (s *Sandbox) Listen(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if addr == "" {
		host, port, err = "", "0", nil
	}
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", addr, err)
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("listen %s: sandbox serves loopback only", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", addr, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		_ = ln.Close()
		return "", errors.New("listen: sandbox already listening")
	}
	s.ln = ln
	s.endpoint = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
	s.log.Info("sandbox listening", "endpoint", s.endpoint)
	return s.endpoint, nil
}

// Close stops serving. It is safe to call more than once.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	s.client.CloseIdleConnections()
	if srv == nil {
		return nil
	}
	// Shutdown waits for in-flight requests; a connection a client opened
	// but never used would hold it for seconds, so after a short grace the
	// server is closed outright.
	ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		if cerr := srv.Close(); cerr != nil {
			return fmt.Errorf("close sandbox: %w", cerr)
		}
	}
	return nil
}

// Endpoint returns the URL the sandbox serves on, or "" before Listen.
func (s *Sandbox) Endpoint() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endpoint
}

// Clock returns the virtual clock every service in the sandbox runs on.
func (s *Sandbox) Clock() *vclock.Clock { return s.clock }

// Account returns the sandbox's AWS account id.
func (s *Sandbox) Account() string { return s.opts.Account }

// Region returns the sandbox's Region.
func (s *Sandbox) Region() string { return s.opts.Region }

// AWSConfig returns an SDK v2 configuration aimed at the sandbox: static
// credentials "test"/"test", the sandbox Region, BaseEndpoint set to the
// endpoint and the standard retryer. Call it after Listen. S3 clients built
// from it must also set UsePathStyle.
//
// The SDK backs off between retries in real time (it cannot see the virtual
// clock), so the retryer's MaxBackoff is cut to RetryMaxBackoff to keep tests
// fast; attempts, retryable codes and the retry quota are the standard ones.
func (s *Sandbox) AWSConfig() aws.Config {
	return aws.Config{
		Region:       s.opts.Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(s.Endpoint()),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxBackoff = RetryMaxBackoff
				o.RateLimiter = ratelimit.None // as the functions' retryer (shared/aws/config)
			})
		},
		HTTPClient: s.client,
	}
}

// DefaultServerLatency is the answer latency of the `deckhand sandbox`
// server. AWS answers in milliseconds; a loopback server without latency
// answers in tens of microseconds, fast enough for the AWS SDK for Go v2's
// client to close its own connection while reading a response (smithy-go's
// request body, closed when the response arrives, answers the transport's
// final read with io.EOF as an error; aws-sdk-go-v2 #1825, #2737). Five
// milliseconds closed that window in the measurements of docs/sandbox.md.
// The in-process sandbox of tests and the demo has no latency.
const DefaultServerLatency = 5 * time.Millisecond

// RetryMaxBackoff caps the real-time backoff of the retryer AWSConfig builds.
const RetryMaxBackoff = 50 * time.Millisecond
