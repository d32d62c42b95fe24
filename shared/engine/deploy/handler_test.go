package deploy

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invoke runs the handler through aws-lambda-go's real handler path.
func invoke(t testing.TB, w *world, payload []byte) ([]byte, error) {
	t.Helper()
	h := lambda.NewHandler((&Handler{Engine: w.engine}).Handle)
	return h.Invoke(context.Background(), payload)
}

func sqsPayload(t testing.TB, bodies ...[]byte) []byte {
	t.Helper()
	b, err := json.Marshal(events.WrapSQS("arn:aws:sqs:us-west-2:123456789012:deckhand-deploy.fifo", "web", bodies...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func batchFailures(t *testing.T, out []byte) []string {
	t.Helper()
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func emitted(w *world) []events.DeploymentStatus {
	var out []events.DeploymentStatus
	for _, e := range w.events.evs {
		out = append(out, e.Detail.(events.DeploymentStateChange).Status)
	}
	return out
}

func TestHandlerFixtures(t *testing.T) {
	tests := map[string]struct {
		payload      func(t *testing.T) []byte
		wantFailures []string
		wantEvents   []events.DeploymentStatus
		wantWrites   int
	}{
		"an SQS batch of the real push fixtures deploys the newest": {
			payload: func(t *testing.T) []byte {
				return sqsPayload(t, fixture(t, "ecr-image-action-push.json"), fixture(t, "ecr-image-action-push-media-types.json"))
			},
			wantFailures: []string{}, wantWrites: 2,
			wantEvents: []events.DeploymentStatus{events.StatusSuperseded, events.StatusStarted},
		},
		"untagged pushes, deletes and failed pushes are SKIPPED, not lost": {
			payload: func(t *testing.T) []byte {
				return sqsPayload(t, fixture(t, "ecr-image-action-push-untagged.json"), fixture(t, "ecr-image-action-delete.json"), fixture(t, "ecr-image-action-push-failed.json"))
			},
			wantFailures: []string{},
			wantEvents:   []events.DeploymentStatus{events.StatusSkipped, events.StatusSkipped, events.StatusSkipped},
		},
		"a malformed body fails only its message and is reported": {
			payload: func(t *testing.T) []byte {
				return sqsPayload(t, []byte(`{"detail-type": "ECR Image Action", "source": "aws.ecr", "detail": {"image-tag": 7}}`), fixture(t, "ecr-image-action-push.json"))
			},
			wantFailures: []string{"msg-1"}, wantWrites: 2,
			wantEvents: []events.DeploymentStatus{events.StatusFailed, events.StatusStarted},
		},
		"a bare EventBridge event is deployed directly": {
			payload:    func(t *testing.T) []byte { return fixture(t, "ecr-image-action-push.json") },
			wantWrites: 2,
			wantEvents: []events.DeploymentStatus{events.StatusStarted},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			out, err := invoke(t, w, tc.payload(t))
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			if tc.wantFailures != nil {
				if diff := cmp.Diff(tc.wantFailures, batchFailures(t, out)); diff != "" {
					t.Errorf("batch item failures (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tc.wantEvents, emitted(w)); diff != "" {
				t.Errorf("emitted statuses (-want +got):\n%s", diff)
			}
			if got := w.ecs.writes(); got != tc.wantWrites {
				t.Errorf("writes = %d, want %d", got, tc.wantWrites)
			}
		})
	}
}

func TestHandlerMalformedReason(t *testing.T) {
	w := newWorld()
	_, err := invoke(t, w, sqsPayload(t, []byte(`{"detail-type": "ECR Image Action", "source": "aws.ecr", "detail": {"image-tag": 7}}`)))
	if err != nil {
		t.Fatal(err)
	}
	reason := w.events.evs[0].Detail.(events.DeploymentStateChange).Reason
	if !strings.Contains(reason, "$.detail.image-tag") || !strings.HasPrefix(reason, "MalformedEvent") {
		t.Errorf("reason %q does not name the JSON path", reason)
	}
}

func TestHandlerBadManifestFailsEveryMessage(t *testing.T) {
	w := newWorld()
	w.src.manifest = strings.Replace(testManifest, "    cluster: prod\n", "    cluster: prod\n    colour: blue\n", 1)
	out, err := invoke(t, w, sqsPayload(t, fixture(t, "ecr-image-action-push.json")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"msg-1"}, batchFailures(t, out)); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	ev := w.events.evs[0].Detail.(events.DeploymentStateChange)
	if ev.Status != events.StatusFailed || !strings.Contains(ev.Reason, `services[0].colour: unknown field "colour"`) || !strings.Contains(ev.Reason, "deckhand.yaml:6") {
		t.Errorf("event = %+v, want FAILED naming file, line and field", ev)
	}
	if w.ecs.writes() != 0 {
		t.Error("a bad manifest caused writes")
	}
}

func TestHandlerRetryableFailureOnlyFailsItsMessage(t *testing.T) {
	w := newWorld()
	w.ecs.throttleFamily = "web"
	apiPush := strings.Replace(strings.Replace(string(fixture(t, "ecr-image-action-push.json")), `"repository-name": "web"`, `"repository-name": "api"`, 1), "13cde686", "23cde686", 1)
	out, err := invoke(t, w, sqsPayload(t, fixture(t, "ecr-image-action-push.json"), []byte(apiPush)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"msg-1"}, batchFailures(t, out)); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if got := w.runningImage(t, "api", "api"); !strings.HasSuffix(got, "@sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678") {
		t.Errorf("api did not deploy beside the throttled web: %s", got)
	}
	w.ecs.throttleFamily = ""
	out, _ = invoke(t, w, sqsPayload(t, fixture(t, "ecr-image-action-push.json")))
	if got := batchFailures(t, out); len(got) != 0 {
		t.Errorf("after throttling ends, failures = %v", got)
	}
}

func BenchmarkHandlerInvoke(b *testing.B) {
	payload := sqsPayload(b, fixture(b, "ecr-image-action-push.json"))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		w := newWorld()
		h := lambda.NewHandler((&Handler{Engine: w.engine}).Handle)
		b.StartTimer()
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
}

func TestHandlerSaysWhyAWholeBatchFails(t *testing.T) {
	w := newWorld()
	var logs strings.Builder
	w.engine.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	w.events.err = apiErr("ThrottlingException")
	out, err := invoke(t, w, sqsPayload(t, fixture(t, "ecr-image-action-push.json"), fixture(t, "ecr-image-action-push-untagged.json")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"msg-1", "msg-2"}, batchFailures(t, out)); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if w.events.put < 2 {
		t.Errorf("PutEvents tried %d time(s), want retries", w.events.put)
	}
	if !strings.Contains(logs.String(), `"outcome":"batch_failed"`) || !strings.Contains(logs.String(), `"msg-2"`) {
		t.Errorf("no batch failure log naming the messages:\n%s", logs.String())
	}
}
