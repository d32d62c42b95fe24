// Package config reads a function's configuration from the environment once,
// in main, into a typed struct, and builds the AWS SDK configuration.
package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Config is the functions' configuration (DESIGN §7).
type Config struct {
	Bucket      string // DECKHAND_BUCKET (required)
	ManifestKey string // DECKHAND_MANIFEST_KEY (default deckhand.yaml)
	PartsPrefix string // DECKHAND_MANIFEST_PARTS (the deployer's: the key prefix of the message groups' manifest parts; empty: none)
	EventBus    string // DECKHAND_EVENT_BUS (default "default")
	QueueURL    string // DECKHAND_QUEUE_URL (the reconciler's deploy queue)
	JobQueueURL string // DECKHAND_JOB_QUEUE_URL (the tracker's job queue, for re-runs)
	DLQURL      string // DECKHAND_DLQ_URL (the deployer's dead letters; optional)
	Account     string // DECKHAND_ACCOUNT (optional; else from the invoked function ARN)
	ExternalID  string // DECKHAND_EXTERNAL_ID (the sts:ExternalId for the targets' roles, DESIGN §12; set by the CDK app when the manifest has targets)
	Region      string // AWS_REGION
	Endpoint    string // AWS_ENDPOINT_URL (the sandbox, or a VPC endpoint)
	// Snapshot is DECKHAND_SNAPSHOT (optional): an absolute directory
	// holding the bucket's manifest and templates as the function was
	// deployed with them, at their keys (the deployer's snapshot layer,
	// /opt/deckhand). A hint for cold starts (store.S3.Snapshot); the
	// bucket stays the truth.
	Snapshot string
}

// Need names settings a function requires beyond DECKHAND_BUCKET.
type Need int

// Needs.
const (
	NeedQueue Need = iota + 1
	NeedJobQueue
)

// Load reads the configuration with getenv (os.Getenv in main) and reports
// every problem at once.
func Load(getenv func(string) string, needs ...Need) (Config, error) {
	c := Config{
		Bucket:      getenv("DECKHAND_BUCKET"),
		ManifestKey: or(getenv("DECKHAND_MANIFEST_KEY"), "deckhand.yaml"),
		PartsPrefix: getenv("DECKHAND_MANIFEST_PARTS"),
		EventBus:    or(getenv("DECKHAND_EVENT_BUS"), "default"),
		QueueURL:    getenv("DECKHAND_QUEUE_URL"),
		JobQueueURL: getenv("DECKHAND_JOB_QUEUE_URL"),
		DLQURL:      getenv("DECKHAND_DLQ_URL"),
		Account:     getenv("DECKHAND_ACCOUNT"),
		ExternalID:  getenv("DECKHAND_EXTERNAL_ID"),
		Snapshot:    getenv("DECKHAND_SNAPSHOT"),
		Region:      or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")),
		Endpoint:    getenv("AWS_ENDPOINT_URL"),
	}
	var errs []error
	if c.Bucket == "" {
		errs = append(errs, errors.New("DECKHAND_BUCKET is required: the bucket holding deckhand.yaml and the templates"))
	}
	if c.Region == "" {
		errs = append(errs, errors.New("AWS_REGION is required"))
	}
	if c.Account != "" && (len(c.Account) != 12 || strings.Trim(c.Account, "0123456789") != "") {
		errs = append(errs, fmt.Errorf("DECKHAND_ACCOUNT %q is not a 12-digit account id", c.Account))
	}
	if c.ExternalID != "" && !ValidExternalID(c.ExternalID) {
		errs = append(errs, fmt.Errorf("DECKHAND_EXTERNAL_ID %q: want 2 to 1224 characters of letters, digits and +=,.@:/-", c.ExternalID))
	}
	if c.Snapshot != "" && !strings.HasPrefix(c.Snapshot, "/") {
		errs = append(errs, fmt.Errorf("DECKHAND_SNAPSHOT %q is not an absolute directory", c.Snapshot))
	}
	for _, n := range needs {
		if n == NeedQueue && c.QueueURL == "" {
			errs = append(errs, errors.New("DECKHAND_QUEUE_URL is required: the deploy FIFO queue's URL"))
		}
		if n == NeedJobQueue && c.JobQueueURL == "" {
			errs = append(errs, errors.New("DECKHAND_JOB_QUEUE_URL is required: the job FIFO queue's URL"))
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// S3Options sets path-style addressing whenever an endpoint is overridden:
// with http://localhost:PORT the SDK would use virtual-hosted style, and
// bucket.localhost does not resolve (DESIGN §8). It also silences the line
// the SDK logs for every GetObject whose object has no stored checksum
// (objects uploaded without one, like most configuration files): Deckhand
// revalidates by ETag, and a log line per invocation is only noise.
func S3Options(endpoint string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.DisableLogOutputChecksumValidationSkipped = true
		if endpoint != "" || o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	}
}

// ValidExternalID reports whether s is an external id STS accepts: 2 to
// 1224 characters of letters, digits and +=,.@:/- (IAM and STS quotas).
func ValidExternalID(s string) bool {
	return len(s) >= 2 && len(s) <= 1224 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@:/-") == ""
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// AccountFromARN returns the account field of an ARN such as the invoked
// function's (arn:aws:lambda:us-west-2:123456789012:function:deployer).
func AccountFromARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

// Setup reads the configuration and the AWS SDK configuration (AWS), for a
// function's main: one error lists every problem.
func Setup(getenv func(string) string, needs ...Need) (Config, aws.Config, error) {
	c, err := Load(getenv, needs...)
	awsCfg, awsErr := AWS(getenv, c.Region)
	if err := errors.Join(err, awsErr); err != nil {
		return c, aws.Config{}, err
	}
	return c, awsCfg, nil
}
