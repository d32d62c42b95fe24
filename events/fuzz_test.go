package events

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// addFixtures seeds a fuzz target with every JSON fixture in testdata/.
func addFixtures(f *testing.F) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeImageAction proves the deployer's decoder never panics, reports
// every failure as ErrMalformed (so it is never retried), that what it
// accepts has an account, a Region and either no digest or ECR's form of
// one, and that it survives a round trip unchanged.
func FuzzDecodeImageAction(f *testing.F) {
	addFixtures(f)
	f.Add([]byte(`{"detail-type":"ECR Image Action","source":"aws.ecr","detail":"x"}`))
	f.Add([]byte(`{"detail-type":"ECR Image Action","source":"aws.ecr","account":"","region":"","detail":{"image-digest":"sha256:x"}}`))
	f.Add([]byte(`{"detail-type":"ECR Image Action","source":"aws.ecr","account":"123456789012","region":"us-west-2","detail":{"image-digest":"latest"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeImageAction(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error is not a *DecodeError (no path or offset): %v", err)
			}
			return
		}
		if ev.Source != SourceECR || ev.DetailType != DetailTypeImageAction {
			t.Fatalf("accepted source %q detail-type %q", ev.Source, ev.DetailType)
		}
		if !ValidAccount(ev.Account) || !ValidRegion(ev.Region) {
			t.Fatalf("accepted account %q region %q", ev.Account, ev.Region)
		}
		if d := ev.Detail.ImageDigest; d != "" && !ValidImageDigest(d) {
			t.Fatalf("accepted image digest %q", d)
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := DecodeImageAction(again)
		if err != nil {
			t.Fatalf("decode of re-encoded event: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(normal(ev), normal(back)) {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", ev, back)
		}
	})
}

// normal drops what a round trip may legitimately change: the time's
// location and monotonic reading, and nil against empty resources.
func normal(ev ImageActionEvent) ImageActionEvent {
	ev.Time = ev.Time.UTC().Round(0)
	if len(ev.Resources) == 0 {
		ev.Resources = nil
	}
	return ev
}

// FuzzKind proves routing by source and detail-type never panics and agrees
// with a full decode of the envelope.
func FuzzKind(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		source, detailType, err := Kind(data)
		raw, rerr := Decode[Raw](data, "EventBridge event")
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Kind error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if rerr == nil && (raw.Source != source || raw.DetailType != detailType) {
			t.Fatalf("Kind says %q %q, the envelope %q %q", source, detailType, raw.Source, raw.DetailType)
		}
	})
}
