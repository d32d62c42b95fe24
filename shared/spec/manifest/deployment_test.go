package manifest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deploymentBase is one service binding; a test appends its deployment:
// block at line 10.
const deploymentBase = "version: 1\nservices:\n  - name: web\n    cluster: prod\n    service: web\n    template: t.json\n    images:\n      web: { repository: web, tags: \"semver:*\" }\n    deployment:\n"

// TestDeploymentOfDesign parses DESIGN §10's example block.
func TestDeploymentOfDesign(t *testing.T) {
	src := deploymentBase + "      strategy: canary\n      bake: 10m\n      canary: { percent: 10, bake: 5m }\n      alarms: [web-5xx, web-p99]\n"
	m, err := Parse("deckhand.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := m.Services[0].Deployment
	bake, okBake := d.BakeMinutes()
	canaryBake, okCanary := d.Canary.BakeMinutes()
	got := []any{d.StrategyName(), d.Progressive(), bake, okBake, *d.Canary.Percent, canaryBake, okCanary, d.Alarms}
	want := []any{StrategyCanary, true, int32(10), true, 10.0, int32(5), true, []string{"web-5xx", "web-p99"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed deployment (-want +got):\n%s", diff)
	}
}

func TestDeploymentDefaults(t *testing.T) {
	tests := map[string]struct {
		src           string
		wantStrategy  string
		wantBakeIsSet bool
	}{
		"no deployment: block is rolling":   {src: strings.TrimSuffix(deploymentBase, "    deployment:\n"), wantStrategy: StrategyRolling},
		"an empty block is rolling":         {src: deploymentBase + "      {}\n", wantStrategy: StrategyRolling},
		"linear without steps takes ECS's":  {src: deploymentBase + "      strategy: linear\n", wantStrategy: StrategyLinear},
		"a zero bake is a bake of 0":        {src: deploymentBase + "      strategy: blueGreen\n      bake: 0m\n", wantStrategy: StrategyBlueGreen, wantBakeIsSet: true},
		"a day of bake is ECS's most":       {src: deploymentBase + "      strategy: blueGreen\n      bake: 24h\n", wantStrategy: StrategyBlueGreen, wantBakeIsSet: true},
		"linear steps at ECS's lowest step": {src: deploymentBase + "      strategy: linear\n      linear: { stepPercent: 3, stepBake: 0m }\n", wantStrategy: StrategyLinear},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := Parse("deckhand.yaml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			d := m.Services[0].Deployment
			_, set := d.BakeMinutes()
			if d.StrategyName() != tc.wantStrategy || set != tc.wantBakeIsSet {
				t.Errorf("strategy %q, bake set %v; want %q, %v", d.StrategyName(), set, tc.wantStrategy, tc.wantBakeIsSet)
			}
		})
	}
}

// TestDeploymentErrors: each bad deployment: block names the file, the
// line and the field, and says what ECS accepts.
func TestDeploymentErrors(t *testing.T) {
	tests := map[string]struct {
		block     string
		wantLine  int
		wantField string
		wantMsg   string
	}{
		"an unknown strategy": {
			block: "      strategy: blue-green\n", wantLine: 10, wantField: "services[0].deployment.strategy",
			wantMsg: `unknown strategy "blue-green"; want rolling, blueGreen, linear, canary`,
		},
		"ECS's upper-case name is not the manifest's": {
			block: "      strategy: CANARY\n", wantLine: 10, wantField: "services[0].deployment.strategy", wantMsg: `unknown strategy "CANARY"`,
		},
		"linear given with strategy canary": {
			block: "      strategy: canary\n      linear: { stepPercent: 20 }\n", wantLine: 11, wantField: "services[0].deployment.linear",
			wantMsg: "linear: is for strategy: linear; the strategy is canary",
		},
		"canary given without a strategy": {
			block: "      canary: { percent: 10 }\n", wantLine: 10, wantField: "services[0].deployment.canary",
			wantMsg: "canary: is for strategy: canary; the strategy is rolling",
		},
		"a canary percent above 100": {
			block: "      strategy: canary\n      canary:\n        percent: 150\n", wantLine: 12, wantField: "services[0].deployment.canary.percent",
			wantMsg: "150: ECS's canaryPercent is a multiple of 0.1 from 0.1 to 100",
		},
		"a canary percent of 0": {
			block: "      strategy: canary\n      canary: { percent: 0 }\n", wantLine: 11, wantField: "services[0].deployment.canary.percent",
			wantMsg: "0: ECS's canaryPercent",
		},
		"a canary percent off ECS's step of 0.1": {
			block: "      strategy: canary\n      canary: { percent: 2.55 }\n", wantLine: 11, wantField: "services[0].deployment.canary.percent",
			wantMsg: "2.55: ECS's canaryPercent is a multiple of 0.1",
		},
		"a linear step below ECS's 3": {
			block: "      strategy: linear\n      linear: { stepPercent: 2.5 }\n", wantLine: 11, wantField: "services[0].deployment.linear.stepPercent",
			wantMsg: "2.5: ECS's stepPercent is a multiple of 0.1 from 3 to 100",
		},
		"a bake beyond 1440 minutes": {
			block: "      strategy: blueGreen\n      bake: 25h\n", wantLine: 11, wantField: "services[0].deployment.bake",
			wantMsg: "25h is outside ECS's 0 to 1440 minutes (24h)",
		},
		"a bake of 1441 minutes": {
			block: "      strategy: blueGreen\n      bake: 1441m\n", wantLine: 11, wantField: "services[0].deployment.bake", wantMsg: "outside ECS's 0 to 1440 minutes",
		},
		"a bake in seconds": {
			block: "      strategy: blueGreen\n      bake: 90s\n", wantLine: 11, wantField: "services[0].deployment.bake", wantMsg: "not a whole number of minutes",
		},
		"a bake without a unit": {
			block: "      strategy: blueGreen\n      bake: 10\n", wantLine: 11, wantField: "services[0].deployment.bake", wantMsg: `"10" is not a duration`,
		},
		"a negative canary bake": {
			block: "      strategy: canary\n      canary: { bake: -5m }\n", wantLine: 11, wantField: "services[0].deployment.canary.bake", wantMsg: "outside ECS's 0 to 1440",
		},
		"a linear step bake beyond a day": {
			block: "      strategy: linear\n      linear: { stepBake: 2000m }\n", wantLine: 11, wantField: "services[0].deployment.linear.stepBake", wantMsg: "outside ECS's 0 to 1440",
		},
		"a bake on a rolling deployment": {
			block: "      strategy: rolling\n      bake: 5m\n", wantLine: 11, wantField: "services[0].deployment.bake", wantMsg: "a rolling deployment has no bake time",
		},
		"an empty alarm name": {
			block: "      alarms: [web-5xx, \"\"]\n", wantLine: 10, wantField: "services[0].deployment.alarms[1]", wantMsg: "an alarm name is required",
		},
		"an alarm listed twice": {
			block: "      alarms:\n        - web-5xx\n        - web-5xx\n", wantLine: 12, wantField: "services[0].deployment.alarms[1]", wantMsg: `alarm "web-5xx" is listed twice (first at alarms[0])`,
		},
		"an alarm name longer than CloudWatch's 255": {
			block: "      alarms: [" + strings.Repeat("a", 256) + "]\n", wantLine: 10, wantField: "services[0].deployment.alarms[0]", wantMsg: "at most 255",
		},
		"an unknown key": {
			block: "      strategy: canary\n      canary: { percentage: 10 }\n", wantLine: 11, wantField: "services[0].deployment.canary.percentage", wantMsg: `unknown field "percentage"`,
		},
		"a percent that is not a number": {
			block: "      strategy: canary\n      canary: { percent: ten }\n", wantLine: 11, wantMsg: "cannot unmarshal",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("deckhand.yaml", []byte(deploymentBase+tc.block))
			var me *Error
			if !errors.As(err, &me) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error = %v, want *manifest.Error", err)
			}
			p := me.Problems[0]
			if p.File != "deckhand.yaml" || p.Line != tc.wantLine || p.Field != tc.wantField || !strings.Contains(p.Msg, tc.wantMsg) {
				t.Errorf("problem = %+v\nwant line %d field %q msg containing %q", p, tc.wantLine, tc.wantField, tc.wantMsg)
			}
		})
	}
}

// TestDeploymentProblemsInAnIncludedFile name the included file.
func TestDeploymentProblemsInAnIncludedFile(t *testing.T) {
	team := strings.Replace(deploymentBase, "version: 1\n", "", 1) + "      strategy: linear\n      linear: { stepPercent: 101 }\n"
	dir := writeFiles(t, map[string]string{"deckhand.yaml": "version: 1\ninclude: [team.yaml]\n", "team.yaml": team})
	_, err := Load(filepath.Join(dir, "deckhand.yaml"))
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("Load error = %v", err)
	}
	got := me.Problems[0]
	if filepath.Base(got.File) != "team.yaml" || got.Line != 10 || got.Field != "services[0].deployment.linear.stepPercent" {
		t.Errorf("problem = %+v, want team.yaml:10 services[0].deployment.linear.stepPercent", got)
	}
}
