package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/sandbox"
)

func control(t *testing.T, endpoint, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, endpoint+"/_sandbox/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: decode: %v", method, path, err)
	}
	if m, ok := out.(map[string]any); ok {
		return resp.StatusCode, m
	}
	return resp.StatusCode, map[string]any{"list": out}
}

func TestControlAPI(t *testing.T) {
	c := start(t)
	ep := c.sb.Endpoint()
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		check                    func(t *testing.T, out map[string]any)
	}{
		{"advance moves the virtual clock", "POST", "advance", `{"seconds": 90}`, 200, func(t *testing.T, out map[string]any) {
			if got := out["now"]; got != "2026-11-16T01:01:30Z" {
				t.Errorf("now = %v", got)
			}
		}},
		{"now reads it", "GET", "now", "", 200, func(t *testing.T, out map[string]any) {
			if got := out["now"]; got != "2026-11-16T01:01:30Z" {
				t.Errorf("now = %v", got)
			}
		}},
		{"push-image returns the digest", "POST", "push-image", `{"repository":"web","tag":"1.0"}`, 200, func(t *testing.T, out map[string]any) {
			if d, _ := out["digest"].(string); !strings.HasPrefix(d, "sha256:") {
				t.Errorf("digest = %v", out["digest"])
			}
		}},
		{"silent push emits nothing", "POST", "push-image", `{"repository":"web","tag":"1.1","silent":true}`, 200, nil},
		{"events lists the bus", "GET", "events", "", 200, func(t *testing.T, out map[string]any) {
			if n := len(out["list"].([]any)); n != 1 {
				t.Errorf("%d events, want 1", n)
			}
		}},
		{"faults are injected", "POST", "faults", `{"service":"ecr","op":"DescribeRepositories","kind":"throttle","count":1}`, 200, nil},
		{"unknown fault kinds are refused", "POST", "faults", `{"service":"ecr","kind":"meteor"}`, 400, nil},
		{"throttling switches", "POST", "throttling", `{"on": false}`, 200, nil},
		{"image health is forwarded to ECS", "POST", "image-health", `{"image":"web:bad","healthy":false}`, 200, nil},
		{"scripts are forwarded to ECS", "POST", "script-image", `{"image":"job:1","runForSeconds":5,"exitCode":3}`, 200, nil},
		{"finishing an unknown task fails", "POST", "finish-task", `{"taskArn":"arn:aws:ecs:us-west-2:123456789012:task/prod/nope"}`, 400, nil},
		{"unknown endpoints are 404", "GET", "nope", "", 404, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out := control(t, ep, tc.method, tc.path, tc.body)
			if status != tc.wantStatus {
				t.Fatalf("status = %d, want %d (%v)", status, tc.wantStatus, out)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
	_, err := c.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}, noRetry.ecr)
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("injected fault: err = %v", err)
	}
	_, out := control(t, ep, "GET", "calls", "")
	var calls []sandbox.Call
	b, _ := json.Marshal(out["list"])
	json.Unmarshal(b, &calls)
	want := []sandbox.Call{{Service: "ecr", Op: "DescribeRepositories", Status: 400, Time: c.sb.Clock().Now()}}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	control(t, ep, "DELETE", "calls", "")
	if n := len(c.sb.Calls()); n != 0 {
		t.Errorf("%d calls after DELETE calls", n)
	}
	control(t, ep, "POST", "faults", `{"service":"ecr","kind":"500"}`)
	control(t, ep, "DELETE", "faults", "")
	if _, err := c.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}, noRetry.ecr); err != nil {
		t.Errorf("after DELETE faults: %v", err)
	}
}

// endpointCapture is a slog handler that hands over the logged endpoint.
type endpointCapture struct {
	slog.Handler
	ch chan string
}

func (h endpointCapture) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "endpoint" {
			h.ch <- a.Value.String()
		}
		return true
	})
	return nil
}

func TestListenAndServe(t *testing.T) {
	ch := make(chan string, 1)
	logger := slog.New(endpointCapture{slog.NewTextHandler(&bytes.Buffer{}, nil), ch})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sandbox.ListenAndServe(ctx, "127.0.0.1:0", sandbox.Options{Logger: logger}) }()
	var ep string
	select {
	case ep = <-ch:
	case err := <-done:
		t.Fatalf("ListenAndServe returned early: %v", err)
	}
	if status, _ := control(t, ep, "GET", "now", ""); status != 200 {
		t.Errorf("GET now = %d", status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe: %v", err)
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	if _, err := sb.Listen("0.0.0.0:0"); err == nil {
		sb.Close()
		t.Fatal("Listen on 0.0.0.0 succeeded")
	}
}
