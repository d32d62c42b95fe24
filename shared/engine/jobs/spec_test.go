package jobs

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/deckhand-ecs/deckhand/events"
	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// TestRunChecksTheJobSpec runs jobs whose manifest entry and template the
// renderer judges: a job RunTask would refuse fails once, before any
// write; a job may omit images: and run its template's images; allow: is
// what lets a job's template raise privileges.
func TestRunChecksTheJobSpec(t *testing.T) {
	const tool = "123456789012.dkr.ecr.us-east-1.amazonaws.com/tool@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	literal := `{"family":"tool","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512",
	  "containerDefinitions":[{"name":"tool","image":"` + tool + `"%s}]}`
	job := func(extra string) string {
		return "version: 1\njobs:\n  - name: tool\n    schedule: rate(1 hour)\n    cluster: prod\n    template: tool.json\n" + extra
	}
	tests := map[string]struct {
		manifest, template string
		wantStatus         events.JobStatus
		wantCalls          []string
		wantReason         string
		wantImage          string
	}{
		"a job without images: runs its template's image": {
			manifest: job("    network: { subnets: [subnet-1] }\n"), template: strings.Replace(literal, "%s", "", 1),
			wantStatus: events.JobStarted, wantCalls: []string{"ListTasks", "ListTasks", "DescribeTaskDefinition", "RegisterTaskDefinition", "RunTask", "ListTasks"},
			wantImage: tool,
		},
		"awsvpc without network: fails before any write": {
			manifest: job(""), template: strings.Replace(literal, "%s", "", 1),
			wantStatus: events.JobFailed, wantCalls: []string{"ListTasks", "ListTasks"}, wantReason: "$.networkMode",
		},
		"a privileged container without allow: fails before any write": {
			manifest: job("    network: { subnets: [subnet-1] }\n"), template: strings.Replace(literal, "%s", `,"privileged":true`, 1),
			wantStatus: events.JobFailed, wantCalls: []string{"ListTasks", "ListTasks"}, wantReason: "$.containerDefinitions[0].privileged",
		},
		"a privileged container the job allows runs": {
			manifest:   job("    network: { subnets: [subnet-1] }\n    allow: { privileged: true }\n"),
			template:   strings.Replace(literal, "%s", `,"privileged":true`, 1),
			wantStatus: events.JobStarted, wantCalls: []string{"ListTasks", "ListTasks", "DescribeTaskDefinition", "RegisterTaskDefinition", "RunTask", "ListTasks"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, fe, _ := newEngine(t)
			m, err := manifest.Parse("deckhand.yaml", []byte(tc.manifest))
			if err != nil {
				t.Fatal(err)
			}
			e.Source = &fakeSource{m: m, templates: map[string]string{"tool.json": tc.template}}
			res, err := e.Run(context.Background(), Invocation{Job: "tool", ScheduledTime: tick})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.Status != tc.wantStatus || !strings.Contains(res.Reason, tc.wantReason) {
				t.Errorf("Run = %s %q, want %s with %q", res.Status, res.Reason, tc.wantStatus, tc.wantReason)
			}
			if diff := cmp.Diff(tc.wantCalls, fe.callNames(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ECS calls (-want +got):\n%s", diff)
			}
			if tc.wantImage != "" {
				in := inputsOf[*ecs.RegisterTaskDefinitionInput](fe)
				if len(in) != 1 || aws.ToString(in[0].ContainerDefinitions[0].Image) != tc.wantImage {
					t.Errorf("registered %+v, want the image %s", in, tc.wantImage)
				}
			}
		})
	}
}
