package revision

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
	"github.com/deckhand-ecs/deckhand/shared/spec/taskdef"
)

func TestTagsECSAreSortedAndClean(t *testing.T) {
	got := Merge([]types.Tag{{Key: aws.String("team"), Value: aws.String("payments")}, {Key: aws.String(TagTrigger), Value: aws.String("template")}},
		Tags{TagTrigger: "push", TagTemplate: "t.json@\"etag\"", TagBinding: "web"})
	var pairs []string
	for _, tag := range got {
		pairs = append(pairs, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
	}
	want := []string{TagBinding + "=web", TagTemplate + "=t.json@etag", TagTrigger + "=push", "team=payments"}
	if diff := cmp.Diff(want, pairs); diff != "" {
		t.Errorf("merged tags (-want +got):\n%s", diff)
	}
	if v := TagValue(strings.Repeat("a", 300)); len(v) != 256 {
		t.Errorf("TagValue kept %d characters, want 256", len(v))
	}
}

func TestPushedAt(t *testing.T) {
	tags := Tags{TagPushedAt + "web": "2026-11-16T01:00:00.5Z", TagPushedAt + "bad": "yesterday"}
	if at, ok := tags.PushedAt("web"); !ok || !at.Equal(t0.Add(500*time.Millisecond)) {
		t.Errorf("PushedAt(web) = %s %v", at, ok)
	}
	for _, c := range []string{"bad", "none"} {
		if _, ok := tags.PushedAt(c); ok {
			t.Errorf("PushedAt(%s) found a time", c)
		}
	}
}

func TestImage(t *testing.T) {
	const reg = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	def := &types.TaskDefinition{ContainerDefinitions: []types.ContainerDefinition{
		{Name: aws.String("web"), Image: aws.String(reg + "/web@sha256:aaa")},
		{Name: aws.String("proxy"), Image: aws.String(reg + "/proxy:stable-1")},
		{Name: aws.String("empty")},
	}}
	tags := Tags{TagDigest + "web": "sha256:aaa", TagImageTag + "web": "1.4.0", TagPushedAt + "web": t0.Format(time.RFC3339Nano)}
	tests := map[string]struct {
		container string
		want      taskdef.Image
		wantOK    bool
	}{
		"a Deckhand container has its recorded tag and push time": {"web", taskdef.Image{Registry: reg, Repository: "web", Tag: "1.4.0", Digest: "sha256:aaa", PushedAt: t0}, true},
		"another container is read from its image reference":      {"proxy", taskdef.Image{Registry: reg, Repository: "proxy", Tag: "stable-1"}, true},
		"a container without an image has none":                   {"empty", taskdef.Image{}, false},
		"a missing container has none":                            {"sidecar", taskdef.Image{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := Image(def, tags, tc.container)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("image (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOfService(t *testing.T) {
	svc := types.Service{TaskDefinition: aws.String("web:1"), Deployments: []types.Deployment{
		{Status: aws.String("ACTIVE"), TaskDefinition: aws.String("web:1")}, {Status: aws.String("PRIMARY"), TaskDefinition: aws.String("web:2")}}}
	if got := OfService(svc); got != "web:2" {
		t.Errorf("OfService = %s, want the PRIMARY deployment's web:2", got)
	}
	if got := OfService(types.Service{TaskDefinition: aws.String("web:1")}); got != "web:1" {
		t.Errorf("OfService without deployments = %s, want web:1", got)
	}
}

func TestPrimary(t *testing.T) {
	m, err := manifest.Parse("deckhand.yaml", []byte(`version: 1
services:
  - {name: web, cluster: c, service: svc, template: t.json, images: {proxy: {repository: p, tags: "*"}, web: {repository: w, tags: "*"}}}
  - {name: api, cluster: c, service: backend, template: t.json, images: {sidecar: {repository: s, tags: "*"}, backend: {repository: b, tags: "*"}}}
  - {name: batch, cluster: c, service: batch-svc, template: t.json, images: {b: {repository: b, tags: "*"}, a: {repository: a, tags: "*"}}}
jobs:
  - {name: report, schedule: "rate(1 hour)", cluster: c, template: t.json, images: {z: {repository: z, tags: "*"}, y: {repository: y, tags: "*"}}}
  - {name: warm, schedule: "rate(1 hour)", cluster: c, template: t.json, images: {z: {repository: z, tags: "*"}, y: {repository: y, tags: "*"}}, overrides: {container: z}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i := range m.Services {
		got[m.Services[i].Name] = ServicePrimary(&m.Services[i])
	}
	for i := range m.Jobs {
		got[m.Jobs[i].Name] = JobPrimary(&m.Jobs[i])
	}
	want := map[string]string{"web": "web", "api": "backend", "batch": "a", "report": "y", "warm": "z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("primary containers (-want +got):\n%s", diff)
	}
}
