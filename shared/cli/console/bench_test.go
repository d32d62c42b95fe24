package console

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

var (
	benchBindings = flag.Int("console.bench.bindings", 5000, "bindings in the benchmark's manifest")
	benchSeeded   = flag.Int("console.bench.seeded", 1000, "of them, services that exist on the sandbox (the rest are missing rows)")
)

// BenchmarkFleetPage renders the fleet page (GET /, the first 200 rows of
// every binding read and filtered) for a generated manifest of 5,000
// bindings against the sandbox: the three example services, seeded-3 more
// services created on the sandbox in 10 clusters, and the rest naming
// services that do not exist (missing rows; each still costs its share of
// a DescribeServices call). The manifest is in the sandbox's S3, as
// `deckhand console --manifest s3://…` reads it. Each iteration reads every
// service from ECS again (500 DescribeServices calls) and revalidates the
// manifest (a 304); revisions, which never change, come from the console's
// cache after the first page.
func BenchmarkFleetPage(b *testing.B) {
	r := newRig(b, rigOptions{})
	ctx := context.Background()
	web, _, err := r.st.Running("web")
	if err != nil {
		b.Fatal(err)
	}
	const clusters = 10
	for c := range clusters {
		if _, err := r.st.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(fmt.Sprintf("fleet-%d", c))}); err != nil {
			b.Fatal(err)
		}
	}
	var yaml strings.Builder
	for i := range *benchBindings - 3 {
		name, cluster := fmt.Sprintf("svc-%04d", i), fmt.Sprintf("fleet-%d", i%clusters)
		fmt.Fprintf(&yaml, "  - name: %s\n    cluster: %s\n    service: %s\n    template: templates/web.json\n    images:\n      web: { repository: web, tags: \"semver:>=1.0.0 <2.0.0\" }\n      proxy: { repository: proxy, tags: \"glob:stable-*\" }\n    vars: { LOG_LEVEL: info }\n", name, cluster, name)
		if i < *benchSeeded-3 {
			if _, err := r.st.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
				DesiredCount: aws.Int32(1), TaskDefinition: aws.String(web), LaunchType: ecstypes.LaunchTypeFargate,
				NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}}); err != nil {
				b.Fatal(err)
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(examples, "deckhand.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Replace(string(raw), "\njobs:\n", "\n"+yaml.String()+"jobs:\n", 1)
	// The manifest lives in the sandbox's S3, as `deckhand console --manifest
	// s3://...` reads it: parsed once, then revalidated (304) per page.
	if _, err := r.st.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(local.Bucket), Key: aws.String("fleet.yaml"),
		Body: strings.NewReader(text)}); err != nil {
		b.Fatal(err)
	}
	env := *r.env
	env.Source = store.NewS3(r.st.S3, local.Bucket, "fleet.yaml")
	srv, err := New(Options{Env: &env})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler("127.0.0.1:8080")
	page := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Host = "127.0.0.1:8080"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	first := page()
	body := first.Body.String()
	if first.Code != http.StatusOK || !strings.Contains(body, fmt.Sprintf("%d bindings", *benchBindings)) ||
		*benchSeeded < *benchBindings && !strings.Contains(body, fmt.Sprintf("missing <b>%d</b>", *benchBindings-*benchSeeded)) {
		b.Fatalf("fleet page: HTTP %d, want %d bindings of which %d missing:\n%.2000s", first.Code, *benchBindings, *benchBindings-*benchSeeded, body)
	}
	for b.Loop() {
		if rec := page(); rec.Code != http.StatusOK {
			b.Fatalf("fleet page: HTTP %d", rec.Code)
		}
	}
	b.ReportMetric(float64(len(body)), "page-bytes")
}
