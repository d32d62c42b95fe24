package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fail runs one command that must fail and returns its standard error.
func (a *awsCLI) fail(args ...string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args = append(args, "--endpoint-url", a.endpoint, "--output", "json")
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Env, cmd.Dir = a.env, a.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err == nil {
		a.t.Fatalf("aws %s succeeded, want an error; output:\n%s", strings.Join(args, " "), stdout.String())
	}
	return stderr.String()
}

// boto3 runs Python scripts with boto3 against one sandbox.
type boto3 struct {
	t        *testing.T
	python   string
	endpoint string
	env      []string
}

func newBoto3(t *testing.T, endpoint string) *boto3 {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; install Python 3 with boto3 to run the boto3 compatibility test")
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "SANDBOX_ENDPOINT=" + endpoint,
		"AWS_CONFIG_FILE=" + empty, "AWS_SHARED_CREDENTIALS_FILE=" + empty, "AWS_EC2_METADATA_DISABLED=true",
		"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1",
	}
	for _, k := range []string{"PYENV_ROOT", "PYENV_VERSION", "PYTHONPATH", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if out, err := exec.Command(python, "-c", "import boto3").CombinedOutput(); err != nil {
		t.Skipf("boto3 not importable (%v: %s); pip install boto3 to run the boto3 compatibility test", err, out)
	}
	return &boto3{t: t, python: python, endpoint: endpoint, env: env}
}

// boto3Prelude gives every script clients aimed at the sandbox (path-style
// S3, no retries), advance() for the virtual clock, code() for an error
// code, and out, the dict printed as JSON at the end.
const boto3Prelude = `
import json, os, urllib.request
import boto3, botocore.config, botocore.exceptions
ep = os.environ["SANDBOX_ENDPOINT"]
session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-west-2")
cfg = botocore.config.Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})
def client(name):
    return session.client(name, endpoint_url=ep, config=cfg)
def advance(seconds):
    req = urllib.request.Request(ep + "/_sandbox/advance", data=json.dumps({"seconds": seconds}).encode(), method="POST")
    urllib.request.urlopen(req).read()
def code(fn):
    try:
        fn()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
out = {}
`

// run runs script after the prelude and decodes the JSON it prints.
func (b *boto3) run(script string) map[string]any {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.python, "-c", boto3Prelude+script+"\nprint(json.dumps(out))\n")
	cmd.Env = b.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.t.Fatalf("boto3 script: %v\n%s", err, stderr.String())
	}
	var v map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &v); err != nil {
		b.t.Fatalf("boto3 script output: %v\n%s", err, stdout.String())
	}
	return v
}
