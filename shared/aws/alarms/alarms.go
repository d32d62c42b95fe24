// Package alarms reads the CloudWatch alarms a binding's deployment names
// (DESIGN §10, the manifest's deployment.alarms): whether they exist and
// which are in ALARM. The deployer refuses a deploy whose alarms do not
// exist (ECS would watch nothing), `deckhand status` shows the ones in
// ALARM, and `deckhand verify` can list the missing ones (cli.CheckAlarms).
package alarms

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// API is the part of the CloudWatch client the package uses.
type API interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

var _ API = (*cloudwatch.Client)(nil)

// maxNames is how many names one DescribeAlarms call takes.
const maxNames = 100

// States returns the state (OK, ALARM, INSUFFICIENT_DATA) of each named
// alarm that exists, metric or composite; a name CloudWatch does not know
// is absent from the map.
func States(ctx context.Context, api API, names []string) (map[string]string, error) {
	out := map[string]string{}
	for chunk := range slices.Chunk(names, maxNames) {
		in := &cloudwatch.DescribeAlarmsInput{AlarmNames: chunk, MaxRecords: aws.Int32(maxNames),
			AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm}}
		for {
			page, err := api.DescribeAlarms(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("describe alarms %v: %w", chunk, err)
			}
			for _, a := range page.MetricAlarms {
				out[aws.ToString(a.AlarmName)] = string(a.StateValue)
			}
			for _, a := range page.CompositeAlarms {
				out[aws.ToString(a.AlarmName)] = string(a.StateValue)
			}
			if aws.ToString(page.NextToken) == "" {
				break
			}
			in.NextToken = page.NextToken
		}
	}
	return out, nil
}

// Missing returns, in the order given, the names CloudWatch has no alarm
// of.
func Missing(ctx context.Context, api API, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	states, err := States(ctx, api, names)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, n := range names {
		if _, ok := states[n]; !ok {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

// Firing returns, in the order given, the names whose alarm is in ALARM.
func Firing(states map[string]string, names []string) []string {
	var out []string
	for _, n := range names {
		if states[n] == string(types.StateValueAlarm) {
			out = append(out, n)
		}
	}
	return out
}
