package deploy

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/deckhand-ecs/deckhand/events"
)

// fakeAlarms is CloudWatch knowing some alarms.
type fakeAlarms struct {
	known []string
	calls int
}

func (f *fakeAlarms) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	f.calls++
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		if slices.Contains(f.known, n) {
			out.MetricAlarms = append(out.MetricAlarms, cwtypes.MetricAlarm{AlarmName: aws.String(n), StateValue: cwtypes.StateValueOk})
		}
	}
	return out, nil
}

// TestProgressiveBadInputChangesNothing is issue 12's bad input: a
// strategy the service cannot run, or alarms CloudWatch does not have, is
// FAILED before any write, naming what is missing; with them in place the
// same push deploys.
func TestProgressiveBadInputChangesNothing(t *testing.T) {
	tg := aws.String("arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/web/1")
	tests := map[string]struct {
		block   string
		lbs     []types.LoadBalancer
		known   []string
		wantErr []string // parts of the FAILED reason; none: STARTED
		wantCW  int      // DescribeAlarms calls
	}{
		"blueGreen on a service without the alternate target group and listener rule": {
			block: "    deployment: { strategy: blueGreen }\n", lbs: []types.LoadBalancer{{TargetGroupArn: tg}},
			wantErr: []string{"StrategyUnsupported: deployment strategy blueGreen cannot run on service prod/web (binding web)", "no advancedConfiguration"},
		},
		"canary without a load balancer or Service Connect": {
			block:   "    deployment: { strategy: canary, alarms: [web-5xx] }\n",
			known:   []string{"web-5xx"},
			wantErr: []string{"StrategyUnsupported: deployment strategy canary needs a load balancer"},
		},
		"an alarm CloudWatch does not have": {
			block: "    deployment: { alarms: [web-5xx, web-p99] }\n", known: []string{"web-5xx"}, wantCW: 1,
			wantErr: []string{"AlarmNotFound: CloudWatch has no alarm web-p99 in us-west-2 (deployment.alarms of binding web)"},
		},
		"alarms that exist deploy": {
			block: "    deployment: { alarms: [web-5xx] }\n", known: []string{"web-5xx"}, wantCW: 1,
		},
		"blueGreen with advancedConfiguration deploys": {
			block: "    deployment: { strategy: blueGreen, bake: 5m }\n",
			lbs: []types.LoadBalancer{{TargetGroupArn: tg, AdvancedConfiguration: &types.AdvancedConfiguration{
				AlternateTargetGroupArn: aws.String(*tg + "-green"), ProductionListenerRule: aws.String("arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/web/1/2/3")}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			w.src.manifest = strings.Replace(testManifest, "      proxy: { repository: proxy, tags: \"glob:stable-*\" }\n",
				"      proxy: { repository: proxy, tags: \"glob:stable-*\" }\n"+tc.block, 1)
			w.ecs.services["prod/web"].LoadBalancers = tc.lbs
			cw := &fakeAlarms{known: tc.known}
			w.engine.Alarms = cw
			out := w.deploy(t, push("web", "1.4.0", digestA, 0))
			if len(out) != 1 {
				t.Fatalf("outcomes %+v", out)
			}
			ev := out[0].Event
			if len(tc.wantErr) == 0 {
				if ev.Status != events.StatusStarted || w.ecs.writes() != 2 {
					t.Errorf("%s (%s) with %d writes; want STARTED", ev.Status, ev.Reason, w.ecs.writes())
				}
			} else {
				if ev.Status != events.StatusFailed || out[0].Retry || w.ecs.writes() != 0 {
					t.Errorf("%s (retry %v) with %d writes; want a permanent FAILED and no write", ev.Status, out[0].Retry, w.ecs.writes())
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(ev.Reason, want) {
						t.Errorf("reason %q lacks %q", ev.Reason, want)
					}
				}
			}
			if cw.calls != tc.wantCW {
				t.Errorf("DescribeAlarms called %d times, want %d", cw.calls, tc.wantCW)
			}
		})
	}
}

// TestABindingWithoutDeploymentAsksNoAlarms: the warm path of a binding
// without a deployment: block makes no CloudWatch call.
func TestABindingWithoutDeploymentAsksNoAlarms(t *testing.T) {
	w := newWorld()
	cw := &fakeAlarms{}
	w.engine.Alarms = cw
	if out := w.deploy(t, push("web", "1.4.0", digestA, 0)); out[0].Event.Status != events.StatusStarted {
		t.Fatalf("%+v", out[0].Event)
	}
	if cw.calls != 0 {
		t.Errorf("DescribeAlarms called %d times", cw.calls)
	}
}
