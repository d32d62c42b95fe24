package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAFailedVerdictIsRetriedNotLost: the tracker answers an error when it
// could not record a rollback (issue 10 item 2); Lambda then retries the
// event twice within an hour and keeps it in the tracker's async DLQ, and
// the rule's target retries deliveries that did not reach the function.
func TestAFailedVerdictIsRetriedNotLost(t *testing.T) {
	s := synth(t, "example")
	tracker := s.logicalID(t, "AWS::Lambda::Function", "Tracker")
	type retry struct {
		Attempts, MaxAgeSec float64
		DLQ                 string
	}
	var got []retry
	for _, r := range s.resources("AWS::Lambda::EventInvokeConfig") {
		p := props(r)
		if flat(p["FunctionName"]) != "${"+tracker+"}" {
			continue
		}
		got = append(got, retry{Attempts: p["MaximumRetryAttempts"].(float64), MaxAgeSec: p["MaximumEventAgeInSeconds"].(float64)})
	}
	fn := props(s.resources("AWS::Lambda::Function")[tracker])
	if len(got) == 1 {
		got[0].DLQ = flat(fn["DeadLetterConfig"].(map[string]any)["TargetArn"])
	}
	want := []retry{{Attempts: 2, MaxAgeSec: 3600, DLQ: "${" + s.logicalID(t, "AWS::SQS::Queue", "TrackerAsyncDLQ") + ".Arn}"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tracker's asynchronous retries (-want +got):\n%s", diff)
	}
	rule := props(s.resources("AWS::Events::Rule")[s.logicalID(t, "AWS::Events::Rule", "EcsDeployments")])
	tg := rule["Targets"].([]any)[0].(map[string]any)
	rp := tg["RetryPolicy"].(map[string]any)
	if rp["MaximumRetryAttempts"] != float64(targetRetryAttempts) || flat(tg["DeadLetterConfig"].(map[string]any)["Arn"]) != "${"+s.logicalID(t, "AWS::SQS::Queue", "TrackerRuleDLQ")+".Arn}" {
		t.Errorf("deployment rule target retry policy %v, DLQ %v", rp, tg["DeadLetterConfig"])
	}
}
