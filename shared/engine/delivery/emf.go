package delivery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Namespace is the CloudWatch namespace of the delivery metrics.
const Namespace = "Deckhand/Delivery"

// The metric names, with Dimension ("Binding") their one dimension.
const (
	MetricDeployments   = "Deployments"
	MetricFailures      = "Failures"
	MetricRollbacks     = "Rollbacks"
	MetricLeadTime      = "LeadTime"
	MetricTimeToRestore = "TimeToRestore"
	Dimension           = "Binding"
)

// Point is what one verdict contributes to a binding's metrics.
type Point struct {
	Binding string
	Verdict string
	At      time.Time
	// LeadTime and Restore are set (HasLeadTime, HasRestore) on a SUCCEEDED
	// verdict that has them.
	LeadTime, Restore       time.Duration
	HasLeadTime, HasRestore bool
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

// WriteEMF writes p as one line of CloudWatch's embedded metric format
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// Lambda's log stream turns it into metrics with no API call. Every
// verdict carries Deployments 1, Failures and Rollbacks 1 or 0; LeadTime
// and TimeToRestore (milliseconds) appear only when p has them.
func WriteEMF(w io.Writer, p Point) error {
	fail, rb := 0, 0
	switch p.Verdict {
	case Failed:
		fail = 1
	case RolledBack:
		fail, rb = 1, 1
	}
	line := map[string]any{
		Dimension: p.Binding, "Verdict": p.Verdict,
		MetricDeployments: 1, MetricFailures: fail, MetricRollbacks: rb,
	}
	metrics := []emfMetric{{MetricDeployments, "Count"}, {MetricFailures, "Count"}, {MetricRollbacks, "Count"}}
	if p.HasLeadTime {
		line[MetricLeadTime] = p.LeadTime.Milliseconds()
		metrics = append(metrics, emfMetric{MetricLeadTime, "Milliseconds"})
	}
	if p.HasRestore {
		line[MetricTimeToRestore] = p.Restore.Milliseconds()
		metrics = append(metrics, emfMetric{MetricTimeToRestore, "Milliseconds"})
	}
	line["_aws"] = map[string]any{
		"Timestamp":         p.At.UnixMilli(),
		"CloudWatchMetrics": []emfDirective{{Namespace: Namespace, Dimensions: [][]string{{Dimension}}, Metrics: metrics}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encode metrics of %s: %w", p.Binding, err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write metrics of %s: %w", p.Binding, err)
	}
	return nil
}

// ParseEMF reads the points back from lines WriteEMF wrote, skipping any
// other line (logs interleaved): what tests and tools read the tracker's
// output with.
func ParseEMF(out []byte) ([]Point, error) {
	var points []Point
	i := 0
	for line := range bytes.Lines(out) {
		i++
		var v struct {
			AWS           *json.RawMessage `json:"_aws"`
			Binding       string
			Verdict       string
			LeadTime      *int64
			TimeToRestore *int64
		}
		if json.Unmarshal(line, &v) != nil || v.AWS == nil {
			continue
		}
		var aws struct{ Timestamp int64 }
		if err := json.Unmarshal(*v.AWS, &aws); err != nil {
			return nil, fmt.Errorf("line %d: _aws: %w", i, err)
		}
		p := Point{Binding: v.Binding, Verdict: v.Verdict, At: time.UnixMilli(aws.Timestamp).UTC()}
		if v.LeadTime != nil {
			p.LeadTime, p.HasLeadTime = time.Duration(*v.LeadTime)*time.Millisecond, true
		}
		if v.TimeToRestore != nil {
			p.Restore, p.HasRestore = time.Duration(*v.TimeToRestore)*time.Millisecond, true
		}
		points = append(points, p)
	}
	return points, nil
}
