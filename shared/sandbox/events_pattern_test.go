package sandbox_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/smithy-go"
)

// patternEvent is a Deckhand event in the shape EventBridge delivers it.
const patternEvent = `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Deckhand Deployment State Change",
"source":"deckhand","account":"123456789012","time":"2026-11-16T01:14:00Z","region":"us-west-2","resources":[],
"detail":{"status":"PENDING_APPROVAL","binding":"shop-prod","containers":{"shop":{"newDigest":"sha256:ce0d"}},"durationMs":0,
"gate":{"name":"approval","scans":{}},"tags":["a","b"]}}`

// TestTestEventPatternMatchesAsEventBridge: the pattern language's parts
// rules on Deckhand's events use, each matching and not matching.
func TestTestEventPatternMatchesAsEventBridge(t *testing.T) {
	c := start(t)
	tests := map[string]struct {
		pattern string
		want    bool
	}{
		"source and detail-type match":           {`{"source":["deckhand"],"detail-type":["Deckhand Deployment State Change"]}`, true},
		"another source does not":                {`{"source":["aws.ecr"]}`, false},
		"a nested field matches one of its list": {`{"detail":{"status":["REJECTED","PENDING_APPROVAL"]}}`, true},
		"a nested field off the list":            {`{"detail":{"status":["APPROVED"]}}`, false},
		"two levels down":                        {`{"detail":{"gate":{"name":["approval"]}}}`, true},
		"any element of an array value":          {`{"detail":{"tags":["b"]}}`, true},
		"prefix":                                 {`{"detail":{"binding":[{"prefix":"shop-"}]}}`, true},
		"suffix that does not fit":               {`{"detail":{"binding":[{"suffix":"-staging"}]}}`, false},
		"equals-ignore-case":                     {`{"detail":{"status":[{"equals-ignore-case":"pending_approval"}]}}`, true},
		"anything-but a list":                    {`{"detail":{"status":[{"anything-but":["STARTED","SUCCEEDED"]}]}}`, true},
		"anything-but the value":                 {`{"detail":{"status":[{"anything-but":"PENDING_APPROVAL"}]}}`, false},
		"anything-but a prefix":                  {`{"detail":{"status":[{"anything-but":{"prefix":"PENDING"}}]}}`, false},
		"exists false on a missing field":        {`{"detail":{"reason":[{"exists":false}]}}`, true},
		"exists true on a missing field":         {`{"detail":{"reason":[{"exists":true}]}}`, false},
		"a missing field matches no value":       {`{"detail":{"reason":["x"]}}`, false},
		"numeric":                                {`{"detail":{"durationMs":[{"numeric":[">=",0,"<",1]}]}}`, true},
		"numbers compare by value":               {`{"detail":{"durationMs":[0.0]}}`, true},
		"every field must match":                 {`{"source":["deckhand"],"detail":{"status":["APPROVED"]}}`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := c.events.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(tc.pattern), Event: aws.String(patternEvent)})
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != tc.want {
				t.Errorf("Result = %t, want %t", out.Result, tc.want)
			}
		})
	}
}

// TestTestEventPatternRefusesWhatItCannotJudge: a bad pattern, a filter the
// sandbox does not know, an event without a mandatory field.
func TestTestEventPatternRefusesWhatItCannotJudge(t *testing.T) {
	c := start(t)
	tests := map[string]struct {
		pattern, event, code string
	}{
		"a value outside an array":    {`{"source":"deckhand"}`, patternEvent, "InvalidEventPatternException"},
		"a filter it does not know":   {`{"detail":{"binding":[{"wildcard":"shop-*"}]}}`, patternEvent, "InvalidEventPatternException"},
		"not JSON":                    {`{"source":[`, patternEvent, "InvalidEventPatternException"},
		"an event without its region": {`{"source":["deckhand"]}`, `{"id":"1","account":"1","source":"deckhand","time":"t","resources":[],"detail-type":"x"}`, "ValidationException"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := c.events.TestEventPattern(ctx, &eventbridge.TestEventPatternInput{EventPattern: aws.String(tc.pattern), Event: aws.String(tc.event)})
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tc.code {
				t.Errorf("error %v, want %s", err, tc.code)
			}
		})
	}
}

// TestTestEventPatternWithTheAWSCLI: the AWS CLI's test-event-pattern gets
// the same answers.
func TestTestEventPatternWithTheAWSCLI(t *testing.T) {
	c := start(t)
	cli := newAWSCLI(t, c.sb.Endpoint())
	for pattern, want := range map[string]bool{
		`{"source":["deckhand"],"detail":{"status":["PENDING_APPROVAL"]}}`: true,
		`{"source":["deckhand"],"detail":{"status":["APPROVED"]}}`:         false,
	} {
		out := cli.json("events", "test-event-pattern", "--event-pattern", pattern, "--event", patternEvent)
		if out["Result"] != want {
			t.Errorf("aws events test-event-pattern %s: %v, want Result %t", pattern, out, want)
		}
	}
}
