package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// noncurrentVersionDays is how long replaced manifests and templates are
// kept. Revision tags name the template version they were rendered from
// (DESIGN §5), so old versions stay readable for a quarter.
const noncurrentVersionDays = 90

// addStorage creates the Deckhand bucket and uploads the manifest and the
// templates it names.
func (s *stack) addStorage() {
	s.bucket = awss3.NewBucket(s.Stack, jsii.String("Bucket"), &awss3.BucketProps{
		Versioned:         jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-noncurrent-versions"),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(noncurrentVersionDays)),
			NoncurrentVersionsToRetain:          jsii.Number(10),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
			ExpiredObjectDeleteMarker:           jsii.Bool(true),
		}},
	})

	// BucketDeployment copies the files at deploy time through a
	// CDK-provided Lambda function (Python, with the AWS CLI as a layer).
	// The alternative, `aws s3 sync` in `make deploy`, would leave the
	// bucket's contents outside CloudFormation and out of `cdk diff`. Each
	// file is its own Source.data asset, so exactly the manifest and the
	// templates it names are uploaded, at the keys the functions read.
	// Prune removes keys that are no longer named; versioning keeps them
	// recoverable.
	var sources []awss3deployment.ISource
	for _, f := range s.objects() {
		sources = append(sources, awss3deployment.Source_Data(jsii.String(f.key), jsii.String(string(f.data)), nil))
	}
	sources = append(sources, s.partUploads()...)
	awss3deployment.NewBucketDeployment(s.Stack, jsii.String("Upload"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: s.bucket,
		Sources:           &sources,
		Prune:             jsii.Bool(true),
		RetainOnDelete:    jsii.Bool(true),
		MemoryLimit:       jsii.Number(256),
		LogGroup:          s.logGroup("UploadLogs"),
	})
}

type upload struct{ key, path string }

// object is one object the bucket gets: its key and its bytes.
type object struct {
	key  string
	data []byte
}

// objects reads what uploads lists, as the bucket gets it. A manifest with
// include: goes up as one bundle of all its files: one object the
// functions revalidate with one conditional GET, never half old and half
// new.
func (s *stack) objects() []object {
	var out []object
	for _, f := range s.uploads() {
		read := os.ReadFile
		if f.key == ManifestKey {
			read = manifest.Bundle
		}
		data, err := read(f.path)
		if err != nil {
			panic(fmt.Errorf("read %s for upload: %w", f.path, err))
		}
		out = append(out, object{key: f.key, data: data})
	}
	return out
}

// uploads lists the manifest and every template it names, sorted by key.
// Template keys are resolved relative to the manifest's directory.
func (s *stack) uploads() []upload {
	dir := filepath.Dir(s.cfg.ManifestPath)
	keys := map[string]bool{}
	for _, svc := range s.m.Services {
		keys[svc.Template] = true
	}
	for _, j := range s.m.Jobs {
		keys[j.Template] = true
	}
	out := []upload{{key: ManifestKey, path: s.cfg.ManifestPath}}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		out = append(out, upload{key: k, path: filepath.Join(dir, filepath.FromSlash(k))})
	}
	return out
}

// logGroup creates a log group with the configured retention. Log groups
// are explicit so their retention is never "never expire" and they are
// deleted with the stack.
func (s *stack) logGroup(id string) awslogs.LogGroup {
	return awslogs.NewLogGroup(s.Stack, jsii.String(id), &awslogs.LogGroupProps{
		Retention:     retentions[s.cfg.LogRetentionDays],
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
}

// retentions maps the retention periods CloudWatch Logs accepts to the
// CDK's names for them.
var retentions = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS,
	5: awslogs.RetentionDays_FIVE_DAYS, 7: awslogs.RetentionDays_ONE_WEEK,
	14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS,
	120: awslogs.RetentionDays_FOUR_MONTHS, 150: awslogs.RetentionDays_FIVE_MONTHS,
	180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
	731: awslogs.RetentionDays_TWO_YEARS, 1096: awslogs.RetentionDays_THREE_YEARS,
	1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS,
	3288: awslogs.RetentionDays_NINE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
}
