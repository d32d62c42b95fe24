// Package clicompare runs identical deploys against one sandbox server in
// one run: `deckhand deploy` (the CLI binary) and the seed-style shell
// deploy (sed renders the template, then `aws ecs register-task-definition`
// and `aws ecs update-service` with the preinstalled AWS CLI), and reports
// the CPU time and wall time of each.
package clicompare

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

// Script is the seed-style deploy: render with sed, register, update.
const Script = `set -euo pipefail
image="$1"
sed "s#@@IMAGE@@#${image}#g" "$TEMPLATE" > "$WORK/td.json"
arn=$(aws ecs register-task-definition --endpoint-url "$ENDPOINT" --cli-input-json "file://$WORK/td.json" \
  --query taskDefinition.taskDefinitionArn --output text)
aws ecs update-service --endpoint-url "$ENDPOINT" --cluster bench --service web --task-definition "$arn" > /dev/null
`

const manifest = `version: 1
services:
  - {name: web, cluster: bench, service: web, template: web.json, images: {web: {repository: web, tags: "semver:*"}}}
`

// The template is in the seeds' legacy form so sed can render it too.
const template = `{"family": "web", "containerDefinitions": [{"name": "web", "image": "@@IMAGE@@", "essential": true, "memory": 128}]}`

// Run is one tool's deploys.
type Run struct {
	Tool    string
	Deploys int
	CPU     time.Duration // user + system, the process and its children
	Wall    time.Duration
}

// Result compares the two tools.
type Result struct {
	Deckhand, Script Run
}

// Measure deploys n new images with each tool, alternating, against sb.
// deckhand is the CLI binary.
func Measure(ctx context.Context, sb *sandbox.Sandbox, dir, deckhand string, n int) (Result, error) {
	if err := os.WriteFile(filepath.Join(dir, "web.json"), []byte(template), 0o644); err != nil {
		return Result{}, err
	}
	if _, err := local.New(ctx, sb, local.Options{Dir: dir, Manifest: []byte(manifest), InitialTags: map[string]string{"web": "1.0.0"}, DesiredCount: 1}); err != nil {
		return Result{}, err
	}
	script := filepath.Join(dir, "deploy.sh")
	if err := os.WriteFile(script, []byte(Script), 0o755); err != nil {
		return Result{}, err
	}
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+sb.Region(),
		"AWS_REGION="+sb.Region(), "AWS_PAGER=", "ENDPOINT="+sb.Endpoint(), "TEMPLATE="+filepath.Join(dir, "web.json"), "WORK="+dir)
	res := Result{Deckhand: Run{Tool: "deckhand deploy"}, Script: Run{Tool: "seed-style script (sed + aws ecs)"}}
	for i := range n {
		tag := fmt.Sprintf("2.0.%d", 2*i)
		sb.PushImageSilently("web", tag)
		sb.Clock().Advance(time.Second)
		if err := timed(ctx, &res.Deckhand, env, deckhand, "deploy", "web", "--image", "web:"+tag,
			"--manifest", "s3://"+local.Bucket+"/deckhand.yaml", "--endpoint-url", sb.Endpoint(),
			"--account", sb.Account(), "--region", sb.Region()); err != nil {
			return res, err
		}
		tag = fmt.Sprintf("2.0.%d", 2*i+1)
		digest := sb.PushImageSilently("web", tag)
		sb.Clock().Advance(time.Second)
		image := taskdef.Registry(sb.Account(), sb.Region()) + "/web@" + digest
		if err := timed(ctx, &res.Script, env, "bash", script, image); err != nil {
			return res, err
		}
	}
	return res, nil
}

func timed(ctx context.Context, r *Run, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	r.Wall += time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", r.Tool, err, out)
	}
	r.CPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	r.Deploys++
	return nil
}
