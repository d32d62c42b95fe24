package wire

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/deckhand-ecs/deckhand/shared/aws/config"
)

func TestHandlerReadsTheAccountFromTheFunctionARN(t *testing.T) {
	tests := map[string]struct {
		configured string
		arn        string
		want       string
	}{
		"no configured account: the function's ARN names it": {arn: "arn:aws:lambda:us-west-2:210987654321:function:deployer", want: "210987654321"},
		"a configured account is kept":                       {configured: "123456789012", arn: "arn:aws:lambda:us-west-2:210987654321:function:deployer", want: "123456789012"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := Deployer(&Parts{Config: config.Config{Account: tc.configured}})
			h := Handler(&e.Account, func(context.Context, string) (string, error) { return e.Account, nil })
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{InvokedFunctionArn: tc.arn})
			got, err := h(ctx, "{}")
			if err != nil || got != tc.want {
				t.Errorf("account during the invocation = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

// TestNoEventsClientEmitsNothing: without an EventBridge client the engines
// hold no emitter at all (not a nil *emit.Bus they would call).
func TestNoEventsClientEmitsNothing(t *testing.T) {
	p := &Parts{}
	j := Jobs(p)
	if d := Deployer(p); d.Events != nil || d.RegisterLimit != nil {
		t.Errorf("deploy engine: events %v, register limit %v; want none (the engine's defaults apply)", d.Events, d.RegisterLimit)
	}
	if j.Events != nil || j.Queue != nil {
		t.Errorf("job engine events %v, queue %v; want none (re-runs run at once)", j.Events, j.Queue)
	}
	if tr := Tracker(p, j); tr.Deployments.Events != nil {
		t.Errorf("tracker events = %v, want none", tr.Deployments.Events)
	}
	if r := Reconciler(p, nil); r.Jobs != nil || r.Queue != nil {
		t.Errorf("reconciler jobs %v, queue %v; want none", r.Jobs, r.Queue)
	}
}

func TestUnpacedEnginesNeverWait(t *testing.T) {
	p := &Parts{Unpaced: true}
	d, j := Deployer(p), Jobs(p)
	if d.RegisterLimit == nil || d.UpdateLimit == nil || j.RegisterLimit == nil {
		t.Fatalf("limiters deploy %v/%v, jobs %v; want unlimited ones", d.RegisterLimit, d.UpdateLimit, j.RegisterLimit)
	}
	for range 100 {
		if !d.RegisterLimit.Allow() || !d.UpdateLimit.Allow() || !j.RegisterLimit.Allow() {
			t.Fatal("an unpaced limiter refused a token")
		}
	}
}

type recordingQueue struct{ groups []string }

func (q *recordingQueue) Send(_ context.Context, group, _ string, _ []byte) error {
	q.groups = append(q.groups, group)
	return nil
}

// TestJobsSendReRunsToTheJobQueue: the job engine built with a job queue
// holds it (the tracker's re-runs go there) and the runner's handler runs
// on that engine.
func TestJobsSendReRunsToTheJobQueue(t *testing.T) {
	q := &recordingQueue{}
	j := Jobs(&Parts{JobQueue: q})
	if j.Queue != q {
		t.Errorf("job engine queue = %v, want the parts' job queue", j.Queue)
	}
	if h := Runner(j); h.Engine != j {
		t.Errorf("runner handler engine = %p, want %p", h.Engine, j)
	}
}
