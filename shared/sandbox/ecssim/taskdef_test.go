package ecssim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRegisterTaskDefinitionStoresInputAndTags(t *testing.T) {
	f := newFixture(t)
	body := `{"family":"web","networkMode":"awsvpc","cpu":"256","memory":"512","requiresCompatibilities":["FARGATE"],
		"executionRoleArn":"arn:aws:iam::123456789012:role/web-execution",
		"containerDefinitions":[{"name":"web","image":"repo/web@sha256:aa","portMappings":[{"containerPort":8080}],
		"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/web"}}}],
		"tags":[{"key":"deckhand:binding","value":"web"}]}`
	var reg map[string]json.RawMessage
	f.call(t, "RegisterTaskDefinition", body, &reg)
	if _, ok := reg["tags"]; !ok {
		t.Errorf("RegisterTaskDefinition response has no tags: %s", reg)
	}
	f.call(t, "RegisterTaskDefinition", body, nil)

	var out struct {
		TaskDefinition map[string]any      `json:"taskDefinition"`
		Tags           []map[string]string `json:"tags"`
	}
	f.call(t, "DescribeTaskDefinition", `{"taskDefinition":"web:1","include":["TAGS"]}`, &out)
	td := out.TaskDefinition
	want := map[string]any{
		"taskDefinitionArn":  "arn:aws:ecs:us-west-2:123456789012:task-definition/web:1",
		"family":             "web",
		"revision":           float64(1),
		"status":             "ACTIVE",
		"registeredAt":       float64(t0.Unix()),
		"networkMode":        "awsvpc",
		"executionRoleArn":   "arn:aws:iam::123456789012:role/web-execution",
		"compatibilities":    []any{"EC2", "FARGATE"},
		"requiresAttributes": []any{},
	}
	got := map[string]any{}
	for k := range want {
		got[k] = td[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("task definition (-want +got):\n%s", diff)
	}
	c := td["containerDefinitions"].([]any)[0].(map[string]any)
	if c["essential"] != true || c["image"] != "repo/web@sha256:aa" || c["logConfiguration"] == nil || c["portMappings"] == nil {
		t.Errorf("container definition not stored with defaults: %v", c)
	}
	if _, ok := td["tags"]; ok {
		t.Errorf("tags leaked into taskDefinition")
	}
	if diff := cmp.Diff([]map[string]string{{"key": "deckhand:binding", "value": "web"}}, out.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	// Latest revision by family; by ARN; no tags unless asked.
	var latest struct {
		TaskDefinition struct {
			Revision int32 `json:"revision"`
		} `json:"taskDefinition"`
		Tags []any `json:"tags"`
	}
	f.call(t, "DescribeTaskDefinition", `{"taskDefinition":"web"}`, &latest)
	if latest.TaskDefinition.Revision != 2 || latest.Tags != nil {
		t.Errorf("describe web: revision %d tags %v, want 2 and none", latest.TaskDefinition.Revision, latest.Tags)
	}
	f.call(t, "DescribeTaskDefinition", `{"taskDefinition":"arn:aws:ecs:us-west-2:123456789012:task-definition/web:2"}`, &latest)
	if latest.TaskDefinition.Revision != 2 {
		t.Errorf("describe by ARN: revision %d, want 2", latest.TaskDefinition.Revision)
	}
	if err := f.fail(t, "DescribeTaskDefinition", `{"taskDefinition":"web:3"}`); err.Code != "ClientException" {
		t.Errorf("describe web:3: code %s, want ClientException", err.Code)
	}
}

func TestRegisterTaskDefinitionValidation(t *testing.T) {
	many := make([]string, 11)
	for i := range many {
		many[i] = `{"name":"c` + string(rune('a'+i)) + `","image":"x"}`
	}
	tests := map[string]struct {
		body    string
		code    string
		message string
	}{
		"family with a dot is refused": {
			body: `{"family":"web.v2","containerDefinitions":[{"name":"web","image":"x"}]}`,
			code: "ClientException", message: "Family contains invalid characters",
		},
		"empty family is refused": {
			body: `{"containerDefinitions":[{"name":"web","image":"x"}]}`,
			code: "ClientException", message: "Family contains invalid characters",
		},
		"no containers are refused": {
			body: `{"family":"web","containerDefinitions":[]}`,
			code: "ClientException", message: "Container list cannot be empty.",
		},
		"a container without name is refused": {
			body: `{"family":"web","containerDefinitions":[{"image":"x"}]}`,
			code: "ClientException", message: "Container.name should not be null or empty.",
		},
		"a container without image is refused": {
			body: `{"family":"web","containerDefinitions":[{"name":"web"}]}`,
			code: "ClientException", message: "Container.image should not be null or empty.",
		},
		"eleven containers are refused": {
			body: `{"family":"web","containerDefinitions":[` + strings.Join(many, ",") + `]}`,
			code: "ClientException", message: "Too many containers",
		},
		"fargate without cpu is refused": {
			body: `{"family":"web","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"memory":"512","containerDefinitions":[{"name":"web","image":"x"}]}`,
			code: "ClientException", message: "Fargate requires that 'cpu' be defined",
		},
		"malformed JSON is a serialization error": {
			body: `{"family":`, code: "SerializationException",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			err := f.fail(t, "RegisterTaskDefinition", tc.body)
			if err.Code != tc.code || !strings.Contains(err.Message, tc.message) || err.Status != 400 {
				t.Errorf("got %d %s %q, want 400 %s containing %q", err.Status, err.Code, err.Message, tc.code, tc.message)
			}
		})
	}
}

func TestListAndDeregisterTaskDefinitions(t *testing.T) {
	f := newFixture(t)
	for _, fam := range []string{"web", "api", "web", "worker", "web"} {
		f.register(t, fam, "img")
	}
	f.call(t, "DeregisterTaskDefinition", `{"taskDefinition":"web:2"}`, nil)
	arn := func(s string) string { return "arn:aws:ecs:us-west-2:123456789012:task-definition/" + s }
	type listOut struct {
		TaskDefinitionArns []string `json:"taskDefinitionArns"`
		Families           []string `json:"families"`
		NextToken          string   `json:"nextToken"`
	}
	tests := map[string]struct {
		op, body string
		want     listOut
	}{
		"all active, ascending by family then revision": {
			op: "ListTaskDefinitions", body: `{}`,
			want: listOut{TaskDefinitionArns: []string{arn("api:1"), arn("web:1"), arn("web:3"), arn("worker:1")}},
		},
		"one family, newest first": {
			op: "ListTaskDefinitions", body: `{"familyPrefix":"web","sort":"DESC"}`,
			want: listOut{TaskDefinitionArns: []string{arn("web:3"), arn("web:1")}},
		},
		"inactive revisions": {
			op: "ListTaskDefinitions", body: `{"status":"INACTIVE"}`,
			want: listOut{TaskDefinitionArns: []string{arn("web:2")}},
		},
		"first page": {
			op: "ListTaskDefinitions", body: `{"maxResults":2}`,
			want: listOut{TaskDefinitionArns: []string{arn("api:1"), arn("web:1")}, NextToken: "ecssim-2"},
		},
		"second page": {
			op: "ListTaskDefinitions", body: `{"maxResults":2,"nextToken":"ecssim-2"}`,
			want: listOut{TaskDefinitionArns: []string{arn("web:3"), arn("worker:1")}},
		},
		"families by prefix": {
			op: "ListTaskDefinitionFamilies", body: `{"familyPrefix":"w"}`,
			want: listOut{Families: []string{"web", "worker"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got listOut
			f.call(t, tc.op, tc.body, &got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	var dereg struct {
		TaskDefinition map[string]any `json:"taskDefinition"`
	}
	f.call(t, "DescribeTaskDefinition", `{"taskDefinition":"web:2"}`, &dereg)
	if dereg.TaskDefinition["status"] != "INACTIVE" || dereg.TaskDefinition["deregisteredAt"] == nil {
		t.Errorf("deregistered revision: %v", dereg.TaskDefinition)
	}
	if err := f.fail(t, "DeregisterTaskDefinition", `{"taskDefinition":"web"}`); err.Code != "ClientException" {
		t.Errorf("deregister without revision: %s, want ClientException", err.Code)
	}
}

func TestTagResource(t *testing.T) {
	f := newFixture(t)
	tdARN := f.register(t, "web", "img")
	f.call(t, "CreateService", `{"cluster":"prod","serviceName":"web","taskDefinition":"web","desiredCount":1,`+network+`}`, nil)
	svcARN := "arn:aws:ecs:us-west-2:123456789012:service/prod/web"
	clusterARN := "arn:aws:ecs:us-west-2:123456789012:cluster/prod"
	for _, arn := range []string{tdARN, svcARN, clusterARN} {
		f.call(t, "TagResource", `{"resourceArn":"`+arn+`","tags":[{"key":"a","value":"1"},{"key":"b","value":"2"}]}`, nil)
		f.call(t, "TagResource", `{"resourceArn":"`+arn+`","tags":[{"key":"a","value":"3"}]}`, nil)
		f.call(t, "UntagResource", `{"resourceArn":"`+arn+`","tagKeys":["b"]}`, nil)
		var got struct {
			Tags []tag `json:"tags"`
		}
		f.call(t, "ListTagsForResource", `{"resourceArn":"`+arn+`"}`, &got)
		if diff := cmp.Diff([]tag{{"a", "3"}}, got.Tags); diff != "" {
			t.Errorf("%s tags (-want +got):\n%s", arn, diff)
		}
	}
	if svc, _ := f.ecs.Service("prod", "web"); svc.Tags["a"] != "3" {
		t.Errorf("service snapshot tags %v", svc.Tags)
	}
	err := f.fail(t, "TagResource", `{"resourceArn":"arn:aws:ecs:us-west-2:123456789012:service/prod/nope","tags":[{"key":"a","value":"1"}]}`)
	if err.Code != "ResourceNotFoundException" {
		t.Errorf("tag missing service: %s, want ResourceNotFoundException", err.Code)
	}
}

// TestAwsvpcPortMappingsGetHostPorts pins the port mappings ECS stores for
// awsvpc and host networking: hostPort equals containerPort (filled in when
// absent), and a different hostPort is refused. Bridge mappings keep what
// was given (an absent hostPort is a dynamic port).
//
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
func TestAwsvpcPortMappingsGetHostPorts(t *testing.T) {
	tests := map[string]struct {
		mode, mappings string
		want           []map[string]any
		err            string
	}{
		"awsvpc fills hostPort": {"awsvpc", `[{"containerPort":8080},{"containerPort":9090,"hostPort":9090,"protocol":"udp"}]`,
			[]map[string]any{{"containerPort": 8080.0, "hostPort": 8080.0}, {"containerPort": 9090.0, "hostPort": 9090.0, "protocol": "udp"}}, ""},
		"host fills hostPort":         {"host", `[{"containerPort":8080}]`, []map[string]any{{"containerPort": 8080.0, "hostPort": 8080.0}}, ""},
		"bridge keeps a dynamic port": {"bridge", `[{"containerPort":8080}]`, []map[string]any{{"containerPort": 8080.0}}, ""},
		"awsvpc refuses another hostPort": {"awsvpc", `[{"containerPort":8080,"hostPort":80}]`, nil,
			"When networkMode=awsvpc, the host ports and container ports in port mappings must match."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			body := `{"family":"web","networkMode":"` + tc.mode + `","containerDefinitions":[{"name":"web","image":"x","memory":512,"portMappings":` + tc.mappings + `}]}`
			if tc.err != "" {
				if got := f.fail(t, "RegisterTaskDefinition", body); got.Code != "ClientException" || got.Message != tc.err {
					t.Errorf("got %s %q, want ClientException %q", got.Code, got.Message, tc.err)
				}
				return
			}
			var out struct {
				TaskDefinition struct {
					ContainerDefinitions []struct {
						PortMappings []map[string]any `json:"portMappings"`
					} `json:"containerDefinitions"`
				} `json:"taskDefinition"`
			}
			f.call(t, "RegisterTaskDefinition", body, &out)
			if diff := cmp.Diff(tc.want, out.TaskDefinition.ContainerDefinitions[0].PortMappings); diff != "" {
				t.Errorf("port mappings (-want +got):\n%s", diff)
			}
		})
	}
}
