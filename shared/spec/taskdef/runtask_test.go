package taskdef

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deckhand-ecs/deckhand/shared/spec/manifest"
)

// TestJobsRunTaskWouldRefuse renders job templates with the job's launch,
// network and overrides: what RunTask refuses with InvalidParameterException
// is refused here, at the template's path.
func TestJobsRunTaskWouldRefuse(t *testing.T) {
	network := &manifest.Network{Subnets: []string{"subnet-1"}}
	fargate := &manifest.Launch{LaunchType: "FARGATE"}
	spot := &manifest.Launch{CapacityProviders: []manifest.CapacityProvider{{Provider: "FARGATE_SPOT", Weight: 1}}}
	td := func(task string) string {
		return `{"family":"job",` + task + `"cpu":"256","memory":"512","containerDefinitions":[{"name":"main","image":"{{ .Image }}"}]}`
	}
	const awsvpcFargate = `"networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],`
	tests := map[string]struct {
		tmpl      string
		job       manifest.Job
		wantPaths []string
		wantMsg   string
	}{
		"awsvpc with a network runs": {tmpl: td(awsvpcFargate), job: manifest.Job{Launch: spot, Network: network}},
		"awsvpc without a network (the example cache-warm)": {
			tmpl: td(awsvpcFargate), job: manifest.Job{}, wantPaths: []string{"$.networkMode"},
			wantMsg: "Network Configuration must be provided when networkMode 'awsvpc' is specified",
		},
		"a network for bridge mode": {
			tmpl: td(""), job: manifest.Job{Network: network}, wantPaths: []string{"$.networkMode"},
			wantMsg: "not valid for the given networkMode",
		},
		"Fargate for a bridge-mode EC2 definition": {
			tmpl: td(""), job: manifest.Job{Launch: fargate},
			wantPaths: []string{"$.networkMode", "$.requiresCompatibilities"}, wantMsg: "Fargate, which runs only networkMode awsvpc",
		},
		"Fargate Spot for a definition that does not name FARGATE": {
			tmpl: td(`"networkMode":"awsvpc",`), job: manifest.Job{Launch: spot, Network: network},
			wantPaths: []string{"$.requiresCompatibilities"}, wantMsg: "does not support launch_type FARGATE",
		},
		"EC2 needs no FARGATE compatibility": {
			tmpl: td(`"networkMode":"awsvpc",`), job: manifest.Job{Launch: &manifest.Launch{LaunchType: "EC2"}, Network: network},
		},
		"an override for a container the template lacks": {
			tmpl: td(awsvpcFargate), job: manifest.Job{Launch: spot, Network: network, Overrides: &manifest.Overrides{Container: "mian", Command: []string{"x"}}},
			wantPaths: []string{"$.containerDefinitions"}, wantMsg: `overrides.container names "mian", which is not a container of the template (main)`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := sampleData()
			d.Images = map[string]Image{"main": d.Images["web"]}
			d.Primary = "main"
			tc.job.Name = "nightly"
			_, err := Render([]byte(tc.tmpl), d, Options{Key: "k", Roles: roles, Job: &tc.job})
			var paths []string
			for _, p := range Problems(err) {
				paths = append(paths, p.Path)
			}
			if diff := cmp.Diff(tc.wantPaths, paths); diff != "" {
				t.Fatalf("problem paths (-want +got):\n%s\n%v", diff, err)
			}
			if err != nil && !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %v, want it to say %q", err, tc.wantMsg)
			}
		})
	}
}

// TestJobWithoutImagesRunsItsTemplateImages renders a job template with no
// images: its literal images stand, and {{ .Image }} has nothing to say.
func TestJobWithoutImagesRunsItsTemplateImages(t *testing.T) {
	literal := `{"family":"job","containerDefinitions":[{"name":"main","image":"123456789012.dkr.ecr.us-west-2.amazonaws.com/tool:1.2"}]}`
	d := Data{Account: acct, Region: region, Cluster: "prod", Service: "job", Primary: "main"} // overrides.container, no images
	r, err := Render([]byte(literal), d, Options{Key: "k"})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if got := *r.Input.ContainerDefinitions[0].Image; got != "123456789012.dkr.ecr.us-west-2.amazonaws.com/tool:1.2" {
		t.Errorf("image = %s", got)
	}
	_, err = Render([]byte(strings.Replace(literal, "123456789012.dkr.ecr.us-west-2.amazonaws.com/tool:1.2", "{{ .Image }}", 1)), d, Options{Key: "k"})
	if err == nil || !strings.Contains(err.Error(), "there is no images: entry, so {{ .Image }} is empty") {
		t.Errorf("{{ .Image }} without images: err = %v", err)
	}
}
