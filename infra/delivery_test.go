package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDashboardPlotsDeliveryMetrics: the dashboard has the four delivery
// widgets, each plotting the tracker's EMF metrics (namespace
// Deckhand/Delivery, one line per Binding) by day with the statistic its
// title names.
func TestDashboardPlotsDeliveryMetrics(t *testing.T) {
	s := synth(t, "example")
	var body string
	for _, r := range s.resources("AWS::CloudWatch::Dashboard") {
		body = flat(props(r)["DashboardBody"])
	}
	var dash struct {
		Widgets []struct {
			Properties struct {
				Title   string
				Metrics [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("dashboard body: %v\n%s", err, body)
	}
	got := map[string][]string{}
	for _, w := range dash.Widgets {
		for _, m := range w.Properties.Metrics {
			if !strings.HasPrefix(w.Properties.Title, "Delivery:") {
				continue // the other widgets are ops_test's
			}
			if opts, ok := m[len(m)-1].(map[string]any); ok && opts["expression"] != nil {
				got[w.Properties.Title] = append(got[w.Properties.Title], opts["expression"].(string))
			}
		}
	}
	search := func(metric, stat string) string {
		return `SEARCH('{Deckhand/Delivery,Binding} MetricName="` + metric + `"', '` + stat + `', 86400)`
	}
	want := map[string][]string{
		"Delivery: deployments per day, by binding":            {search("Deployments", "Sum")},
		"Delivery: failures and rollbacks per day, by binding": {search("Failures", "Sum"), search("Rollbacks", "Sum")},
		"Delivery: change failure rate (0–1), by binding":      {search("Failures", "Average")},
		"Delivery: lead time push → SUCCEEDED and time to restore (median, ms)": {
			search("LeadTime", "p50"), search("TimeToRestore", "p50")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dashboard expressions by widget (-want +got):\n%s", diff)
	}
}
