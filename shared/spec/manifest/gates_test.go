package manifest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// gated is a manifest with a promotion chain (dev → staging → prod) and a
// fan-out (staging → prod-eu); extra is appended to prod's entry.
func gated(extra string) string {
	return `version: 1
services:
  - name: dev
    cluster: c
    service: dev
    template: t.json
    images: { web: { repository: web, tags: "semver:*" }, proxy: { repository: proxy, tags: "glob:stable-*" } }
  - name: staging
    cluster: c
    service: staging
    template: t.json
    images: { web: { promoteFrom: dev }, proxy: { promoteFrom: dev } }
  - name: prod-eu
    cluster: c
    service: prod-eu
    template: t.json
    images: { web: { promoteFrom: staging }, proxy: { promoteFrom: staging } }
  - name: prod
    cluster: c
    service: prod
    template: t.json
    images: { web: { promoteFrom: staging }, proxy: { promoteFrom: staging } }
` + extra
}

func TestGatesParse(t *testing.T) {
	m, err := Parse("deckhand.yaml", []byte(gated(`    gates:
      soak: 30m
      approval: { required: true, expires: 12h }
      scan: { block: [CRITICAL, HIGH] }
      freeze:
        - { schedule: "cron(0 18 ? * FRI *)", duration: 62h, timezone: Europe/Berlin }
`)))
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := m.Service("prod")
	g := prod.Gates
	got := []any{prod.PromoteFrom(), g.SoakDuration(), g.ApprovalRequired(), g.ApprovalExpiry(), g.ScanBlocks(), g.ScanTimeout(), prod.Gated(),
		prod.Images["web"].Origin(), prod.Images["proxy"].Origin(), prod.Images["web"].Policy().String()}
	want := []any{"staging", 30 * time.Minute, true, 12 * time.Hour, []string{"CRITICAL", "HIGH"}, DefaultScanTimeout, true,
		"web", "proxy", "semver:*"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("prod's gates (-want +got):\n%s", diff)
	}
	if dev, _ := m.Service("dev"); dev.Gated() || dev.PromoteFrom() != "" {
		t.Errorf("dev is gated %v, promotes from %q; want neither", dev.Gated(), dev.PromoteFrom())
	}
	if diff := cmp.Diff([]*Service(nil), m.BindingsFor("nope")); diff != "" {
		t.Error(diff)
	}
	var byWeb []string
	for _, s := range m.BindingsFor("web") {
		byWeb = append(byWeb, s.Name)
	}
	if diff := cmp.Diff([]string{"dev"}, byWeb); diff != "" {
		t.Errorf("pushes to web reach (-want +got):\n%s", diff)
	}
	want2 := []Group{{ID: "proxy", Repositories: []string{"proxy", "web"}, Bindings: []string{"dev", "prod", "prod-eu", "staging"}}}
	if diff := cmp.Diff(want2, m.Groups()); diff != "" {
		t.Errorf("a promotion joins its source's group (-want +got):\n%s", diff)
	}
	for _, b := range []string{"dev", "staging", "prod"} {
		if g, ok := m.GroupOfBinding(b); !ok || g != "proxy" {
			t.Errorf("GroupOfBinding(%s) = %q, %v; want proxy", b, g, ok)
		}
	}
}

func TestGatesBadInput(t *testing.T) {
	prod := func(images string) string {
		return strings.Replace(gated(""), "images: { web: { promoteFrom: staging }, proxy: { promoteFrom: staging } }\n", "images: "+images+"\n", 2)
	}
	tests := map[string]struct {
		src       string
		wantField string
		wantMsg   string
	}{
		"promoteFrom names an unknown binding": {
			src:       strings.Replace(gated(""), "promoteFrom: dev }, proxy: { promoteFrom: dev }", "promoteFrom: qa }, proxy: { promoteFrom: qa }", 1),
			wantField: "services[1].images.proxy.promoteFrom", wantMsg: `service binding "qa" not found; known: dev, staging, prod-eu, prod`,
		},
		"a promotion cycle a → b → a": {
			src:       strings.Replace(gated(""), "web: { repository: web, tags: \"semver:*\" }, proxy: { repository: proxy, tags: \"glob:stable-*\" }", "web: { promoteFrom: staging }, proxy: { promoteFrom: staging }", 1),
			wantField: "services[0].images.proxy.promoteFrom", wantMsg: "promotion cycle: dev → staging → dev",
		},
		"a binding promoting from itself": {
			src:       strings.Replace(gated(""), "promoteFrom: dev }, proxy: { promoteFrom: dev }", "promoteFrom: staging }, proxy: { promoteFrom: staging }", 1),
			wantField: "services[1].images.proxy.promoteFrom", wantMsg: "promotion cycle: staging promotes from itself",
		},
		"a source whose containers differ": {
			src:       prod("{ web: { promoteFrom: staging } }"),
			wantField: "services[2].images", wantMsg: "binding staging has containers proxy, web, prod-eu has web",
		},
		"a container that does not promote beside one that does": {
			src:       prod(`{ web: { promoteFrom: staging }, proxy: { repository: proxy, tags: "*" } }`),
			wantField: "services[2].images.proxy", wantMsg: "every container promotes from it",
		},
		"promoteFrom together with a repository": {
			src:       prod(`{ web: { promoteFrom: staging, repository: web }, proxy: { promoteFrom: staging } }`),
			wantField: "services[2].images.web", wantMsg: "either promoteFrom or repository+tags",
		},
		"a job that promotes": {
			src:       gated("jobs:\n  - {name: j, schedule: rate(1 hour), cluster: c, template: t, images: {x: {promoteFrom: dev}}}\n"),
			wantField: "jobs[0].images.x.promoteFrom", wantMsg: "promoteFrom is for services",
		},
		"soak without a promotion": {
			src:       strings.Replace(gated(""), "    template: t.json\n    images: { web: { repository: web", "    template: t.json\n    gates: { soak: 10m }\n    images: { web: { repository: web", 1),
			wantField: "services[0].gates.soak", wantMsg: "soak applies to promotions only",
		},
		"a soak that is not a duration": {
			src:       gated("    gates: { soak: 30 minutes }\n"),
			wantField: "services[3].gates.soak", wantMsg: `"30 minutes" is not a positive duration`,
		},
		"an approval that never expires": {
			src:       gated("    gates: { approval: { required: true, expires: 0s } }\n"),
			wantField: "services[3].gates.approval.expires", wantMsg: "not a positive duration",
		},
		"an unknown severity": {
			src:       gated("    gates: { scan: { block: [CRITICAL, SEVERE] } }\n"),
			wantField: "services[3].gates.scan.block[1]", wantMsg: `severity "SEVERE": want one of CRITICAL, HIGH`,
		},
		"a scan gate that blocks nothing": {
			src:       gated("    gates: { scan: { block: [] } }\n"),
			wantField: "services[3].gates.scan.block", wantMsg: "at least one severity",
		},
		"a freeze schedule that never ends": {
			src:       gated(`    gates: { freeze: [{ schedule: "cron(0 18 * * ? *)", duration: 25h }] }` + "\n"),
			wantField: "services[3].gates.freeze[0].duration", wantMsg: "the freeze never ends: each window of 25h starts before the one before it ends",
		},
		"a freeze whose windows touch never ends either": {
			src:       gated(`    gates: { freeze: [{ schedule: "cron(0 0 ? * MON *)", duration: 168h }] }` + "\n"),
			wantField: "services[3].gates.freeze[0].duration", wantMsg: "the freeze never ends",
		},
		"a freeze on a rate": {
			src:       gated(`    gates: { freeze: [{ schedule: "rate(7 days)", duration: 2h }] }` + "\n"),
			wantField: "services[3].gates.freeze[0].schedule", wantMsg: "a freeze starts at cron(...) or at(...)",
		},
		"a freeze without a duration": {
			src:       gated(`    gates: { freeze: [{ schedule: "cron(0 18 ? * FRI *)" }] }` + "\n"),
			wantField: "services[3].gates.freeze[0].duration", wantMsg: "is required",
		},
		"a freeze in an unknown time zone": {
			src:       gated(`    gates: { freeze: [{ schedule: "cron(0 18 ? * FRI *)", duration: 2h, timezone: Mars/Olympus }] }` + "\n"),
			wantField: "services[3].gates.freeze[0].timezone", wantMsg: "IANA time zone",
		},
		"an unknown key under gates": {
			src:       gated("    gates: { approvals: { required: true } }\n"),
			wantField: "services[3].gates.approvals", wantMsg: `unknown field "approvals"`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("deckhand.yaml", []byte(tc.src))
			var me *Error
			if !errors.As(err, &me) {
				t.Fatalf("Parse error = %v, want *manifest.Error", err)
			}
			p := me.Problems[0]
			if p.Field != tc.wantField || !strings.Contains(p.Msg, tc.wantMsg) || p.Line == 0 {
				t.Errorf("problem = %+v\nwant field %q msg containing %q, with a line", p, tc.wantField, tc.wantMsg)
			}
		})
	}
}

func TestFrozen(t *testing.T) {
	m, err := Parse("deckhand.yaml", []byte(gated(`    gates:
      freeze:
        - { schedule: "cron(0 18 ? * FRI *)", duration: 62h, timezone: Europe/Berlin }
        - { schedule: "cron(0 6 ? * MON *)", duration: 4h, timezone: Europe/Berlin }
        - { schedule: "at(2026-12-24T00:00:00)", duration: 48h }
`)))
	if err != nil {
		t.Fatal(err)
	}
	prod, _ := m.Service("prod")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := map[string]struct {
		now            time.Time
		frozen         bool
		start, wantEnd time.Time
	}{
		"Friday before six is open":                    {now: at("2026-11-20 17:59")},
		"Friday at six the window starts":              {now: at("2026-11-20 18:00"), frozen: true, start: at("2026-11-20 18:00"), wantEnd: at("2026-11-23 10:00")},
		"Sunday is frozen, joined with Monday morning": {now: at("2026-11-22 12:00"), frozen: true, start: at("2026-11-20 18:00"), wantEnd: at("2026-11-23 10:00")},
		"Monday at ten it ends":                        {now: at("2026-11-23 10:00")},
		"a one-off window on Christmas Eve":            {now: time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC), frozen: true, start: time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC), wantEnd: at("2026-12-28 10:00")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w, ok := prod.Frozen(tc.now)
			if ok != tc.frozen {
				t.Fatalf("Frozen(%s) = %v, want %v (window %+v)", tc.now, ok, tc.frozen, w)
			}
			if ok && (!w.Start.Equal(tc.start) || !w.End.Equal(tc.wantEnd)) {
				t.Errorf("window %s – %s, want %s – %s", w.Start.In(berlin), w.End.In(berlin), tc.start.In(berlin), tc.wantEnd.In(berlin))
			}
		})
	}
}
