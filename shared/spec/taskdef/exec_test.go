package taskdef

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"
)

// The reference: text/template, which the evaluator replaced. It may be
// imported here: tests are not linked into the Lambda binaries.

// textTemplateExec executes s with text/template as gotemplate.go used to,
// with errors cleaned the same way.
func textTemplateExec(s string, data any) (string, error) {
	v, _ := data.(view)
	t, err := template.New("value").Funcs(funcs).Funcs(refFuncMap(v)).Option("missingkey=error").Parse(s)
	if err != nil {
		return "", fmt.Errorf("parse placeholder: %w", cleanTemplateErr(err))
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", cleanTemplateErr(err)
	}
	return b.String(), nil
}

// refFuncMap gives text/template the reference functions over what v
// resolved, so the differential compares everything but the resolution.
func refFuncMap(v view) template.FuncMap {
	return template.FuncMap{
		"ssm":    func(name string) (string, error) { return v.resolveRef(Ref{Kind: RefSSM, Name: name}) },
		"secret": func(name string) (string, error) { return v.resolveRef(Ref{Kind: RefSecret, Name: name}) },
	}
}

// ourExec is the evaluator under test.
func ourExec(s string, data any) (string, error) {
	t, err := parsePlaceholder(s)
	if err != nil {
		return "", err
	}
	return execTree(t, data, newBudget())
}

// textTemplateExecute is renderer.execute as it was with text/template
// (before exec.go), for comparing the whole path: number, variable
// pre-checks and defaults.
func textTemplateExecute(r *renderer, s string) (any, error) {
	t, err := template.New("value").Funcs(funcs).Funcs(refFuncMap(r.view)).Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parse placeholder: %w", cleanTemplateErr(err))
	}
	whole := wholeNumberRe.MatchString(strings.TrimSpace(s))
	uses := scanVars(t.Tree.Root)
	if uses.number && !whole {
		return nil, errors.New("`number` must be the whole value, as in \"{{ .Vars.cpu | number }}\"")
	}
	v := r.view
	for name := range uses.defaulted {
		if _, ok := v.Vars[name]; !ok && !uses.required[name] {
			v.Vars = maps.Clone(v.Vars)
			if v.Vars == nil {
				v.Vars = map[string]string{}
			}
			v.Vars[name] = ""
		}
	}
	for _, name := range slices.Sorted(maps.Keys(uses.required)) { // sorted since; map order before
		if _, ok := v.Vars[name]; !ok {
			return nil, fmt.Errorf("missing variable %q (set it under vars:, or write {{ .Vars.%s | default \"…\" }})", name, name)
		}
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return nil, cleanTemplateErr(err)
	}
	if !whole {
		return b.String(), nil
	}
	n := json.Number(strings.TrimSpace(b.String()))
	if _, err := n.Float64(); err != nil {
		return nil, fmt.Errorf("number: %q is not a number", b.String())
	}
	return n, nil
}

// diffView is the data of the differential tests: the sample data plus an
// unresolved image, a pushed-at time and awkward variables.
func diffView(tb testing.TB) view {
	tb.Helper()
	d := sampleData()
	web := d.Images["web"]
	web.PushedAt = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	d.Images["web"] = web
	d.Images["bare"] = Image{Repository: "bare", Tag: "latest"} // no digest: URI fails
	d.Vars = map[string]string{
		"LOG_LEVEL": "info", "cpu": "512", "EMPTY": "", "pct": "100%d", "brace": "{{ .Account }}",
		"spaces": "  padded  ", "Mixed": "MiXeD", "neg": "-1.5e3",
	}
	v, err := d.view()
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// sameAsTextTemplate reports how the evaluator differs from text/template on
// s, or "" if it does not: the same output, or the same error message. An
// error for an unsupported construct, or for output over the size budget,
// is accepted whatever text/template does.
func sameAsTextTemplate(s string, data any) (diff string, unsupportedErr bool) {
	want, wantErr := textTemplateExec(s, data)
	got, gotErr := ourExec(s, data)
	if ue := (*unsupportedError)(nil); errors.As(gotErr, &ue) || errors.Is(gotErr, ErrTooLarge) {
		return "", true
	}
	switch {
	case wantErr != nil && gotErr == nil:
		return fmt.Sprintf("text/template fails with %q; ours succeeds with %q", wantErr, got), false
	case wantErr == nil && gotErr != nil:
		return fmt.Sprintf("text/template gives %q; ours fails with %q", want, gotErr), false
	case wantErr != nil && wantErr.Error() != gotErr.Error():
		return fmt.Sprintf("errors differ:\ntext/template: %s\nours:          %s", wantErr, gotErr), false
	case want != got:
		return fmt.Sprintf("output differs:\ntext/template: %q\nours:          %q", want, got), false
	}
	return "", false
}

// sameExecuteAsTextTemplate compares renderer.execute with the
// text/template version of it.
func sameExecuteAsTextTemplate(s string, v view) (diff string, unsupportedErr bool) {
	r := &renderer{view: v, budget: newBudget()}
	want, wantErr := textTemplateExecute(r, s)
	got, gotErr := r.execute(s)
	if ue := (*unsupportedError)(nil); errors.As(gotErr, &ue) || errors.Is(gotErr, ErrTooLarge) {
		return "", true
	}
	switch {
	case (wantErr == nil) != (gotErr == nil):
		return fmt.Sprintf("execute: text/template gives %#v, %v; ours %#v, %v", want, wantErr, got, gotErr), false
	case wantErr != nil && wantErr.Error() != gotErr.Error():
		return fmt.Sprintf("execute errors differ:\ntext/template: %s\nours:          %s", wantErr, gotErr), false
	case want != got:
		return fmt.Sprintf("execute: text/template gives %#v; ours %#v", want, got), false
	}
	return "", false
}

// diffCases are the differential table, also the fuzz seeds.
var diffCases = []string{
	// DESIGN §4's forms.
	`{{ .Image }}`, `{{ .Tag }}`, `{{ .Digest }}`, `{{ .Repository }}`, `{{ .Registry }}`,
	`{{ .Account }}`, `{{ .Region }}`, `{{ .Cluster }}`, `{{ .Service }}`,
	// References, unresolved here: both report it the same way.
	`{{ ssm "/web/db-url" }}`, `{{ "prod/db" | secret }}`, `{{ ssm "web/db-url" }}`, `{{ secret "" }}`,
	`{{ (index .Images "proxy").URI }}`, `{{ (index .Images "proxy").Registry }}`,
	`{{ (index .Images "proxy").Repository }}:{{ (index .Images "proxy").Tag }}@{{ (index .Images "proxy").Digest }}`,
	`{{ .Images.proxy.URI }}`, `{{ .Images.web.Tag }}`, `{{ .Vars.LOG_LEVEL }}`, `{{ .Vars.cpu | number }}`,
	`arn:aws:ssm:{{ .Region }}:{{ .Account }}:parameter/web/database-url`,
	`{{ .Vars.FEATURE_FLAGS | default "none" }}`, `{{ .Vars.EMPTY | default "none" }}`,
	`{{ .Vars.LOG_LEVEL | default "none" }}`, `{{ default "d" .Vars.EMPTY }}`, `{{ default "d" nil }}`, `{{ default "d" 0 }}`,
	`{{ .Vars.Mixed | upper }}`, `{{ .Vars.Mixed | lower }}`, `{{ upper .Service }}`,
	`{{ .Image | replace "@" "#" }}`, `{{ replace "a" "b" "banana" }}`,
	`{{ .Image | trimPrefix .Registry | trimPrefix "/" }}`, `{{ .Vars.spaces | trimSuffix "  " }}`,
	`{{ number .Vars.cpu }}`, `{{ number 3 }}`, `{{ number nil }}`,
	// Pipelines, parentheses, chains.
	`{{ .Vars.LOG_LEVEL | upper | lower | printf "%s-%s" .Service }}`,
	`{{ ((index .Images "proxy")).URI }}`,
	`{{ ((.Vars).LOG_LEVEL) }}`, `{{ (.Vars).nope }}`, `{{ (print "a" "b") | upper }}`,
	`{{ (printf "%s" .Vars.EMPTY) | default (upper "x") }}`, `{{ .Vars.EMPTY | default (.Vars.LOG_LEVEL | upper) }}`,
	`{{ print.X }}`, `{{ (upper "x").Y }}`, `{{ (index .Images "proxy").Nope }}`, `{{ (index .Images "nope").URI }}`,
	`{{ (index .Images "bare").URI }}`, `{{ .Images.bare.URI }}`, `{{ index .Images "bare" }}`, `{{ index .Images "nope" }}`,
	`{{ .Images.proxy }}`, `{{ .Images }}`, `{{ .Vars }}`, `{{ . }}`, `{{ $ }}`, `{{ $.Account }}`, `{{ $.Vars.LOG_LEVEL }}`,
	`{{ printf "%T %T %T" . .Images .Images.web }}`,
	// Trim markers and comments.
	"a  {{- .Tag -}}  b", "a {{- /* c */ -}} b", "{{/* only a comment */}}", "x{{- \" y \" }}z", "{{ 3 -}} {{- 4 }}", "{{- .Tag}}\n",
	// if, else, with.
	`{{ if .Vars.EMPTY }}set{{ else }}empty{{ end }}`, `{{ if .Vars.LOG_LEVEL }}{{ .Vars.LOG_LEVEL }}{{ end }}`,
	`{{ if eq .Vars.LOG_LEVEL "debug" }}d{{ else if eq .Vars.LOG_LEVEL "info" }}i{{ else }}o{{ end }}`,
	`{{ with .Vars.LOG_LEVEL }}{{ . | upper }}{{ end }}`, `{{ with .Vars.EMPTY }}x{{ else }}none{{ end }}`,
	`{{ with index .Images "proxy" }}{{ .URI }}{{ end }}`, `{{ with .Images }}{{ .web.Tag }}{{ end }}`,
	`{{ with .Vars.EMPTY }}a{{ else with .Vars.cpu }}{{ . }}{{ end }}`, `{{ with .Vars }}{{ $.Service }}{{ .cpu }}{{ end }}`,
	`{{ if . }}t{{ end }}`, `{{ if .Images }}t{{ end }}`, `{{ if 0 }}t{{ else }}f{{ end }}`, `{{ if 0.0 }}t{{ else }}f{{ end }}`,
	`{{ if false }}{{ .Nope }}{{ end }}`, `{{ if true }}{{ .Nope }}{{ end }}`,
	`{{ with nil }}x{{ end }}`, `{{ if and nil 1 }}t{{ else }}f{{ end }}`,
	// eq, ne, lt, and, or, not.
	`{{ eq .Region "us-west-2" }}`, `{{ eq .Region "a" "us-west-2" }}`, `{{ ne .Region "us-west-2" }}`,
	`{{ eq 1 1 }}`, `{{ eq 1 1.0 }}`, `{{ eq "a" 1 }}`, `{{ eq nil nil }}`, `{{ eq nil 1 }}`, `{{ eq 1 nil }}`, `{{ eq true true }}`,
	`{{ eq . . }}`, `{{ eq . .Vars }}`, `{{ eq .Vars .Vars }}`, `{{ eq .Vars .Images }}`, `{{ eq .Images.web .Images.web }}`,
	`{{ eq .Images.web .Images.proxy }}`, `{{ eq .Images.web . }}`, `{{ eq . .Images.web }}`,
	`{{ eq }}`, `{{ eq 1 }}`,

	`{{ and 1 "" 2 }}`, `{{ and 1 2 }}`, `{{ or 0 "" }}`, `{{ or 0 "x" .Nope }}`, `{{ and 0 .Nope }}`, `{{ and nil 1 }}`,
	`{{ 1 | and 2 }}`, `{{ 0 | or "" }}`, `{{ and }}`, `{{ or }}`, `{{ not 0 }}`, `{{ not .Vars }}`, `{{ not nil }}`, `{{ not 1 2 }}`,
	`{{ (and nil 1).X }}`, `{{ print (and nil 1) }}`, `{{ upper (and nil 1) }}`, `{{ and nil 1 | upper }}`, `{{ and nil 1 | print }}`,
	// print, printf, println, len, index, slice.
	`{{ print 1 2 "a" "b" 3.5 true nil }}`, `{{ printf "%d-%s-%v" 3 "x" .Vars.cpu }}`, `{{ printf "%q" .Vars.brace }}`,
	`{{ printf .Vars.pct 5 }}`, `{{ printf 3 }}`, `{{ printf }}`, `{{ "x" | printf "%s-%s" "y" }}`,
	`{{ printf "%v %v" 1e3 0x10 }}`, `{{ printf "%T" 'a' }}`, `{{ 1.5 }} {{ 1e3 }} {{ 0x10 }} {{ 'a' }} {{ 0x1p4 }} {{ 1_000 }}`,
	`{{ 9223372036854775807 }}`, `{{ 18446744073709551615 }}`, `{{ -0 }}`, `{{ 0x }}`,
	`{{ index .Vars "LOG_LEVEL" }}`, `{{ index .Vars "nope" }}`,
	`{{ index .Vars 1 }}`, `{{ index .Vars nil }}`, `{{ index . "x" }}`, `{{ index nil 1 }}`, `{{ index .Account }}`,
	`{{ index 3 0 }}`,

	// Errors: missing keys, unknown fields and functions, bad arguments.
	`{{ .Nope }}`, `{{ .Vars.NOPE }}`, `{{ .Images.nope }}`, `{{ .Images.nope.URI }}`, `{{ .Account.X }}`, `{{ .account }}`,
	`{{ .Vars.X | shout }}`, `{{ upper }}`, `{{ upper 3 }}`, `{{ upper nil }}`, `{{ upper . }}`, `{{ 3 | upper }}`,
	`{{ upper "a" "b" }}`, `{{ .Vars.LOG_LEVEL "x" }}`, `{{ .Account "x" }}`, `{{ "x" | .Account }}`, `{{ "x" | .Vars.cpu }}`,
	`{{ (index .Images "proxy").URI "x" }}`, `{{ "x" | (index .Images "proxy").URI }}`, `{{ "x" | "y" }}`, `{{ 3 4 }}`,
	`{{ nil }}`, `{{ . 1 }}`, `{{ (1) 2 }}`, `{{ "x" | (upper "y") }}`, `{{ default }}`, `{{ default "x" }}`,
	`{{ replace "a" }}`, `{{ trimPrefix 1 "a" }}`, `{{ .Images.web.URI.Foo }}`, `{{ .Images.web.URI.Foo 1 }}`,
	// Parse errors.
	`{{ }}`, `{{ .Tag `, `{{ end }}`, `{{ if }}`, `{{ if .Tag }}`, `{{ "unterminated }}`, `{{ nil.X }}`, `{{ 3.X }}`,
	`{{ $x }}`, `{{ .Tag | }}`, `{{ (.Tag }}`, `{{ else }}`,
}

// unsupportedCases are accepted by text/template (or fail there) but
// rejected by the evaluator on purpose.
var unsupportedCases = []string{
	`{{ .Images.web.String }}`, `{{ .Images.web.PushedAt.Unix }}`, `{{ .Images.web.PushedAt.wall }}`,
	`{{ range .Vars }}{{ . }}{{ end }}`, `{{ if false }}{{ template "x" }}{{ end }}`, `{{ define "x" }}a{{ end }}b`,
	`{{ block "x" . }}a{{ end }}`, `{{ $x := 1 }}{{ $x }}`, `{{ html "<" }}`, `{{ urlquery "a b" }}`, `{{ js "'" }}`,
	`{{ call .Tag }}`, `{{ range $i, $e := .Vars }}{{ if $i }}{{ break }}{{ end }}{{ continue }}{{ end }}`,
	// Beyond what DESIGN §4's placeholders need.
	`{{ 1i }}`, `{{ 1+2i }}`, `{{ if false }}{{ 0i }}{{ end }}`,
	`{{ number . | len }}`,
	`{{ (index (index .Images "proxy").Tag 0) }}`,
	`{{ .Images.web.PushedAt }}`,
	`{{ .Images.proxy.PushedAt }}`,
	`{{ if 1i }}t{{ end }}`,
	`{{ if .Images.web.PushedAt }}t{{ end }}`,
	`{{ eq 1i 1i }}`,
	`{{ eq (index .Account 0) 49 }}`,
	`{{ eq 49 (index .Account 0) }}`,
	`{{ eq -1 (index .Account 0) }}`,
	`{{ lt 1 2 }}`,
	`{{ lt "b" "a" }}`,
	`{{ le 2 2 }}`,
	`{{ gt 2.5 1.5 }}`,
	`{{ ge 1 2 }}`,
	`{{ lt true false }}`,
	`{{ lt 1i 2i }}`,
	`{{ lt 1 "a" }}`,
	`{{ lt nil 1 }}`,
	`{{ lt (index .Account 0) 50 }}`,
	`{{ lt -1 (index .Account 0) }}`,
	`{{ gt . 1 }}`,
	`{{ le 1 . }}`,
	`{{ println "a" 1 }}`,
	`{{ len .Vars }}`,
	`{{ len .Account }}`,
	`{{ len .Images }}`,
	`{{ len . }}`,
	`{{ len 3 }}`,
	`{{ len nil }}`,
	`{{ len }}`,
	`{{ index .Account 0 }}`,
	`{{ index .Account 12 }}`,
	`{{ index .Account 13 }}`,
	`{{ index .Account -1 }}`,
	`{{ index .Account "a" }}`,
	`{{ index .Account nil }}`,
	`{{ index .Vars "cpu" 0 }}`,
	`{{ index .Account 1.5 }}`,
	`{{ index .Account (index .Account 0) }}`,
	`{{ slice .Account 1 3 }}`,
	`{{ slice .Account 3 }}`,
	`{{ slice .Account }}`,
	`{{ slice .Account 3 1 }}`,
	`{{ slice .Account 1 2 3 }}`,
	`{{ slice .Account 1 2 3 4 }}`,
	`{{ slice .Vars 1 }}`,
	`{{ slice nil }}`,
	`{{ slice .Account 99 }}`,
}

// TestExecMatchesTextTemplate holds the evaluator to text/template's output
// and error messages, on its own and through renderer.execute.
func TestExecMatchesTextTemplate(t *testing.T) {
	v := diffView(t)
	for _, s := range diffCases {
		if diff, unsupp := sameAsTextTemplate(s, v); diff != "" {
			t.Errorf("%s\n%s", s, diff)
		} else if unsupp {
			t.Errorf("%s: the evaluator says unsupported; every table case should be supported", s)
		}
		if diff, _ := sameExecuteAsTextTemplate(s, v); diff != "" {
			t.Errorf("%s\n%s", s, diff)
		}
	}
	for _, s := range unsupportedCases {
		if _, unsupp := sameAsTextTemplate(s, v); !unsupp {
			t.Errorf("%s: want an unsupported error", s)
		}
	}
}

// TestExecDesignForms checks the DESIGN §4 forms' output directly, not only
// against text/template.
func TestExecDesignForms(t *testing.T) {
	v := diffView(t)
	reg := Registry(acct, region)
	tests := map[string]string{
		`{{ .Image }}`:                              reg + "/web@" + webSHA,
		`{{ .Tag }}/{{ .Digest }}`:                  "1.4.0/" + webSHA,
		`{{ .Registry }}/{{ .Repository }}`:         reg + "/web",
		`{{ .Account }} {{ .Region }}`:              acct + " " + region,
		`{{ .Cluster }}/{{ .Service }}`:             "prod/web",
		`{{ (index .Images "proxy").URI }}`:         reg + "/proxy@" + pxySHA,
		`{{ (index .Images "proxy").Tag }}`:         "stable-3",
		`{{ .Vars.LOG_LEVEL }}`:                     "info",
		`{{ .Vars.brace }}`:                         "{{ .Account }}",
		`{{ .Vars.EMPTY | default "none" }}`:        "none",
		`{{ .Vars.Mixed | upper }}`:                 "MIXED",
		`{{ .Vars.Mixed | lower }}`:                 "mixed",
		`{{ .Image | replace "@" "#" }}`:            reg + "/web#" + webSHA,
		`{{ .Tag | trimPrefix "1." }}`:              "4.0",
		`{{ .Tag | trimSuffix ".0" }}`:              "1.4",
		`{{- " a " -}}`:                             " a ",
		`x {{- .Tag }}`:                             "x1.4.0",
		`{{ if eq .Region "us-west-2" }}y{{ end }}`: "y",
		`{{ index .Vars "nope" }}`:                  "",
		`{{ and nil 1 }}`:                           "<no value>",
	}
	for s, want := range tests {
		got, err := ourExec(s, v)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", s, got, err, want)
		}
	}
}

// TestExecUnsupported checks that each construct we do not evaluate is
// rejected with an error naming it, also where it would not run.
func TestExecUnsupported(t *testing.T) {
	v := diffView(t)
	tests := map[string]string{
		`{{ range .Vars }}{{ . }}{{ end }}`:                 "{{range}}",
		`{{ if false }}{{ range .Vars }}{{ end }}{{ end }}`: "{{range}}",
		`{{ define "x" }}a{{ end }}{{ template "x" }}`:      "{{define}}",
		`{{ define "value" }}{{ .Account }}{{ end }}`:       "{{define}}",
		`{{ block "x" . }}a{{ end }}`:                       "{{define}} or {{block}}",
		`{{ template "x" }}`:                                "{{template}}",
		`{{ $x := .Tag }}{{ $x }}`:                          "declaring or assigning variables",
		`{{ with $x := .Tag }}{{ $x }}{{ end }}`:            "declaring or assigning variables",
		`{{ html .Tag }}`:                                   "the html function",
		`{{ .Tag | js }}`:                                   "the js function",
		`{{ (urlquery .Tag) }}`:                             "the urlquery function",
		`{{ call .Tag }}`:                                   "the call function",
		`{{ .Images.web.String }}`:                          "calling .String on an image",
		`{{ .Images.web.PushedAt.Unix }}`:                   "the .PushedAt field of an image",
		`{{ len .Vars }}`:                                   "the len function",
		`{{ if false }}{{ lt 1 2 }}{{ end }}`:               "the lt function",
		`{{ index .Account 0 }}`:                            "indexing a string",
		`{{ 2i }}`:                                          "complex numbers (2i)",
	}
	for s, want := range tests {
		_, err := ourExec(s, v)
		var ue *unsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "unsupported") {
			t.Errorf("%s: err = %v; want an unsupported error naming %s", s, err, want)
		}
	}
	// Through Render, the error names the path and the placeholder.
	tmpl := `{"family":"web","containerDefinitions":[{"name":"web","image":"{{ .Image }}","cpu":"{{ range .Vars }}{{ end }}"}]}`
	_, err := Render([]byte(tmpl), func() Data { d := sampleData(); delete(d.Images, "proxy"); return d }(), Options{Key: "k"})
	if err == nil || !strings.Contains(err.Error(), "$.containerDefinitions[0].cpu") || !strings.Contains(err.Error(), "{{range}} is unsupported") {
		t.Errorf("Render with range: %v", err)
	}
}

// TestFuncsAreCallable checks that the evaluator knows every function's
// signature.
func TestFuncsAreCallable(t *testing.T) {
	for name := range funcs {
		if f := ourFuncs[name]; f.call == nil || f.params == nil {
			t.Errorf("function %s: the evaluator cannot call it (add its signature to wrapFunc)", name)
		}
	}
	if f := wrapFunc("odd", func(int) int { return 0 }); f.call == nil {
		t.Error("wrapFunc of an unknown signature gave no function")
	} else if _, err := f.call(nil); err == nil {
		t.Error("wrapFunc of an unknown signature does not fail")
	}
	for name := range builtinNames {
		_, ok := builtins[name]
		rejected := map[string]bool{"call": true, "html": true, "js": true, "urlquery": true,
			"len": true, "slice": true, "println": true, "lt": true, "le": true, "gt": true, "ge": true}[name]
		if ok == rejected {
			t.Errorf("builtin %s: evaluated %v, rejected %v", name, ok, rejected)
		}
	}
}
