package sandbox_test

import (
	"strings"
	"testing"
)

// TestAWSCLIServiceEvents drives DescribeServices' events with the AWS CLI
// (`deckhand status` shows them): each event has an id, a createdAt and
// ECS's message "(service NAME) …", newest first, and a rollout leaves its
// story there (tasks started and stopped, the deployment completed, a
// steady state).
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceEvent.html
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages-list.html
func TestAWSCLIServiceEvents(t *testing.T) {
	c := start(t)
	cli := newAWSCLI(t, c.sb.Endpoint())
	td := func(image string) string {
		return `{"family":"web","containerDefinitions":[{"name":"app","image":"` + image + `","essential":true}],"cpu":"256","memory":"512"}`
	}
	cli.json("ecs", "create-cluster", "--cluster-name", "prod")
	cli.json("ecs", "register-task-definition", "--cli-input-json", td("123456789012.dkr.ecr.us-west-2.amazonaws.com/web:1.0"))
	cli.json("ecs", "create-service", "--cluster", "prod", "--service-name", "web", "--task-definition", "web:1", "--desired-count", "2")
	controlPost(t, c.sb.Endpoint(), "advance", map[string]any{"seconds": 60})
	cli.json("ecs", "register-task-definition", "--cli-input-json", td("123456789012.dkr.ecr.us-west-2.amazonaws.com/web:1.1"))
	cli.json("ecs", "update-service", "--cluster", "prod", "--service", "web", "--task-definition", "web:2")
	controlPost(t, c.sb.Endpoint(), "advance", map[string]any{"seconds": 60})

	out := cli.json("ecs", "describe-services", "--cluster", "prod", "--services", "web")
	evs, _ := path(t, out, "services", 0, "events").([]any)
	if len(evs) < 4 {
		t.Fatalf("describe-services events = %v, want a rollout's story", evs)
	}
	var messages []string
	prev := 0.0
	for i, e := range evs {
		ev := e.(map[string]any)
		id, _ := ev["id"].(string)
		at, _ := ev["createdAt"].(float64) // epoch seconds, as the CLI prints them with --output json
		msg, _ := ev["message"].(string)
		if id == "" || at == 0 || !strings.HasPrefix(msg, "(service web) ") {
			t.Errorf("event %d = %v, want id, createdAt and a message starting (service web)", i, ev)
		}
		if prev != 0 && at > prev {
			t.Errorf("event %d at %v is newer than the one before it (%v): want newest first", i, at, prev)
		}
		prev = at
		messages = append(messages, msg)
	}
	all := strings.Join(messages, "\n")
	if !strings.HasSuffix(messages[0], "has reached a steady state.") {
		t.Errorf("newest event = %q, want the steady state after the rollout", messages[0])
	}
	for _, want := range []string{"has started 2 tasks", "has stopped 2 running tasks", "deployment completed."} {
		if !strings.Contains(all, want) {
			t.Errorf("events do not tell %q:\n%s", want, all)
		}
	}
}
