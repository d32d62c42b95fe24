package revision

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// updateBody sends b's UpdateService through the real SDK client and
// returns the request body ECS would receive.
func updateBody(t *testing.T, b *manifest.Service) []byte {
	t.Helper()
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"service": {"deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "taskDefinition": "arn:web:7"}]}}`)
	}))
	t.Cleanup(srv.Close)
	client := ecs.New(ecs.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: aws.AnonymousCredentials{}})
	if _, err := (Updater{ECS: client, Limit: Unlimited()}).Update(context.Background(), b, "arn:web:7"); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestABindingWithoutDeploymentSendsTodaysBytes: a binding without a
// deployment: block sends UpdateService byte for byte as before issue 12
// (testdata/update-*.golden were written by the code before it), for each
// circuit breaker.
func TestABindingWithoutDeploymentSendsTodaysBytes(t *testing.T) {
	for _, breaker := range []string{"", manifest.CircuitBreakerOn, manifest.CircuitBreakerOff} {
		name := "update-breaker-" + breaker + ".golden"
		if breaker == "" {
			name = "update-breaker-default.golden"
		}
		t.Run(name, func(t *testing.T) {
			got := updateBody(t, &manifest.Service{Name: "web", Cluster: "prod", Service: "web", CircuitBreaker: breaker})
			path := filepath.Join("testdata", name)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("UpdateService request body (-want +got):\n%s", diff)
			}
		})
	}
}
