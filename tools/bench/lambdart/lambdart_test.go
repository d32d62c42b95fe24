package lambdart

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// runtime is a hand-written runtime client: next, then post.
func runtime(t *testing.T, s *Server, kind string) {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr() + prefix + "invocation/next")
	if err != nil {
		t.Error(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	if resp.Header.Get("Lambda-Runtime-Invoked-Function-Arn") == "" || resp.Header.Get("Lambda-Runtime-Deadline-Ms") == "" {
		t.Errorf("next without the invocation headers: %v", resp.Header)
	}
	post, err := http.Post("http://"+s.Addr()+prefix+"invocation/"+id+"/"+kind, "application/json", strings.NewReader(`{"echo":`+string(body)+`}`))
	if err != nil {
		t.Error(err)
		return
	}
	post.Body.Close()
	if post.StatusCode != http.StatusAccepted {
		t.Errorf("post %s: %s", kind, post.Status)
	}
}

func TestInvokeRoundTrip(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for _, kind := range []string{"response", "error"} {
		// The server hands the result to Invoke before it writes the 202,
		// so wait for the runtime's post to finish before the next round
		// (or Close) — otherwise the post can see a closed server.
		var wg sync.WaitGroup
		wg.Go(func() { runtime(t, s, kind) })
		r, err := s.Invoke(ctx, []byte(`1`))
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Body) != `{"echo":1}` || r.Error != (kind == "error") {
			t.Errorf("%s: result %+v", kind, r)
		}
		if r.Handed.IsZero() || r.At.Before(r.Handed) {
			t.Errorf("%s: handed at %v, answered at %v: want the answer after the hand-over", kind, r.Handed, r.At)
		}
	}
	seen, first := s.FirstNext()
	select {
	case <-seen:
	default:
		t.Error("first next not recorded")
	}
	if first().IsZero() {
		t.Error("first next time is zero")
	}
}

func TestUnknownRequestIDIsRejected(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := http.Post("http://"+s.Addr()+prefix+"invocation/nope/response", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %s, want 400", resp.Status)
	}
}
