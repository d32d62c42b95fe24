package events

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// roundTrip decodes a fixture into T, encodes it again and compares the two
// documents semantically: a field the type drops or renames shows up here.
func roundTrip[T any](t *testing.T, name string) T {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Decode[T](raw, name)
	if err != nil {
		t.Fatalf("Decode %s: %v", name, err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(raw, &want)
	_ = json.Unmarshal(again, &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s does not round-trip (-fixture +re-encoded):\n%s", name, diff)
	}
	return v
}

func TestFixturesRoundTrip(t *testing.T) {
	for _, name := range []string{
		"ecr-image-action-push.json", "ecr-image-action-push-media-types.json", "ecr-image-action-push-untagged.json",
		"ecr-image-action-delete.json", "ecr-image-action-push-failed.json",
	} {
		t.Run(name, func(t *testing.T) { roundTrip[ImageActionEvent](t, name) })
	}
	for _, name := range []string{
		"ecs-deployment-state-change-in-progress.json", "ecs-deployment-state-change-completed.json",
		"ecs-deployment-state-change-failed.json", "ecs-deployment-state-change-rollback.json",
	} {
		t.Run(name, func(t *testing.T) { roundTrip[DeploymentEvent](t, name) })
	}
	t.Run("ecs-task-state-change-stopped.json", func(t *testing.T) {
		ev := roundTrip[TaskEvent](t, "ecs-task-state-change-stopped.json")
		if c := ev.Detail.Containers[0]; c.ExitCode == nil || *c.ExitCode != 1 || ev.Detail.StartedBy != "deckhand/nightly-report" || ev.Detail.Version != 6 {
			t.Errorf("task detail = %+v", ev.Detail)
		}
	})
}

func TestMediaTypeFields(t *testing.T) {
	ev := roundTrip[ImageActionEvent](t, "ecr-image-action-push-media-types.json")
	if ev.Detail.ManifestMediaType != "application/vnd.oci.image.manifest.v1+json" || ev.Detail.ArtifactMediaType == "" {
		t.Errorf("media types = %q %q", ev.Detail.ManifestMediaType, ev.Detail.ArtifactMediaType)
	}
}

func TestDeckhandEventsRoundTrip(t *testing.T) {
	d := DeploymentStateChange{Status: StatusRolledBack, Binding: "web", Cluster: "prod", Service: "web",
		OldRevision: "arn:…:web:6", NewRevision: "arn:…:web:7", Trigger: TriggerPush, EventID: "e", DeploymentID: "ecs-svc/1",
		Containers: map[string]ContainerChange{"web": {OldDigest: "sha256:a", NewDigest: "sha256:b", OldTag: "1", NewTag: "2"}},
		Reason:     "circuit breaker", DurationMS: 1500}
	b, _ := json.Marshal(d)
	back, err := Decode[DeploymentStateChange](b, "deployment detail")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, back); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, key := range []string{`"status":"ROLLED_BACK"`, `"deploymentId"`, `"oldDigest"`, `"durationMs"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("encoded detail lacks %s: %s", key, b)
		}
	}
}

func TestMalformedJSON(t *testing.T) {
	tests := map[string]struct {
		raw      string
		wantPath string
		wantMsg  string
	}{
		"a syntax error reports the offset": {raw: `{"source": "aws.ecr", "detail": {]}`, wantMsg: "offset 33"},
		"truncated JSON":                    {raw: `{"source": "aws.ecr"`, wantMsg: "truncated"},
		"a wrong type names the JSON path":  {raw: `{"source": "aws.ecr", "detail-type": "ECR Image Action", "detail": {"image-tag": 7}}`, wantPath: "$.detail.image-tag"},
		"an empty body":                     {raw: ``, wantPath: "$", wantMsg: "empty"},
		"another event kind is not a push":  {raw: `{"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {}}`, wantPath: "$.detail-type"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeImageAction([]byte(tc.raw))
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want a *DecodeError wrapping ErrMalformed", err)
			}
			if de.Path != tc.wantPath || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v (path %q), want path %q and %q", err, de.Path, tc.wantPath, tc.wantMsg)
			}
		})
	}
}

func TestWrapSQS(t *testing.T) {
	ev := WrapSQS("arn:aws:sqs:us-west-2:123456789012:q.fifo", "web", []byte(`{"a":1}`), []byte(`{"b":2}`))
	if len(ev.Records) != 2 || ev.Records[1].Attributes["MessageGroupId"] != "web" || ev.Records[0].Body != `{"a":1}` {
		t.Errorf("WrapSQS = %+v", ev)
	}
}

// TestImageActionEnvelopeIsChecked refuses envelopes EventBridge never
// delivers: an empty account or Region must not pass for Deckhand's own, and
// a digest that is not ECR's sha256 form must not become an image.
func TestImageActionEnvelopeIsChecked(t *testing.T) {
	push, err := os.ReadFile(filepath.Join("testdata", "ecr-image-action-push.json"))
	if err != nil {
		t.Fatal(err)
	}
	const digest = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678"
	edit := func(old, new string) string {
		if !strings.Contains(string(push), old) {
			t.Fatalf("fixture lacks %s", old)
		}
		return strings.Replace(string(push), old, new, 1)
	}
	tests := map[string]struct {
		raw      string
		wantPath string // "" when the event is accepted
	}{
		"the fixture is accepted":                {raw: string(push)},
		"an empty account is refused":            {raw: edit(`"account": "123456789012"`, `"account": ""`), wantPath: "$.account"},
		"a missing account is refused":           {raw: edit(`"account": "123456789012",`, ``), wantPath: "$.account"},
		"an account that is not 12 digits":       {raw: edit(`"123456789012"`, `"12345678901x"`), wantPath: "$.account"},
		"an empty region is refused":             {raw: edit(`"region": "us-west-2"`, `"region": ""`), wantPath: "$.region"},
		"a region that is no Region name":        {raw: edit(`"us-west-2"`, `"../../etc"`), wantPath: "$.region"},
		"a GovCloud region is accepted":          {raw: edit(`"us-west-2"`, `"us-gov-west-1"`)},
		"a digest that is not sha256 is refused": {raw: edit(digest, "latest"), wantPath: "$.detail.image-digest"},
		"an uppercase algorithm is refused":      {raw: edit(digest, strings.ToUpper(digest[:8])+digest[8:]), wantPath: "$.detail.image-digest"},
		"a digest with uppercase hex digits":     {raw: edit(digest, digest[:7]+strings.ToUpper(digest[7:])), wantPath: "$.detail.image-digest"},
		"a short digest is refused":              {raw: edit(digest, digest[:70]), wantPath: "$.detail.image-digest"},
		"a digest with a path is refused":        {raw: edit(digest, "sha256:../../"+digest[13:]), wantPath: "$.detail.image-digest"},
		"no digest is left to the deploy rules":  {raw: edit(`"image-digest": "`+digest+`",`, ``)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ev, err := DecodeImageAction([]byte(tc.raw))
			if tc.wantPath == "" {
				if err != nil {
					t.Fatalf("DecodeImageAction: %v", err)
				}
				if ev.Account == "" || ev.Region == "" {
					t.Errorf("accepted an event without account or region: %+v", ev)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want a *DecodeError wrapping ErrMalformed", err)
			}
			if de.Path != tc.wantPath || !strings.Contains(err.Error(), tc.wantPath) {
				t.Errorf("err = %v (path %q), want path %q", err, de.Path, tc.wantPath)
			}
		})
	}
}
