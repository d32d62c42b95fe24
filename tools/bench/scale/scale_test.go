package scale

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/sandboxtest"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

func TestManifestBindsFiveToThePushedRepository(t *testing.T) {
	m, err := manifest.Parse("deckhand.yaml", Manifest(50))
	if err != nil {
		t.Fatal(err)
	}
	if n, got := len(m.Services), len(m.BindingsFor(repo)); n != 50 || got != Pushed {
		t.Errorf("%d bindings, %d on the pushed repository; want 50 and %d", n, got, Pushed)
	}
}

// TestAColdDeployerDeploysThePush starts the real deployer binary (built
// first, under no deadline) against a 100-binding manifest, reading the
// whole manifest, and reading only the pushed group's part of it: the
// whole manifest is then deleted from the bucket, so the push deploys only
// if the deployer reads its part.
func TestAColdDeployerDeploysThePush(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, "github.com/deckhand-ecs/deckhand/functions/deployer")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, parts := range []bool{false, true} {
		t.Run(fmt.Sprintf("parts=%v", parts), func(t *testing.T) {
			sb := sandboxtest.Start(t)
			f, err := Setup(t.Context(), sb, 100)
			if err != nil {
				t.Fatal(err)
			}
			if parts {
				if err := f.UseParts(t.Context()); err != nil {
					t.Fatal(err)
				}
				s3c := s3.NewFromConfig(sb.AWSConfig(), config.S3Options(sb.Endpoint()))
				if _, err := s3c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(local.Bucket), Key: aws.String("deckhand.yaml")}); err != nil {
					t.Fatal(err)
				}
			}
			l, err := Measure(t.Context(), f, bin)
			if err != nil {
				t.Fatal(err)
			}
			if l.Invocation <= 0 || l.HWMKiB <= 0 {
				t.Errorf("launch %+v: want an invocation time and a peak RSS", l)
			}
		})
	}
}
