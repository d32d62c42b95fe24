package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-ecs/deckhand/shared/sandbox/awsproto"
)

// cloudWatch is the CloudWatch alarms subset: PutMetricAlarm, SetAlarmState,
// DescribeAlarms and DeleteAlarms, over the three protocols CloudWatch
// serves (cloudwatch_proto.go). An alarm is born INSUFFICIENT_DATA; only
// SetAlarmState (or the control API) moves it, since the sandbox has no
// metrics. Every state change is told to ECS, where a deployment watching
// the alarm fails and rolls back (DESIGN §10).
type cloudWatch struct {
	s       *Sandbox
	mu      sync.Mutex
	alarms  map[string]*metricAlarm
	changed func() // told after a state change, without cw.mu held
}

type dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// metricAlarm is a MetricAlarm as DescribeAlarms shows it.
type metricAlarm struct {
	AlarmName, AlarmArn, AlarmDescription            string
	ActionsEnabled                                   bool
	OKActions, AlarmActions, InsufficientDataActions []string
	StateValue, StateReason, StateReasonData         string
	StateUpdated, ConfigUpdated, StateTransitioned   time.Time
	MetricName, Namespace, Statistic, Unit           string
	ExtendedStatistic, ComparisonOperator, TreatMiss string
	Dimensions                                       []dimension
	Period, EvaluationPeriods, DatapointsToAlarm     *int
	Threshold                                        *float64
}

func newCloudWatch(s *Sandbox) *cloudWatch {
	return &cloudWatch{s: s, alarms: map[string]*metricAlarm{}}
}

// cwError builds a CloudWatch error; code is the error shape's name (the
// JSON and CBOR protocols' __type), cwQueryCodes gives its awsQuery code.
func cwError(status int, code, format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(status, code, format, args...)
}

var cwQueryCodes = map[string]string{
	"MissingRequiredParameterException":    "MissingParameter",
	"InvalidParameterValueException":       "InvalidParameterValue",
	"InvalidParameterCombinationException": "InvalidParameterCombination",
	"InvalidNextToken":                     "InvalidNextToken",
	"ResourceNotFound":                     "ResourceNotFound",
}

// cwQueryCode is the awsQuery error code of a CloudWatch error shape.
func cwQueryCode(code string) string {
	if q, ok := cwQueryCodes[code]; ok {
		return q
	}
	return code
}

// alarmInput is the input of the alarm operations, whatever the protocol.
type alarmInput struct {
	AlarmName, AlarmDescription                      string
	ActionsEnabled                                   *flexBool
	OKActions, AlarmActions, InsufficientDataActions []string
	MetricName, Namespace, Statistic, Unit           string
	ExtendedStatistic, ComparisonOperator            string
	TreatMissingData                                 string
	Dimensions                                       []dimension
	Period, EvaluationPeriods, DatapointsToAlarm     *flexInt
	Threshold                                        *flexFloat
	StateValue, StateReason, StateReasonData         string
	AlarmNames, AlarmTypes                           []string
	AlarmNamePrefix, ActionPrefix, NextToken         string
	MaxRecords                                       *flexInt
}

// do runs one operation on a decoded input and returns the output tree
// (maps, slices, strings, numbers, bools and time.Time).
func (cw *cloudWatch) do(_ context.Context, op string, raw map[string]any) (map[string]any, error) {
	var in alarmInput
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, cwError(http.StatusBadRequest, "InvalidParameterValueException", "%v", err)
	}
	now := cw.s.clock.Now()
	switch op {
	case "PutMetricAlarm":
		return cw.put(in, now)
	case "SetAlarmState":
		return cw.setState(in.AlarmName, in.StateValue, in.StateReason, in.StateReasonData, now)
	case "DescribeAlarms":
		return cw.describe(in)
	case "DeleteAlarms":
		return cw.delete(in.AlarmNames)
	}
	return nil, awsproto.Errorf(http.StatusNotImplemented, "NotImplemented",
		"the Deckhand sandbox does not emulate CloudWatch %s; it serves PutMetricAlarm, SetAlarmState, DescribeAlarms and DeleteAlarms", op)
}

var comparisonOperators = []string{
	"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold",
	"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold",
}

func (cw *cloudWatch) put(in alarmInput, now time.Time) (map[string]any, error) {
	switch {
	case in.AlarmName == "":
		return nil, cwError(400, "MissingRequiredParameterException", "The parameter AlarmName is required.")
	case len(in.AlarmName) > 255:
		return nil, cwError(400, "InvalidParameterValueException", "The parameter AlarmName must be at most 255 characters long.")
	case in.EvaluationPeriods == nil:
		return nil, cwError(400, "MissingRequiredParameterException", "The parameter EvaluationPeriods is required.")
	case *in.EvaluationPeriods < 1:
		return nil, cwError(400, "InvalidParameterValueException", "The parameter EvaluationPeriods must be greater than or equal to 1.")
	case !slices.Contains(comparisonOperators, in.ComparisonOperator):
		return nil, cwError(400, "InvalidParameterValueException", "The parameter ComparisonOperator must be one of %s.", strings.Join(comparisonOperators, ", "))
	case in.MetricName != "" && in.Period == nil:
		return nil, cwError(400, "MissingRequiredParameterException", "The parameter Period is required.")
	case in.Period != nil && (*in.Period < 10 || *in.Period%60 != 0 && *in.Period != 10 && *in.Period != 20 && *in.Period != 30):
		return nil, cwError(400, "InvalidParameterValueException", "The parameter Period must be 10, 20, 30 or a multiple of 60.")
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	a, ok := cw.alarms[in.AlarmName]
	if !ok {
		a = &metricAlarm{
			AlarmName: in.AlarmName, AlarmArn: fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", cw.s.opts.Region, cw.s.opts.Account, in.AlarmName),
			StateValue: "INSUFFICIENT_DATA", StateReason: "Unchecked: Initial alarm creation", StateUpdated: now, StateTransitioned: now,
		}
		cw.alarms[in.AlarmName] = a
	}
	a.AlarmDescription, a.ActionsEnabled = in.AlarmDescription, in.ActionsEnabled == nil || bool(*in.ActionsEnabled)
	a.OKActions, a.AlarmActions, a.InsufficientDataActions = in.OKActions, in.AlarmActions, in.InsufficientDataActions
	a.MetricName, a.Namespace, a.Statistic, a.Unit = in.MetricName, in.Namespace, in.Statistic, in.Unit
	a.ExtendedStatistic, a.ComparisonOperator, a.TreatMiss = in.ExtendedStatistic, in.ComparisonOperator, in.TreatMissingData
	a.Dimensions, a.ConfigUpdated = in.Dimensions, now
	a.Period, a.EvaluationPeriods, a.DatapointsToAlarm = in.Period.ptr(), in.EvaluationPeriods.ptr(), in.DatapointsToAlarm.ptr()
	if in.Threshold != nil {
		v := float64(*in.Threshold)
		a.Threshold = &v
	}
	return map[string]any{}, nil
}

// setState moves an alarm to state and, on a change, tells ECS.
func (cw *cloudWatch) setState(name, state, reason, data string, now time.Time) (map[string]any, error) {
	switch {
	case name == "":
		return nil, cwError(400, "MissingRequiredParameterException", "The parameter AlarmName is required.")
	case state != "OK" && state != "ALARM" && state != "INSUFFICIENT_DATA":
		return nil, cwError(400, "InvalidParameterValueException", "The parameter StateValue must be one of OK, ALARM, INSUFFICIENT_DATA; got %q.", state)
	case reason == "":
		return nil, cwError(400, "MissingRequiredParameterException", "The parameter StateReason is required.")
	case data != "" && !json.Valid([]byte(data)):
		return nil, cwError(400, "InvalidFormatFault", "StateReasonData is not valid JSON.")
	}
	cw.mu.Lock()
	a, ok := cw.alarms[name]
	if !ok {
		cw.mu.Unlock()
		return nil, cwError(http.StatusNotFound, "ResourceNotFound", "Alarm %s not found", name)
	}
	changed := a.StateValue != state
	a.StateValue, a.StateReason, a.StateReasonData, a.StateUpdated = state, reason, data, now
	if changed {
		a.StateTransitioned = now
	}
	cw.mu.Unlock()
	if changed && cw.changed != nil {
		cw.changed()
	}
	return map[string]any{}, nil
}

func (cw *cloudWatch) describe(in alarmInput) (map[string]any, error) {
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != "" {
		return nil, cwError(400, "InvalidParameterCombinationException", "AlarmNames and AlarmNamePrefix cannot be used together.")
	}
	if len(in.AlarmNames) > 100 {
		return nil, cwError(400, "InvalidParameterValueException", "The parameter AlarmNames must have at most 100 members.")
	}
	if s := in.StateValue; s != "" && s != "OK" && s != "ALARM" && s != "INSUFFICIENT_DATA" {
		return nil, cwError(400, "InvalidParameterValueException", "The parameter StateValue must be one of OK, ALARM, INSUFFICIENT_DATA; got %q.", s)
	}
	limit := 50
	if in.MaxRecords != nil {
		if limit = int(*in.MaxRecords); limit < 1 || limit > 100 {
			return nil, cwError(400, "InvalidParameterValueException", "The parameter MaxRecords must be between 1 and 100.")
		}
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	metric := []any{}
	if len(in.AlarmTypes) == 0 || slices.Contains(in.AlarmTypes, "MetricAlarm") {
		for _, name := range sortedKeys(cw.alarms) {
			a := cw.alarms[name]
			if len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, name) || !strings.HasPrefix(name, in.AlarmNamePrefix) ||
				in.StateValue != "" && a.StateValue != in.StateValue || in.ActionPrefix != "" && !hasActionPrefix(a, in.ActionPrefix) {
				continue
			}
			metric = append(metric, a.tree())
		}
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "cw-"))
		if err != nil || n < 0 || n > len(metric) {
			return nil, cwError(400, "InvalidNextToken", "The NextToken is not valid.")
		}
		start = n
	}
	end := min(start+limit, len(metric))
	out := map[string]any{"MetricAlarms": metric[start:end], "CompositeAlarms": []any{}}
	if end < len(metric) {
		out["NextToken"] = "cw-" + strconv.Itoa(end)
	}
	return out, nil
}

func hasActionPrefix(a *metricAlarm, prefix string) bool {
	for _, acts := range [][]string{a.OKActions, a.AlarmActions, a.InsufficientDataActions} {
		for _, act := range acts {
			if strings.HasPrefix(act, prefix) {
				return true
			}
		}
	}
	return false
}

func (cw *cloudWatch) delete(names []string) (map[string]any, error) {
	if len(names) == 0 {
		return nil, cwError(400, "MissingRequiredParameterException", "The parameter AlarmNames is required.")
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	for _, n := range names {
		if _, ok := cw.alarms[n]; !ok {
			return nil, cwError(http.StatusNotFound, "ResourceNotFound", "Alarm %s not found", n)
		}
	}
	for _, n := range names {
		delete(cw.alarms, n)
	}
	return map[string]any{}, nil
}

// inAlarm returns those of names whose alarm is in ALARM, in order. It is
// ECS's view of the alarms (ecssim.Config.AlarmStates).
func (cw *cloudWatch) inAlarm(names []string) []string {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	var out []string
	for _, n := range names {
		if a, ok := cw.alarms[n]; ok && a.StateValue == "ALARM" {
			out = append(out, n)
		}
	}
	return out
}

func (a *metricAlarm) tree() map[string]any {
	t := map[string]any{
		"AlarmName": a.AlarmName, "AlarmArn": a.AlarmArn, "ActionsEnabled": a.ActionsEnabled,
		"OKActions": strs(a.OKActions), "AlarmActions": strs(a.AlarmActions), "InsufficientDataActions": strs(a.InsufficientDataActions),
		"StateValue": a.StateValue, "StateReason": a.StateReason, "StateUpdatedTimestamp": a.StateUpdated,
		"AlarmConfigurationUpdatedTimestamp": a.ConfigUpdated, "StateTransitionedTimestamp": a.StateTransitioned,
		"ComparisonOperator": a.ComparisonOperator, "Dimensions": dims(a.Dimensions),
	}
	set := func(k, v string) {
		if v != "" {
			t[k] = v
		}
	}
	set("AlarmDescription", a.AlarmDescription)
	set("StateReasonData", a.StateReasonData)
	set("MetricName", a.MetricName)
	set("Namespace", a.Namespace)
	set("Statistic", a.Statistic)
	set("ExtendedStatistic", a.ExtendedStatistic)
	set("Unit", a.Unit)
	set("TreatMissingData", a.TreatMiss)
	for k, v := range map[string]*int{"Period": a.Period, "EvaluationPeriods": a.EvaluationPeriods, "DatapointsToAlarm": a.DatapointsToAlarm} {
		if v != nil {
			t[k] = *v
		}
	}
	if a.Threshold != nil {
		t["Threshold"] = *a.Threshold
	}
	return t
}

func strs(v []string) []any {
	out := []any{}
	for _, s := range v {
		out = append(out, s)
	}
	return out
}

func dims(v []dimension) []any {
	out := []any{}
	for _, d := range v {
		out = append(out, map[string]any{"Name": d.Name, "Value": d.Value})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// SetAlarmState sets a CloudWatch alarm's state as SetAlarmState does (the
// control API's /_sandbox/alarm-state): "OK", "ALARM" or
// "INSUFFICIENT_DATA". A deployment watching the alarm reacts at once.
func (s *Sandbox) SetAlarmState(name, state, reason string) error {
	if reason == "" {
		reason = "set by the sandbox control API"
	}
	_, err := s.cw.setState(name, state, reason, "", s.clock.Now())
	return err
}
