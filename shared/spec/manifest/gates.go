package manifest

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Gates are what a deploy to a binding must pass (DESIGN §11). The deploy
// engine applies them after its own rules, in this order: freeze, soak
// (promotions), scan, approval.
type Gates struct {
	Soak     string    `yaml:"soak,omitempty" json:"soak,omitempty" jsonschema:"description=Promotions only: how long the source binding must have served a digest after it reached SUCCEEDED (Go duration such as 30m or 2h; default 0)."`
	Approval *Approval `yaml:"approval,omitempty" json:"approval,omitempty" jsonschema:"description=A person approves every deploy (deckhand approve / reject): the revision is registered and tagged deckhand:approval=pending\\, and the service is untouched until then."`
	Scan     *Scan     `yaml:"scan,omitempty" json:"scan,omitempty" jsonschema:"description=Deploy only images whose vulnerability scan (ECR basic scanning or Amazon Inspector) has no finding at a blocking severity."`
	Freeze   []Freeze  `yaml:"freeze,omitempty" json:"freeze,omitempty" jsonschema:"description=Windows in which pushes are BLOCKED (not lost): the newest blocked push deploys when the window ends."`

	soak time.Duration
}

// Approval is the approval gate.
type Approval struct {
	Required bool   `yaml:"required" json:"required" jsonschema:"description=Every deploy waits for deckhand approve."`
	Expires  string `yaml:"expires,omitempty" json:"expires,omitempty" jsonschema:"description=How long a pending deploy waits before it is EXPIRED (Go duration; default 24h)."`

	expires time.Duration
}

// Scan is the scan gate.
type Scan struct {
	Block   []string `yaml:"block" json:"block" jsonschema:"minItems=1,description=Finding severities that block a deploy.,enum=CRITICAL,enum=HIGH,enum=MEDIUM,enum=LOW,enum=INFORMATIONAL,enum=UNDEFINED"`
	Timeout string   `yaml:"timeout,omitempty" json:"timeout,omitempty" jsonschema:"description=How long after the push the scan may take; an image not scanned by then is BLOCKED (Go duration; default 30m)."`

	timeout time.Duration
}

// Freeze is one recurring (or one-off) window without deploys.
type Freeze struct {
	Schedule string `yaml:"schedule" json:"schedule" jsonschema:"description=When the window starts: cron(...) or at(...) in EventBridge Scheduler syntax."`
	Duration string `yaml:"duration" json:"duration" jsonschema:"description=How long the window lasts (Go duration such as 62h)."`
	Timezone string `yaml:"timezone,omitempty" json:"timezone,omitempty" jsonschema:"description=IANA time zone of the schedule\\, default UTC."`

	duration time.Duration
	loc      *time.Location
}

// Severities are the finding severities ECR and Inspector report, most
// severe first.
var Severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED"}

// Defaults of the gates.
const (
	DefaultApprovalExpiry = 24 * time.Hour
	DefaultScanTimeout    = 30 * time.Minute
)

// SoakDuration is how long a promotion's source must have served a digest.
func (g *Gates) SoakDuration() time.Duration {
	if g == nil {
		return 0
	}
	return g.soak
}

// ApprovalRequired reports whether deploys wait for a person.
func (g *Gates) ApprovalRequired() bool { return g != nil && g.Approval != nil && g.Approval.Required }

// ApprovalExpiry is how long a pending deploy waits.
func (g *Gates) ApprovalExpiry() time.Duration {
	if g == nil || g.Approval == nil || g.Approval.expires == 0 {
		return DefaultApprovalExpiry
	}
	return g.Approval.expires
}

// ScanBlocks returns the blocking severities, or nil without a scan gate.
func (g *Gates) ScanBlocks() []string {
	if g == nil || g.Scan == nil {
		return nil
	}
	return g.Scan.Block
}

// ScanTimeout is how long after its push an image's scan may take.
func (g *Gates) ScanTimeout() time.Duration {
	if g == nil || g.Scan == nil || g.Scan.timeout == 0 {
		return DefaultScanTimeout
	}
	return g.Scan.timeout
}

// Gated reports whether a deploy to the binding has any gate to pass,
// promotion included.
func (s *Service) Gated() bool {
	g := s.Gates
	return s.PromoteFrom() != "" || g.ApprovalRequired() || len(g.ScanBlocks()) > 0 || (g != nil && len(g.Freeze) > 0)
}

// PromoteFrom is the binding this one promotes from, or "".
func (s *Service) PromoteFrom() string {
	for _, img := range s.Images {
		if img.PromoteFrom != "" {
			return img.PromoteFrom
		}
	}
	return ""
}

// Origin is the repository the image comes from: its own, or for a
// promoted image the repository at the end of its promotion chain (valid
// after Load or Validate).
func (i Image) Origin() string {
	if i.Repository != "" {
		return i.Repository
	}
	return i.origin
}

// gates checks a service's gates block.
func (c *checker) gates(s *Service, i int) {
	g := s.Gates
	if g == nil {
		return
	}
	at := func(field ...any) []any { return append([]any{"services", i, "gates"}, field...) }
	if g.Soak != "" {
		g.soak = c.duration(g.Soak, at("soak")...)
		if s.PromoteFrom() == "" {
			c.add("soak applies to promotions only: give the containers `promoteFrom: <binding>`", at("soak")...)
		}
	}
	if a := g.Approval; a != nil && a.Expires != "" {
		a.expires = c.duration(a.Expires, at("approval", "expires")...)
	}
	if sc := g.Scan; sc != nil {
		if len(sc.Block) == 0 {
			c.add("name at least one severity that blocks, e.g. `block: [CRITICAL]`", at("scan", "block")...)
		}
		for j, sev := range sc.Block {
			if !slices.Contains(Severities, sev) {
				c.add(fmt.Sprintf("severity %q: want one of %s", sev, strings.Join(Severities, ", ")), at("scan", "block", j)...)
			}
		}
		if sc.Timeout != "" {
			sc.timeout = c.duration(sc.Timeout, at("scan", "timeout")...)
		}
	}
	for j := range g.Freeze {
		c.freeze(&g.Freeze[j], at("freeze", j)...)
	}
}

// duration parses a positive Go duration or records a problem at path.
func (c *checker) duration(v string, path ...any) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		c.add(fmt.Sprintf("%q is not a positive duration; write e.g. 30m, 24h or 62h", v), path...)
		return 0
	}
	return d
}

// ScanGroupOf returns the FIFO message group of a repository when a
// binding that follows it gates on scans: the CDK app routes the
// repository's scan events (ECR Image Scan, Inspector2 Scan) into the
// deploy queue in that group.
func (m *Manifest) ScanGroupOf(repository string) (string, bool) {
	for _, b := range m.BindingsFor(repository) {
		if len(b.Gates.ScanBlocks()) > 0 {
			return m.GroupOf(repository)
		}
	}
	return "", false
}

// ScanRepositories are the repositories whose images a scan gate judges
// (a promoted binding's come from its source's), sorted: their scans must
// be on, and Deckhand reads their findings.
func (m *Manifest) ScanRepositories() []string {
	set := map[string]bool{}
	for _, s := range m.Services {
		if len(s.Gates.ScanBlocks()) == 0 {
			continue
		}
		for _, img := range s.Images {
			if r := img.Origin(); r != "" {
				set[r] = true
			}
		}
	}
	return sortedKeys(set)
}
