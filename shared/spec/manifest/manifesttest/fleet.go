// Package manifesttest generates manifests for tests and benchmarks: a
// fleet of teams, one included file and one target each (DESIGN §12).
package manifesttest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Fleet is the size of a generated manifest.
type Fleet struct {
	Services, Repositories, Jobs, Targets int
}

// Scale is the fleet DESIGN §12 requires Deckhand to handle: 5,000
// services, 1,000 repositories and 500 jobs across 50 targets.
var Scale = Fleet{Services: 5000, Repositories: 1000, Jobs: 500, Targets: 50}

// Regions the generated targets alternate between: two targets share an
// account, one in each Region, and one role.
var Regions = []string{"eu-central-1", "us-east-1"}

// Account returns the account id of target t.
func Account(t int) string { return fmt.Sprintf("2100%08d", t/len(Regions)) }

// Files returns the manifest's files by path: deckhand.yaml, which
// includes the teams/ directory; one teams/team-NN.yaml per target with its
// target, roles, services and jobs; and one templates/team-NN.json each.
// Services and jobs are spread evenly over the teams, repositories over the
// teams' services (each repository followed by Services/Repositories
// services of one team), and each team has two clusters.
func (f Fleet) Files() map[string][]byte {
	teams := max(f.Targets, 1)
	out := map[string][]byte{
		"deckhand.yaml": []byte("# Generated fleet manifest (shared/spec/manifest/manifesttest).\nversion: 1\ninclude: [teams/]\n"),
	}
	for t := range teams {
		team := fmt.Sprintf("team-%02d", t)
		acct, region := Account(t), Regions[t%len(Regions)]
		var b strings.Builder
		fmt.Fprintf(&b, "version: 1\ntargets:\n  %s: { account: \"%s\", region: %s, role: \"arn:aws:iam::%s:role/deckhand-target\" }\n", team, acct, region, acct)
		if t%len(Regions) == 0 {
			// Roles are per account; the first team of an account names them.
			fmt.Fprintf(&b, "roles:\n  - arn:aws:iam::%s:role/app-task\n  - arn:aws:iam::%s:role/app-execution\n", acct, acct)
		}
		repos := spread(f.Repositories, teams, t)
		services := spread(f.Services, teams, t)
		if services > 0 {
			b.WriteString("services:\n")
		}
		for i := range services {
			repo := fmt.Sprintf("%s/app-%03d", team, i%max(repos, 1))
			fmt.Fprintf(&b, "  - { name: %s-svc-%04d, target: %s, cluster: %s-%c, service: svc-%04d, template: templates/%s.json,\n      images: { app: { repository: %s, tags: \"semver:>=1.0.0\" } } }\n",
				team, i, team, team, 'a'+rune(i%2), i, team, repo)
		}
		jobs := spread(f.Jobs, teams, t)
		if jobs > 0 {
			b.WriteString("jobs:\n")
		}
		for i := range jobs {
			fmt.Fprintf(&b, "  - { name: %s-job-%03d, target: %s, schedule: \"cron(%d %d * * ? *)\", timezone: Europe/Berlin, cluster: %s-a, template: templates/%s.json,\n      images: { app: { repository: %s/app-%03d, tags: \"semver:*\" } }, overlap: forbid, timeout: 1h }\n",
				team, i, team, i%60, i%24, team, team, team, i%max(repos, 1))
		}
		out["teams/"+team+".yaml"] = []byte(b.String())
		out["templates/"+team+".json"] = []byte(fmt.Sprintf(`{"family": "%s", "taskRoleArn": "arn:aws:iam::%s:role/app-task", "executionRoleArn": "arn:aws:iam::%s:role/app-execution", "containerDefinitions": [{"name": "app", "image": "{{ .Image }}", "essential": true}]}`+"\n", team, acct, acct))
	}
	return out
}

// spread is team t's share of n items over teams teams.
func spread(n, teams, t int) int {
	share := n / teams
	if t < n%teams {
		share++
	}
	return share
}

// Write writes the fleet's files under dir and returns the manifest's path.
func (f Fleet) Write(dir string) (string, error) {
	files := f.Files()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "deckhand.yaml"), nil
}
