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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/deckhand-ecs/deckhand/shared/aws/store"
	"github.com/deckhand-ecs/deckhand/shared/cli"
	"github.com/deckhand-ecs/deckhand/shared/sandbox/local"
)

var (
	benchBindings = flag.Int("console.bench.bindings", 5000, "bindings in the benchmark's manifest")
	benchSeeded   = flag.Int("console.bench.seeded", 5000, "of them, services that exist on the sandbox (the rest are missing rows)")
)

// fleet is a generated manifest of many bindings against the sandbox: the
// example services, seeded minus those more services created on the
// sandbox in 10 clusters, and the rest naming services that do not exist
// (missing rows; each still costs its share of a DescribeServices call).
// The manifest is in the sandbox's S3, as `deckhand console --manifest
// s3://…` reads it: parsed once, then revalidated (304) per page.
type fleet struct {
	*rig
	env      *cli.Env // reads fleet.yaml
	bindings []string // in manifest order
	services map[string]string
}

func newFleet(tb testing.TB, bindings, seeded int) *fleet {
	tb.Helper()
	r := newRig(tb, rigOptions{})
	ctx := context.Background()
	web, _, err := r.st.Running("web")
	if err != nil {
		tb.Fatal(err)
	}
	f := &fleet{rig: r, services: map[string]string{}}
	for _, b := range r.st.Manifest.Services {
		f.bindings = append(f.bindings, b.Name)
		f.services[b.Name] = b.Service
	}
	nExamples := len(f.bindings)
	const clusters = 10
	for c := range clusters {
		if _, err := r.st.ECS.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(fmt.Sprintf("fleet-%d", c))}); err != nil {
			tb.Fatal(err)
		}
	}
	var yaml strings.Builder
	for i := range bindings - nExamples {
		name, cluster := fmt.Sprintf("svc-%04d", i), fmt.Sprintf("fleet-%d", i%clusters)
		f.bindings = append(f.bindings, name)
		f.services[name] = name
		fmt.Fprintf(&yaml, "  - name: %s\n    cluster: %s\n    service: %s\n    template: templates/web.json\n    images:\n      web: { repository: web, tags: \"semver:>=1.0.0 <2.0.0\" }\n      proxy: { repository: proxy, tags: \"glob:stable-*\" }\n    vars: { LOG_LEVEL: info }\n", name, cluster, name)
		if i < seeded-nExamples {
			if _, err := r.st.ECS.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
				DesiredCount: aws.Int32(1), TaskDefinition: aws.String(web), LaunchType: ecstypes.LaunchTypeFargate,
				NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(examples, "deckhand.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	text := strings.Replace(string(raw), "\njobs:\n", "\n"+yaml.String()+"jobs:\n", 1)
	if _, err := r.st.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(local.Bucket), Key: aws.String("fleet.yaml"),
		Body: strings.NewReader(text)}); err != nil {
		tb.Fatal(err)
	}
	env := *r.env
	env.Source = store.NewS3(r.st.S3, local.Bucket, "fleet.yaml")
	f.env = &env
	return f
}

// get serves one request through h (a console's Handler for 127.0.0.1:8080).
func get(h http.Handler, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "127.0.0.1:8080"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// BenchmarkFleetPage renders the fleet page (GET /: the first 200 rows,
// and the counts of every binding by state) for a fleet of 5,000 bindings
// (see fleet) with a warm snapshot: each op describes the page's 200
// services (20 DescribeServices calls) and counts the snapshot; revisions,
// which never change, come from the console's cache after the first page.
// The snapshot is read once before the timer starts and does not go stale
// during the benchmark (SnapshotEvery is an hour): no op waits for, or
// competes with, a refresh (BenchmarkFleetSnapshot measures that).
func BenchmarkFleetPage(b *testing.B) {
	f := newFleet(b, *benchBindings, *benchSeeded)
	srv, err := New(Options{Env: f.env, SnapshotPace: unpaced{}, SnapshotEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler("127.0.0.1:8080")
	first := get(h, "/?state="+StateSteady) // waits for the snapshot
	page := get(h, "/")
	body := page.Body.String()
	missing := *benchBindings - min(*benchSeeded, *benchBindings)
	if first.Code != http.StatusOK || page.Code != http.StatusOK || !strings.Contains(body, fmt.Sprintf("%d bindings", *benchBindings)) ||
		!strings.Contains(body, "counts as of") || missing > 0 && !strings.Contains(body, fmt.Sprintf("missing <b>%d</b>", missing)) {
		b.Fatalf("fleet page: HTTP %d, %d, want %d bindings of which %d missing, counted:\n%.3000s", first.Code, page.Code, *benchBindings, missing, body)
	}
	for b.Loop() {
		if rec := get(h, "/"); rec.Code != http.StatusOK {
			b.Fatalf("fleet page: HTTP %d", rec.Code)
		}
	}
	b.ReportMetric(float64(len(body)), "page-bytes")
}

// BenchmarkFleetSnapshot is one full refresh of the fleet snapshot for the
// same fleet, unpaced (against AWS it is paced at SnapshotRate calls a
// second, so 5,000 services take 100 s of wall time by design): 500
// DescribeServices calls, eight at a time, and the rows built from them.
func BenchmarkFleetSnapshot(b *testing.B) {
	f := newFleet(b, *benchBindings, *benchSeeded)
	srv, err := New(Options{Env: f.env, SnapshotPace: unpaced{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	m, err := f.env.Source.Manifest(ctx)
	if err != nil {
		b.Fatal(err)
	}
	fp := fingerprint(m)
	for b.Loop() {
		if r := <-srv.refresh(m, fp); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	if snap := srv.snaps.current(); snap == nil || len(snap.rows) != *benchBindings {
		b.Fatalf("after a refresh the snapshot is %v, want %d rows", snap, *benchBindings)
	}
}

// unpaced is a Pacer that never waits.
type unpaced struct{}

func (unpaced) Wait(context.Context) error { return nil }
