package deploy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/events"
)

// TestAllowReachesTheRenderer deploys a template with a privileged sidecar
// from Docker Hub: refused with the path unless the binding's allow: grants
// both, and the manifest's sources: name other accounts' registries.
func TestAllowReachesTheRenderer(t *testing.T) {
	const sidecar = `,{"name":"side","image":"%s","privileged":true}]}`
	tests := map[string]struct {
		allow, sources, image string
		want                  events.DeploymentStatus
		wantReason            string
	}{
		"without allow: refused": {
			image: "datadog/agent:7", want: events.StatusFailed, wantReason: "$.containerDefinitions[2].image",
		},
		"with allow: deployed": {
			allow: "    allow: { privileged: true, registries: [docker.io] }\n", image: "datadog/agent:7", want: events.StatusStarted,
		},
		"an image from a sources: account": {
			allow: "    allow: { privileged: true }\n", sources: "sources: { accounts: [\"210987654321\"] }\n",
			image: "210987654321.dkr.ecr.us-west-2.amazonaws.com/agent:7", want: events.StatusStarted,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld()
			w.src.manifest = strings.Replace(testManifest, "      proxy: { repository: proxy, tags: \"glob:stable-*\" }\n",
				"      proxy: { repository: proxy, tags: \"glob:stable-*\" }\n"+tc.allow, 1) + tc.sources
			w.src.templates["templates/web.json"] = strings.TrimSuffix(webTemplate, "]}") + strings.Replace(sidecar, "%s", tc.image, 1)
			out := w.deploy(t, push("web", "1.4.0", digestA, 0))
			if diff := cmp.Diff(map[string][]events.DeploymentStatus{"web": {tc.want}}, statuses(out)); diff != "" {
				t.Fatalf("statuses (-want +got):\n%s\n%+v", diff, out)
			}
			if !strings.Contains(out[0].Event.Reason, tc.wantReason) {
				t.Errorf("reason %q lacks %q", out[0].Event.Reason, tc.wantReason)
			}
		})
	}
}

// TestDescribedDefinitionDeploysThePush deploys with a template in the
// shape describe-task-definition prints, literal images and all: the
// service must run the pushed digest, not the template's image.
func TestDescribedDefinitionDeploysThePush(t *testing.T) {
	w := newWorld()
	w.src.templates["templates/web.json"] = `{"taskDefinition":{"taskDefinitionArn":"arn:aws:ecs:us-west-2:123456789012:task-definition/web:3",
	  "family":"web","revision":3,"status":"ACTIVE","compatibilities":["EC2"],"taskRoleArn":"arn:aws:iam::123456789012:role/web-task",
	  "containerDefinitions":[{"name":"web","image":"` + registry + `/web:0.9.0"},{"name":"proxy","image":"` + registry + `/proxy@` + digestP + `"}]},
	  "tags":[{"key":"team","value":"web"}]}`
	out := w.deploy(t, push("web", "1.4.0", digestA, 0))
	if diff := cmp.Diff(map[string][]events.DeploymentStatus{"web": {events.StatusStarted}}, statuses(out)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s\n%+v", diff, out)
	}
	if got := w.runningImage(t, "web", "web"); got != registry+"/web@"+digestA {
		t.Errorf("web runs %s, want the pushed %s", got, digestA)
	}
}
