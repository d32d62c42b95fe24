package config

import (
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// AWS builds the functions' SDK configuration from the environment Lambda
// gives a function: the Region, the execution role's credentials
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, static for
// the execution environment's life), AWS_ENDPOINT_URL (the sandbox, or a
// VPC endpoint) and adaptive retry (client-side rate limiting on
// throttling, DESIGN §5). It makes no network calls.
//
// It is what awsconfig.LoadDefaultConfig(WithRegion, WithRetryer) builds
// from such an environment (TestAWSMatchesLoadDefaultConfig compares the
// two), without linking the SDK's config package: that package's default
// credential chain brings the STS, SSO, SSO-OIDC and sign-in clients, whose
// package initialisation (endpoint tables, schemas) ran at every cold start
// for credentials a function never resolves that way. The deckhand CLI
// keeps the full chain (profiles, SSO; cmd/deckhand).
//
// SDK settings this path does not read (shared config files and profiles,
// per-service endpoints, FIPS and dual-stack endpoints, a CA bundle, …) are
// refused with an error naming the variable, rather than silently ignored:
// see refused.
func AWS(getenv func(string) string, region string) (aws.Config, error) {
	var errs []error
	for _, r := range refused {
		if getenv(r.env) != "" {
			errs = append(errs, fmt.Errorf("%s is set, but the functions do not read it (%s); unset it", r.env, r.what))
		}
	}
	// As the SDK's environment configuration: AWS_ACCESS_KEY and
	// AWS_SECRET_KEY are older names, read when the usual ones are unset.
	creds := aws.Credentials{
		AccessKeyID:     or(getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_ACCESS_KEY")),
		SecretAccessKey: or(getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SECRET_KEY")),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		AccountID:       getenv("AWS_ACCOUNT_ID"),
		Source:          envCredentialsSource,
	}
	if !creds.HasKeys() {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are required: Lambda sets them from the "+
			"function's execution role; the functions read credentials from the environment only (no profile, SSO, "+
			"web identity, container or instance credentials)"))
	}
	if len(errs) > 0 {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", errors.Join(errs...))
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.NewCredentialsCache(credentials.StaticCredentialsProvider{
			Value: creds, Source: []aws.CredentialSource{aws.CredentialSourceEnvVars},
		}),
		Retryer: newRetryer,
		AppID:   getenv("AWS_SDK_UA_APP_ID"),
		// The rest is what LoadDefaultConfig sets when nothing configures it.
		Logger:                      logging.NewStandardLogger(os.Stderr),
		DefaultsMode:                aws.DefaultsModeLegacy,
		RequestMinCompressSizeBytes: 10240,
		AccountIDEndpointMode:       aws.AccountIDEndpointModePreferred,
		RequestChecksumCalculation:  aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation:  aws.ResponseChecksumValidationWhenSupported,
		RestrictFilePermissions:     aws.RestrictFilePermissionsUserReadWrite,
	}
	if e := getenv("AWS_ENDPOINT_URL"); e != "" {
		cfg.BaseEndpoint = aws.String(e)
	}
	return cfg, nil
}

// envCredentialsSource is the Source the SDK's environment configuration
// gives credentials read from the environment (awsconfig.CredentialsSourceName).
const envCredentialsSource = "EnvConfigCredentials"

// newRetryer is the functions' retryer: adaptive mode, 5 attempts, no
// client-side retry quota.
func newRetryer() aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = 5
			// No client-side retry quota: a short-lived function's
			// retries are bounded by MaxAttempts and the queue's
			// maxReceiveCount, and a quota drained by one burst of
			// faults would fail later calls without trying them.
			so.RateLimiter = ratelimit.None
		})
	})
}

// refused are the SDK's environment settings (aws-sdk-go-v2/config's
// env_config.go) that LoadDefaultConfig would honour and AWS does not.
// Deckhand's stack sets none of them; one set by hand would otherwise be
// ignored without a word. TestEveryEnvSettingIsAccountedFor checks that
// every setting the SDK reads is honoured, refused, or changes nothing here.
var refused = []struct{ env, what string }{
	{"AWS_PROFILE", "shared config profiles"},
	{"AWS_DEFAULT_PROFILE", "shared config profiles"},
	{"AWS_CONFIG_FILE", "shared config files"},
	{"AWS_SHARED_CREDENTIALS_FILE", "shared config files"},
	{"AWS_CA_BUNDLE", "a custom CA bundle"},
	{"AWS_DEFAULTS_MODE", "SDK defaults modes"},
	{"AWS_USE_FIPS_ENDPOINT", "FIPS endpoints"},
	{"AWS_USE_DUALSTACK_ENDPOINT", "dual-stack endpoints"},
	{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_ENDPOINT_URL is used whenever it is set"},
	{"AWS_ENDPOINT_URL_ECS", "per-service endpoints: use AWS_ENDPOINT_URL"},
	{"AWS_ENDPOINT_URL_S3", "per-service endpoints: use AWS_ENDPOINT_URL"},
	{"AWS_ENDPOINT_URL_EVENTBRIDGE", "per-service endpoints: use AWS_ENDPOINT_URL"},
	{"AWS_ENDPOINT_URL_ECR", "per-service endpoints: use AWS_ENDPOINT_URL"},
	{"AWS_ENDPOINT_URL_SQS", "per-service endpoints: use AWS_ENDPOINT_URL"},
	{"AWS_S3_USE_ARN_REGION", "S3 ARN settings"},
	{"AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS", "S3 multi-Region access point settings"},
	{"AWS_S3_DISABLE_EXPRESS_SESSION_AUTH", "S3 Express settings"},
	{"AWS_DISABLE_REQUEST_COMPRESSION", "request compression settings"},
	{"AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES", "request compression settings"},
	{"AWS_DISABLE_CLOCK_SKEW_CORRECTION", "clock skew settings"},
	{"AWS_ACCOUNT_ID_ENDPOINT_MODE", "account-based endpoint settings"},
	{"AWS_REQUEST_CHECKSUM_CALCULATION", "checksum settings"},
	{"AWS_RESPONSE_CHECKSUM_VALIDATION", "checksum settings"},
	{"AWS_AUTH_SCHEME_PREFERENCE", "auth scheme preferences"},
}
