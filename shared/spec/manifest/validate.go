package manifest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Lambda's provided.al2023 image is not guaranteed to ship zoneinfo.

	"go.yaml.in/yaml/v3"

	"github.com/deckhand-ecs/deckhand/shared/spec/tagpolicy"
)

var (
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)                              // and at most 63 long: see validName
	roleRe    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$`) // path and name at most 512: see validRole
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	repoRe    = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	varRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	clusterRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`) // and at most 255 long: see validCluster
)

// Counted repetitions such as {1,255} compile into hundreds of regexp
// instructions at program start; lengths are checked separately instead.
func validName(s string) bool    { return len(s) <= 63 && nameRe.MatchString(s) }
func validCluster(s string) bool { return len(s) <= 255 && clusterRe.MatchString(s) }
func validRole(s string) bool {
	_, name, _ := strings.Cut(s, ":role/")
	return len(name) <= 512 && roleRe.MatchString(s)
}

// maxOverrideChars is AWS's limit on the JSON size of RunTask overrides.
const maxOverrideChars = 8192

type checker struct {
	file    string
	root    *yaml.Node
	origins *origins // nil for a manifest built in code
	probs   []Problem
}

// add records a problem at path (string keys, int indexes) of the merged
// manifest; the problem names the file the item is in and its path there.
func (c *checker) add(msg string, path ...any) {
	file, root := c.file, c.root
	if c.origins != nil {
		file, root, path = c.origins.locate(path)
	}
	var b strings.Builder
	for _, seg := range path {
		switch s := seg.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, s)
		}
	}
	c.probs = append(c.probs, Problem{File: file, Line: lineOf(root, path...), Field: b.String(), Msg: msg})
}

// ScheduleMissing is the problem of a job whose schedule is empty: what
// `deckhand init --task-definition` leaves for a person to fill in.
const ScheduleMissing = "no schedule yet: fill in when the job runs, an EventBridge Scheduler expression such as cron(0 3 * * ? *) or rate(1 hour)"

// pending records a problem that is a value left for a person to fill in.
func (c *checker) pending(msg string, path ...any) {
	c.add(msg, path...)
	c.probs[len(c.probs)-1].Pending = true
}

func (c *checker) required(v string, path ...any) bool {
	if strings.TrimSpace(v) == "" {
		c.add("is required", path...)
		return false
	}
	return true
}

// Validate checks an already decoded manifest (for manifests built in code)
// and indexes it. Problems carry no line numbers. A manifest changed after
// Parse, Load or Validate must be validated again before its look-ups
// (BindingsFor, Service, GroupOf, …) see the change.
func Validate(m *Manifest) error {
	if probs := validate(m, nil); len(probs) > 0 {
		return &Error{Problems: probs}
	}
	m.idx = buildIndex(m)
	return nil
}

func validate(m *Manifest, o *origins) []Problem {
	c := &checker{file: m.File, origins: o}
	if c.file == "" {
		c.file = "deckhand.yaml"
	}
	if m.Version != 1 {
		c.add(fmt.Sprintf("unsupported version %d; want 1", m.Version), "version")
	}
	for i, r := range m.Roles {
		if !validRole(r) {
			c.add(fmt.Sprintf("%q is not an IAM role ARN (arn:aws:iam::123456789012:role/name)", r), "roles", i)
		}
	}
	if s := m.Sources; s != nil {
		for i, a := range s.Accounts {
			if !accountRe.MatchString(a) {
				c.add(fmt.Sprintf("%q is not a 12-digit account id", a), "sources", "accounts", i)
			}
		}
		for i, r := range s.Regions {
			if !regionRe.MatchString(r) {
				c.add(fmt.Sprintf("%q is not a Region name such as us-west-2", r), "sources", "regions", i)
			}
		}
	}
	c.targets(m)
	c.retention(m.Retention, "retention")
	names := map[string]string{}
	unique := func(name string, path ...any) {
		if prev, dup := names[name]; dup {
			c.add(fmt.Sprintf("duplicate name %q (first used at %s)", name, prev), path...)
			return
		}
		names[name] = c.where(path...)
	}
	services := map[string]bool{}
	for i := range m.Services {
		s := &m.Services[i]
		c.service(s, i)
		c.targetRef(m, s.Target, "services", i)
		c.targetLimits(s, i)
		if s.Name != "" {
			unique(s.Name, "services", i, "name")
			services[s.Name] = true
		}
	}
	c.promotions(m)
	for i := range m.Jobs {
		j := &m.Jobs[i]
		c.job(m, j, i, services)
		c.targetRef(m, j.Target, "jobs", i)
		if j.Name != "" {
			unique(j.Name, "jobs", i, "name")
		}
	}
	c.places(m)
	return c.probs
}

// where names the item at path for another problem's message: its path,
// and its file and line when the manifest came from files.
func (c *checker) where(path ...any) string {
	if c.origins == nil {
		return fmt.Sprint(path[:2]...)
	}
	file, root, local := c.origins.locate(path)
	return fmt.Sprintf("%s:%d (%s[%d])", file, lineOf(root, local...), local[0], local[1])
}

func (c *checker) service(s *Service, i int) {
	if c.required(s.Name, "services", i, "name") && !validName(s.Name) {
		c.add(fmt.Sprintf("binding name %q: use letters, digits, '.', '_' or '-' (at most 63)", s.Name), "services", i, "name")
	}
	if c.required(s.Cluster, "services", i, "cluster") && !validCluster(s.Cluster) {
		c.add(fmt.Sprintf("cluster name %q is not a valid ECS cluster name", s.Cluster), "services", i, "cluster")
	}
	c.required(s.Service, "services", i, "service")
	c.required(s.Template, "services", i, "template")
	switch s.CircuitBreaker {
	case "":
		s.CircuitBreaker = CircuitBreakerRollback
	case CircuitBreakerOff, CircuitBreakerOn, CircuitBreakerRollback:
	default:
		c.add(fmt.Sprintf("%q: want off, on or rollback", s.CircuitBreaker), "services", i, "circuitBreaker")
	}
	if len(s.Images) == 0 {
		c.add("at least one container image is required, e.g. `images: { web: { repository: web, tags: \"semver:*\" } }`", "services", i, "images")
	}
	for _, name := range slices.Sorted(maps.Keys(s.Images)) {
		img := s.Images[name]
		if img.FromService != "" {
			c.add("fromService is for jobs; a service follows a repository", "services", i, "images", name, "fromService")
			continue
		}
		if img.PromoteFrom != "" {
			if img.Repository != "" || img.Tags != "" {
				c.add("use either promoteFrom or repository+tags, not both", "services", i, "images", name)
			}
			continue // promotions() checks it against its source
		}
		c.repoImage(&img, "services", i, "images", name)
		s.Images[name] = img
	}
	c.vars(s.Vars, "services", i, "vars")
	c.deployment(s.Deployment, i)
	c.allow(s.Allow, "services", i)
	c.gates(s, i)
	c.retention(s.Retention, "services", i, "retention")
}

// retention checks a retention: block. keep: 0 is refused: the serving
// revision must stay (and no retention: keeps everything).
func (c *checker) retention(r *Retention, path ...any) {
	if r == nil {
		return
	}
	if r.Keep < 1 {
		c.add(fmt.Sprintf("keep %d: want at least 1 (the serving revision must stay; leave retention: out to keep every revision)", r.Keep), append(path, "keep")...)
	}
}

// RetentionOf is how many of Deckhand's revisions of binding s to keep:
// its own retention:, else the manifest's; ok is false when neither is
// set (every revision is kept).
func (m *Manifest) RetentionOf(s *Service) (keep int, ok bool) {
	switch {
	case s.Retention != nil:
		return s.Retention.Keep, true
	case m.Retention != nil:
		return m.Retention.Keep, true
	}
	return 0, false
}

func (c *checker) repoImage(img *Image, path ...any) {
	if c.required(img.Repository, append(path, "repository")...) && !repoRe.MatchString(img.Repository) {
		c.add(fmt.Sprintf("%q is not a valid ECR repository name", img.Repository), append(path, "repository")...)
	}
	if !c.required(img.Tags, append(path, "tags")...) {
		return
	}
	p, err := tagpolicy.Parse(img.Tags)
	if err != nil {
		c.add(err.Error(), append(path, "tags")...)
		return
	}
	img.policy = p
}

func (c *checker) vars(vars map[string]string, path ...any) {
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if !varRe.MatchString(k) {
			c.add(fmt.Sprintf("variable name %q: use letters, digits and '_'", k), append(path, k)...)
		}
	}
}

func (c *checker) job(m *Manifest, j *Job, i int, services map[string]bool) {
	p := func(field ...any) []any { return append([]any{"jobs", i}, field...) }
	if c.required(j.Name, p("name")...) && !validName(j.Name) {
		c.add(fmt.Sprintf("job name %q: use letters, digits, '.', '_' or '-' (at most 63)", j.Name), p("name")...)
	}
	if strings.TrimSpace(j.Schedule) == "" {
		c.pending(ScheduleMissing, p("schedule")...)
	} else if err := checkSchedule(j.Schedule); err != nil {
		c.add(err.Error(), p("schedule")...)
	}
	if j.Timezone != "" {
		if _, err := time.LoadLocation(j.Timezone); err != nil || j.Timezone == "Local" {
			c.add(fmt.Sprintf("%q is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)", j.Timezone), p("timezone")...)
		}
	}
	if c.required(j.Cluster, p("cluster")...) && !validCluster(j.Cluster) {
		c.add(fmt.Sprintf("cluster name %q is not a valid ECS cluster name", j.Cluster), p("cluster")...)
	}
	c.required(j.Template, p("template")...)
	for _, name := range slices.Sorted(maps.Keys(j.Images)) {
		img := j.Images[name]
		switch {
		case img.PromoteFrom != "":
			c.add("promoteFrom is for services; a job follows a repository or a service (fromService)", p("images", name, "promoteFrom")...)
		case img.FromService != "" && (img.Repository != "" || img.Tags != ""):
			c.add("use either fromService or repository+tags, not both", p("images", name)...)
		case img.FromService != "":
			if !services[img.FromService] {
				c.add(fmt.Sprintf("service binding %q not found; known: %s", img.FromService, strings.Join(m.serviceNames(), ", ")), p("images", name, "fromService")...)
			}
		default:
			c.repoImage(&img, p("images", name)...)
			j.Images[name] = img
		}
	}
	c.vars(j.Vars, p("vars")...)
	c.allow(j.Allow, p()...)
	c.jobRun(j, p)
}

func (m *Manifest) serviceNames() []string {
	var out []string
	for _, s := range m.Services {
		out = append(out, s.Name)
	}
	return out
}
