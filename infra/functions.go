package main

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// sizing is a function's memory and timeout. Lambda gives CPU in proportion
// to memory; Deckhand's Go binaries need little memory, so memory is chosen
// for CPU (TLS handshakes, JSON) and timeouts for the slowest legitimate run.
type sizing struct {
	memoryMB   float64
	timeoutSec float64
	asyncRetry float64 // retries of asynchronous invocations (not SQS)
}

// deployerTimeoutSec and runnerTimeoutSec bound one SQS batch. The deploy
// and job queues' visibility timeouts are derived from them.
const (
	deployerTimeoutSec = 120
	runnerTimeoutSec   = 120
)

// Package-level values are plain Go: a jsii call during package
// initialization would start the jsii kernel before tests pick the Node.js.

var sizes = map[string]sizing{
	// deployer: up to 10 pushes per batch, each rendering templates and
	// paced at ECS's 1 RegisterTaskDefinition/s (DESIGN §5 rule 10), so a
	// batch that fans out to many bindings takes tens of seconds. 512 MB
	// gives a third of a vCPU for rendering and concurrent API calls.
	"deployer": {memoryMB: 512, timeoutSec: deployerTimeoutSec},
	// runner: up to 10 job invocations per SQS batch, one after another:
	// load the manifest, check overlap (ListTasks/DescribeTasks), maybe
	// register, RunTask, then wait (up to about 16 s) until ListTasks
	// lists the new task. Seconds of work each; 120 s leaves room for SDK
	// retries under throttling.
	"runner": {memoryMB: 256, timeoutSec: runnerTimeoutSec, asyncRetry: 2},
	// tracker: one ECS event per invocation, a few Describe calls and a
	// PutEvents, sometimes a RunTask retry. Same envelope as the runner.
	"tracker": {memoryMB: 256, timeoutSec: 60, asyncRetry: 2},
	// reconciler: walks every binding (DescribeServices, DescribeImages)
	// and every running job, paced; it runs every few minutes, so a slow
	// pass must finish well before the next one starts.
	"reconciler": {memoryMB: 256, timeoutSec: 4 * 60, asyncRetry: 0},
}

// addFunctions creates the four functions from dist/<fn>/bootstrap.
func (s *stack) addFunctions() {
	for _, name := range Functions {
		sz := sizes[name]
		id := constructID(name)
		env := map[string]*string{
			"DECKHAND_BUCKET":       s.bucket.BucketName(),
			"DECKHAND_MANIFEST_KEY": jsii.String(ManifestKey),
			"DECKHAND_EVENT_BUS":    s.bus.EventBusName(),
		}
		logs := s.logGroup(id + "Logs")
		// An own role instead of the default one, which carries the
		// AWSLambdaBasicExecutionRole managed policy (logs:* on "*"):
		// this one can write to its own log group only.
		roleProps := &awsiam.RoleProps{
			Description: jsii.String("Deckhand " + name + " function"),
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		}
		if len(s.m.Targets) > 0 {
			// The target stacks, in other accounts, trust this role by
			// name: it cannot be a generated one.
			roleProps.RoleName = jsii.String(hubRoleName(s.cfg, name))
			env["DECKHAND_EXTERNAL_ID"] = jsii.String(s.cfg.externalID())
		}
		role := awsiam.NewRole(s.Stack, jsii.String(id+"Role"), roleProps)
		logs.GrantWrite(role)
		props := &awslambda.FunctionProps{
			Role:          role,
			Description:   jsii.String("Deckhand " + name + " (DESIGN §7)"),
			Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
			Architecture:  awslambda.Architecture_ARM_64(),
			Handler:       jsii.String("bootstrap"),
			Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(s.cfg.DistDir, name)), nil),
			MemorySize:    jsii.Number(sz.memoryMB),
			Timeout:       awscdk.Duration_Seconds(jsii.Number(sz.timeoutSec)),
			Environment:   &env,
			LoggingFormat: awslambda.LoggingFormat_JSON,
			LogGroup:      logs,
		}
		if name != "deployer" {
			// Invoked asynchronously (EventBridge, Scheduler): failures
			// after the retries land in the DLQ, never silently dropped.
			props.RetryAttempts = jsii.Number(sz.asyncRetry)
			props.MaxEventAge = awscdk.Duration_Hours(jsii.Number(1))
			props.DeadLetterQueue = s.newDLQ(id+"AsyncDLQ", false)
		}
		s.fns[name] = awslambda.NewFunction(s.Stack, jsii.String(id), props)
	}
	// The reconciler enqueues synthetic pushes; the queue exists only after
	// the deploy path, so its URL is added there.
}
