package store

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// slowS3 holds every GET until release is closed and records how many were
// in flight at once, per key.
type slowS3 struct {
	release chan struct{}

	mu          sync.Mutex
	inFlight    map[string]int
	maxInFlight map[string]int
	gets        map[string]int
	fail        error
}

func newSlowS3() *slowS3 {
	return &slowS3{release: make(chan struct{}), inFlight: map[string]int{}, maxInFlight: map[string]int{}, gets: map[string]int{}}
}

func (f *slowS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	f.mu.Lock()
	f.gets[key]++
	f.inFlight[key]++
	f.maxInFlight[key] = max(f.maxInFlight[key], f.inFlight[key])
	f.mu.Unlock()
	<-f.release
	f.mu.Lock()
	f.inFlight[key]--
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	if in.IfNoneMatch != nil {
		return nil, &smithy.GenericAPIError{Code: "NotModified"}
	}
	body := `{"family":"f"}`
	if key == "deckhand.yaml" {
		body = "version: 1\n"
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(body)), ETag: aws.String(`"e1"`)}, nil
}

// readAll reads key n times at once through src and returns the versions.
// started, if set, runs once every reader has started.
func readAll(t *testing.T, src Source, key string, n int, started func()) []string {
	t.Helper()
	out := make([]string, n)
	errs := make([]error, n)
	var running, done sync.WaitGroup
	running.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			running.Done()
			tmpl, err := src.Template(context.Background(), key)
			out[i], errs[i] = tmpl.Version, err
		}()
	}
	running.Wait()
	if started != nil {
		started()
	}
	return func() []string {
		done.Wait()
		for _, err := range errs {
			if err != nil {
				t.Errorf("Template(%s): %v", key, err)
			}
		}
		return out
	}()
}

// TestS3NeverSendsConcurrentGETsOfOneKey: bindings that share a template
// read it at once; S3 sees one GET at a time for that key, cold or warm.
func TestS3NeverSendsConcurrentGETsOfOneKey(t *testing.T) {
	f := newSlowS3()
	s := NewS3(f, "b", "deckhand.yaml")
	for _, state := range []string{"cold", "warm"} {
		// The first GET is held until every reader has started.
		readAll(t, s, "t.json", 20, func() { close(f.release) })
		if got := f.maxInFlight["t.json"]; got != 1 {
			t.Errorf("%s: %d GETs of t.json in flight at once, want 1", state, got)
		}
		f.release = make(chan struct{})
	}
}

// TestOnceFetchesEachObjectOncePerInvocation: within one invocation every
// read of a key, concurrent or later, shares one GET; the next invocation
// revalidates once.
func TestOnceFetchesEachObjectOncePerInvocation(t *testing.T) {
	f := newSlowS3()
	close(f.release)
	s := NewS3(f, "b", "deckhand.yaml")
	for i, want := range []int{1, 2} {
		inv := Once(s)
		readAll(t, inv, "t.json", 20, nil)
		for range 3 {
			if _, err := inv.Template(context.Background(), "t.json"); err != nil {
				t.Fatal(err)
			}
			if _, err := inv.Manifest(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if f.gets["t.json"] != want || f.gets["deckhand.yaml"] != want {
			t.Errorf("invocation %d: GETs so far %v, want %d of each key", i+1, f.gets, want)
		}
	}
}

// TestOnceSharesAFailedRead: a read that failed fails every binding of the
// invocation alike (never FAILED for some and STARTED for others), and the
// next invocation tries again.
func TestOnceSharesAFailedRead(t *testing.T) {
	f := newSlowS3()
	close(f.release)
	f.fail = errors.New("connection reset by peer")
	s := NewS3(f, "b", "deckhand.yaml")
	inv := Once(s)
	for range 3 {
		if _, err := inv.Template(context.Background(), "t.json"); err == nil {
			t.Fatal("a failed read succeeded")
		}
	}
	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	if _, err := inv.Template(context.Background(), "t.json"); err == nil {
		t.Error("a later read in the same invocation saw another answer than the first")
	}
	if _, err := Once(s).Template(context.Background(), "t.json"); err != nil {
		t.Errorf("the next invocation did not read again: %v", err)
	}
	if f.gets["t.json"] != 2 {
		t.Errorf("GETs of t.json = %d, want 2 (one per invocation)", f.gets["t.json"])
	}
}
