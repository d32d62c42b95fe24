package config

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// honoured are the SDK's environment settings AWS reads.
var honoured = []string{
	"AWS_REGION", "AWS_DEFAULT_REGION", // through Load
	"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_ACCOUNT_ID",
	"AWS_ENDPOINT_URL", "AWS_SDK_UA_APP_ID",
}

// ignored are the SDK's environment settings that change nothing for the
// functions under LoadDefaultConfig either, given the explicit retryer and
// environment credentials (which the SDK's chain prefers to every source
// but a profile named in code).
var ignored = []string{
	"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", // the retryer is explicit
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", // credential sources after the environment's
	"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_V1_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", // IMDS: credentials, Region and defaults mode "auto" only
	"AWS_ENABLE_ENDPOINT_DISCOVERY",          // none of the functions' services discovers endpoints
	"AWS_RESTRICT_FILE_PERMISSIONS",          // credential cache files (SSO, sign-in)
}

// sdkConfigDir is the SDK config module's source directory.
func sdkConfigDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2/config").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/aws/aws-sdk-go-v2/config: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// sdkEnvSettings are the environment variables the SDK's environment
// configuration names (per-service AWS_ENDPOINT_URL_<SERVICE> excepted: it
// builds those names).
func sdkEnvSettings(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(sdkConfigDir(t), "env_config.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`"(AWS_[A-Z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) < 30 {
		t.Fatalf("found only %d AWS_ settings in the SDK's env_config.go: %v", len(names), names)
	}
	return names
}

// TestEveryEnvSettingIsAccountedFor fails when the SDK (after an upgrade)
// reads an environment setting AWS neither honours nor refuses nor knows
// to be irrelevant to the functions.
func TestEveryEnvSettingIsAccountedFor(t *testing.T) {
	known := map[string]string{}
	for _, n := range honoured {
		known[n] = "honoured"
	}
	for _, n := range ignored {
		known[n] = "ignored"
	}
	for _, r := range refused {
		if prev, ok := known[r.env]; ok {
			t.Errorf("%s is both refused and %s", r.env, prev)
		}
		known[r.env] = "refused"
	}
	for _, n := range sdkEnvSettings(t) {
		if _, ok := known[n]; !ok {
			t.Errorf("the SDK's LoadDefaultConfig reads %s, which AWS neither honours nor refuses: decide which (shared/aws/config/aws.go)", n)
		}
	}
}

// isolate clears every AWS setting of the process environment for the
// test and points HOME at an empty directory (no shared config files).
func isolate(t *testing.T, env map[string]string) {
	t.Helper()
	names := append(sdkEnvSettings(t), "HOME")
	for _, r := range refused {
		names = append(names, r.env)
	}
	for _, n := range names {
		t.Setenv(n, "")
		os.Unsetenv(n)
	}
	t.Setenv("HOME", t.TempDir())
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// TestAWSMatchesLoadDefaultConfig compares AWS with what the SDK's
// LoadDefaultConfig (which config.AWS used to call) builds from the same
// Lambda-like environment, field by field.
func TestAWSMatchesLoadDefaultConfig(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"lambda": {"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE",
			"AWS_ACCESS_KEY": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
			"AWS_LAMBDA_FUNCTION_NAME": "deployer", "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023"},
		"sandbox": {"AWS_REGION": "us-west-2", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ACCESS_KEY_ID": "test",
			"AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"},
		"older names, account, app id, retry settings": {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY": "AKIA", "AWS_SECRET_KEY": "s",
			"AWS_ACCOUNT_ID": "123456789012", "AWS_SDK_UA_APP_ID": "deckhand", "AWS_MAX_ATTEMPTS": "9", "AWS_RETRY_MODE": "standard",
			"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/x", "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent"},
	} {
		t.Run(name, func(t *testing.T) {
			isolate(t, env)
			t.Setenv("DECKHAND_BUCKET", "deckhand-config")
			c, got, err := Setup(os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			// The Region too: Load's against the SDK's own resolution.
			want, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryer(newRetryer))
			if err != nil {
				t.Fatal(err)
			}
			// ConfigSources: the SDK's carry the environment and shared
			// config for per-service settings, which AWS refuses instead.
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(),
				cmpopts.IgnoreFields(aws.Config{}, "Credentials", "Retryer", "Logger", "ConfigSources")); diff != "" {
				t.Errorf("AWS differs from LoadDefaultConfig (-LoadDefaultConfig +AWS):\n%s", diff)
			}
			wl, _ := want.Logger.(*logging.StandardLogger)
			gl, _ := got.Logger.(*logging.StandardLogger)
			if wl == nil || gl == nil || gl.Logger.Writer() != wl.Logger.Writer() || gl.Logger.Prefix() != wl.Logger.Prefix() || gl.Logger.Flags() != wl.Logger.Flags() {
				t.Errorf("logger %#v, LoadDefaultConfig's %#v", got.Logger, want.Logger)
			}
			if c.Region != want.Region {
				t.Errorf("Load's Region %q, the SDK's %q", c.Region, want.Region)
			}
			wantCreds, err := want.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			gotCreds, err := got.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantCreds, gotCreds); diff != "" {
				t.Errorf("credentials differ (-LoadDefaultConfig +AWS):\n%s", diff)
			}
			type sourced interface{ ProviderSources() []aws.CredentialSource }
			ws, _ := want.Credentials.(sourced)
			gs, _ := got.Credentials.(sourced)
			if ws == nil || gs == nil || !slices.Equal(ws.ProviderSources(), gs.ProviderSources()) {
				t.Errorf("credential provider %T, LoadDefaultConfig's %T: sources differ", got.Credentials, want.Credentials)
			} else if !slices.Equal(gs.ProviderSources(), []aws.CredentialSource{aws.CredentialSourceEnvVars}) {
				t.Errorf("credential sources = %v, want the environment's", gs.ProviderSources())
			}
			if wr, gr := want.Retryer(), got.Retryer(); fmt.Sprintf("%T", wr) != fmt.Sprintf("%T", gr) || gr.MaxAttempts() != 5 || wr.MaxAttempts() != 5 {
				t.Errorf("retryer %T with %d attempts, want %T with 5", gr, gr.MaxAttempts(), wr)
			}
		})
	}
}

// recorder is an AWS endpoint on 127.0.0.1 that records requests and
// answers with status and body.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newRecorder(t *testing.T, status int, body string) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Clone(context.Background()))
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func lambdaEnv(endpoint string) map[string]string {
	return map[string]string{
		"DECKHAND_BUCKET": "deckhand-config", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
		"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "ASIAENVKEY", "AWS_SECRET_ACCESS_KEY": "envsecret",
		"AWS_SESSION_TOKEN": "envtoken",
	}
}

// TestSetupSignsWithTheEnvironmentsCredentialsAtTheEndpoint: the requests
// go to AWS_ENDPOINT_URL, in AWS_REGION, signed with the environment's key
// and session token; S3 uses path-style addressing there.
func TestSetupSignsWithTheEnvironmentsCredentialsAtTheEndpoint(t *testing.T) {
	srv := newRecorder(t, http.StatusOK, `{}`)
	env := lambdaEnv(srv.URL)
	c, cfg, err := Setup(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("ListClusters: %v", err)
	}
	// The S3 answer is not an object; only the request matters.
	_, _ = s3.NewFromConfig(cfg, S3Options(c.Endpoint)).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.Bucket), Key: aws.String("deckhand.yaml")})
	reqs := srv.requests()
	if len(reqs) < 2 {
		t.Fatalf("the endpoint got %d requests, want 2", len(reqs))
	}
	for i, svc := range []string{"ecs", "s3"} {
		r := reqs[i]
		scope := fmt.Sprintf("Credential=ASIAENVKEY/%s/eu-west-1/%s/aws4_request", time.Now().UTC().Format("20060102"), svc)
		if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, scope) {
			t.Errorf("%s: Authorization = %q, want a SigV4 signature with %s", svc, auth, scope)
		}
		if tok := r.Header.Get("X-Amz-Security-Token"); tok != "envtoken" {
			t.Errorf("%s: X-Amz-Security-Token = %q, want the environment's session token", svc, tok)
		}
	}
	if reqs[0].Header.Get("X-Amz-Target") != "AmazonEC2ContainerServiceV20141113.ListClusters" {
		t.Errorf("ECS request target %q", reqs[0].Header.Get("X-Amz-Target"))
	}
	if reqs[1].URL.Path != "/deckhand-config/deckhand.yaml" {
		t.Errorf("S3 request path %q, want path-style /deckhand-config/deckhand.yaml", reqs[1].URL.Path)
	}
}

// TestSetupRetriesFiveTimesWithoutAQuota: 5 attempts per call, and no
// client-side retry quota (ratelimit.None): the default quota (500 tokens,
// 5 per retry) would stop retrying after 100 retries in a burst of faults.
func TestSetupRetriesFiveTimesWithoutAQuota(t *testing.T) {
	srv := newRecorder(t, http.StatusInternalServerError, `{"__type":"ServerException","message":"boom"}`)
	env := lambdaEnv(srv.URL)
	_, cfg, err := Setup(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	client := ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, time.Millisecond) // the test's only change: no real backoff
	})
	const calls = 30 // 120 retries
	for i := range calls {
		_, err := client.ListClusters(context.Background(), &ecs.ListClustersInput{})
		var maxErr *retry.MaxAttemptsError
		if !errors.As(err, &maxErr) || maxErr.Attempt != 5 {
			t.Fatalf("call %d: %v, want it to give up after 5 attempts", i, err)
		}
	}
	if n := len(srv.requests()); n != calls*5 {
		t.Errorf("%d requests for %d failing calls, want %d", n, calls, calls*5)
	}
}

func TestSetupRequiresTheEnvironmentsCredentials(t *testing.T) {
	env := lambdaEnv("")
	delete(env, "AWS_ACCESS_KEY_ID")
	delete(env, "DECKHAND_BUCKET")
	_, _, err := Setup(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("Setup without AWS_ACCESS_KEY_ID succeeded")
	}
	for _, want := range []string{"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required", "DECKHAND_BUCKET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
}

func TestSetupRefusesSettingsItDoesNotRead(t *testing.T) {
	env := lambdaEnv("")
	env["AWS_PROFILE"] = "prod"
	env["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:9000"
	env["AWS_USE_FIPS_ENDPOINT"] = "true"
	_, _, err := Setup(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("Setup with AWS_PROFILE, AWS_ENDPOINT_URL_S3 and AWS_USE_FIPS_ENDPOINT succeeded")
	}
	for _, want := range []string{"AWS_PROFILE is set", "AWS_ENDPOINT_URL_S3 is set", "AWS_USE_FIPS_ENDPOINT is set"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
}

// TestFunctionsDoNotLinkTheCredentialChain: the functions' binaries must
// not import the SDK's config package (nor the SSO, SSO-OIDC and sign-in
// clients its credential chain brings), whose package initialisation runs
// at every cold start (BENCHMARKS.md §1). The STS client they do link, on
// purpose: they assume the targets' roles (shared/aws/targets, DESIGN
// §12), on first use of a target, never at init.
func TestFunctionsDoNotLinkTheCredentialChain(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/deckhand-ecs/deckhand/functions/...").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/aws/aws-sdk-go-v2/service/ecs") {
		t.Fatalf("go list -deps ./functions/... does not list the ECS client: %v", deps)
	}
	for _, d := range deps {
		for _, banned := range []string{"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/credentials/stscreds",
			"github.com/aws/aws-sdk-go-v2/service/sso", "github.com/aws/aws-sdk-go-v2/service/signin"} {
			if d == banned || strings.HasPrefix(d, banned+"/") || strings.HasPrefix(d, banned+"oidc") {
				t.Errorf("a function links %s", d)
			}
		}
	}
}

// TestRequestsMatchLoadDefaultConfig sends the same ECS and S3 calls with
// AWS's configuration and with LoadDefaultConfig's from the same
// environment: the requests must be the same but for the per-request
// values (invocation id, date, signature).
func TestRequestsMatchLoadDefaultConfig(t *testing.T) {
	srv := newRecorder(t, http.StatusOK, `{}`)
	env := lambdaEnv(srv.URL)
	isolate(t, env)
	_, got, err := Setup(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	want, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryer(newRetryer))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, cfg := range []aws.Config{want, got} {
		if _, err := ecs.NewFromConfig(cfg).ListClusters(ctx, &ecs.ListClustersInput{}); err != nil {
			t.Fatalf("ListClusters: %v", err)
		}
		_, _ = s3.NewFromConfig(cfg, S3Options(env["AWS_ENDPOINT_URL"])).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	}
	reqs := srv.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	type request struct {
		Method, URL string
		Header      http.Header
	}
	norm := func(r *http.Request) request {
		h := r.Header.Clone()
		for _, k := range []string{"Amz-Sdk-Invocation-Id", "X-Amz-Date"} {
			h.Del(k)
		}
		// The signature changes with the date; the rest of the
		// Authorization header (key, scope, signed headers) must not.
		if auth, _, ok := strings.Cut(h.Get("Authorization"), "Signature="); ok {
			h.Set("Authorization", auth)
		}
		return request{r.Method, r.URL.String(), h}
	}
	for i, op := range []string{"ListClusters", "GetObject"} {
		if diff := cmp.Diff(norm(reqs[i]), norm(reqs[i+2])); diff != "" {
			t.Errorf("%s request differs (-LoadDefaultConfig +AWS):\n%s", op, diff)
		}
	}
}
