package taskdef

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const refsTemplate = `{
  "family": "web",
  "executionRoleArn": "arn:aws:iam::123456789012:role/web-execution",
  "containerDefinitions": [{
    "name": "web", "image": "{{ .Image }}", "essential": true, "memory": 512,
    "secrets": [
      {"name": "DB_URL", "valueFrom": "{{ ssm \"/web/db-url\" }}"},
      {"name": "API_KEY", "valueFrom": "{{ \"prod/web/api\" | secret }}"},
      {"name": "DB_URL_AGAIN", "valueFrom": "{{ ssm \"/web/db-url\" }}"}
    ]
  }]
}`

func TestReferences(t *testing.T) {
	tests := map[string]struct {
		tmpl     string
		want     []Ref
		wantPath string
		wantErr  string
	}{
		"literal arguments and a piped literal, sorted and unique": {
			tmpl: refsTemplate,
			want: []Ref{{RefSecret, "prod/web/api"}, {RefSSM, "/web/db-url"}},
		},
		"a template without references is not parsed": {tmpl: `{"family": "{{ .Nope `, want: nil},
		"a relative SSM path is refused": {
			tmpl:     `{"family": "web", "x": [{"valueFrom": "{{ ssm \"web/db-url\" }}"}]}`,
			wantPath: "$.x[0].valueFrom", wantErr: `ssm "web/db-url" is a relative path; name the parameter by its full path, as in {{ ssm "/web/db-url" }}`,
		},
		"a computed name is refused": {
			tmpl:     `{"family": "web", "v": "{{ ssm (printf \"/%s/db\" .Service) }}"}`,
			wantPath: "$.v", wantErr: "ssm takes one string literal",
		},
		"an empty secret name is refused": {
			tmpl:     `{"family": "web", "v": "{{ secret \"\" }}"}`,
			wantPath: "$.v", wantErr: `secret "": want a secret's name or ARN`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := References([]byte(tc.tmpl), "web.json")
			if tc.wantErr != "" {
				var te *Error
				if !errors.As(err, &te) || te.Path != tc.wantPath || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v; want one at %s containing %q", err, tc.wantPath, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderResolvesReferences(t *testing.T) {
	const paramARN = "arn:aws:ssm:us-west-2:123456789012:parameter/web/db-url"
	const secretARN = "arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/web/api-AbCdEf"
	valueFrom := func(r *Rendered) []string {
		var out []string
		for _, s := range r.Input.ContainerDefinitions[0].Secrets {
			out = append(out, *s.ValueFrom)
		}
		return out
	}
	d := sampleData()
	delete(d.Images, "proxy")
	d.Refs = Refs{{RefSSM, "/web/db-url"}: paramARN, {RefSecret, "prod/web/api"}: secretARN}
	r, err := Render([]byte(refsTemplate), d, Options{Key: "web.json", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{paramARN, secretARN, paramARN}, valueFrom(r)); diff != "" {
		t.Errorf("resolved valueFrom (-want +got):\n%s", diff)
	}

	// A secret that was looked up and not found.
	delete(d.Refs, Ref{RefSecret, "prod/web/api"})
	_, err = Render([]byte(refsTemplate), d, Options{Key: "web.json", Roles: roles})
	var te *Error
	if !errors.As(err, &te) || te.Path != "$.containerDefinitions[0].secrets[1].valueFrom" ||
		!strings.Contains(err.Error(), "Secrets Manager secret prod/web/api not found in account 123456789012, Region us-west-2") {
		t.Errorf("a missing secret: %v; want a render error at its valueFrom naming it", err)
	}

	// Nothing resolved: an error that says so, not an empty ARN.
	d.Refs = nil
	if _, err := Render([]byte(refsTemplate), d, Options{Key: "web.json", Roles: roles}); err == nil || !strings.Contains(err.Error(), "was not resolved before rendering") {
		t.Errorf("render without resolution: %v", err)
	}

	// Offline: the SSM ARN computed, the secret's suffix a placeholder.
	r, err = Render([]byte(refsTemplate), d, Options{Key: "web.json", Roles: roles, OfflineRefs: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{paramARN, "arn:aws:secretsmanager:us-west-2:123456789012:secret:prod/web/api-XXXXXX", paramARN}
	if diff := cmp.Diff(want, valueFrom(r)); diff != "" {
		t.Errorf("offline valueFrom (-want +got):\n%s", diff)
	}
}

func TestParameterARN(t *testing.T) {
	for _, tc := range []struct{ region, path, want string }{
		{"us-west-2", "/web/db", "arn:aws:ssm:us-west-2:123456789012:parameter/web/db"},
		{"cn-north-1", "/web/db", "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/web/db"},
		{"us-gov-west-1", "/db", "arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/db"},
	} {
		if got := ParameterARN("123456789012", tc.region, tc.path); got != tc.want {
			t.Errorf("ParameterARN(%s, %s) = %s, want %s", tc.region, tc.path, got, tc.want)
		}
	}
}
