package console

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"
	"time"
)

// pages are the parsed templates, one per view, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

// pageNames are the views; templates/<name>.html defines "content".
var pageNames = []string{"fleet", "binding", "confirm", "jobs", "delivery", "error"}

func parsePages() (*pages, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse console layout: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.Must(layout.Clone()).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse console page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	Title string
	Nav   string // fleet, jobs, delivery
	Now   time.Time
	Token string
	Live  bool
	Where string // the sandbox endpoint, or the AWS Region and account
	Data  any
}

func (s *Server) view(r *http.Request, title, nav string, data any) view {
	where := s.opts.Endpoint
	if where == "" {
		where = fmt.Sprintf("AWS %s, account %s", s.env.Region, s.env.Account)
	} else {
		where = "sandbox " + where
	}
	return view{Title: title, Nav: nav, Now: s.env.Now(r.Context()), Token: s.token, Live: s.opts.Live, Where: where, Data: data}
}

// render executes a page into a buffer first, so a template error is a 500
// and never half a page.
func (s *Server) render(w http.ResponseWriter, code int, name string, v view) {
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.opts.Logger.Error("render console page", "page", name, "err", err)
		http.Error(w, "render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// fail renders the error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	s.opts.Logger.WarnContext(r.Context(), "console request failed", "path", r.URL.Path, "err", err)
	s.render(w, code, "error", s.view(r, http.StatusText(code), "", err.Error()))
}

var funcs = template.FuncMap{
	"ago":      ago,
	"human":    human,
	"short":    shortDigest,
	"rev":      shortRevision,
	"tone":     tone,
	"dash":     dashIfEmpty,
	"rfc3339":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"clock":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"inZone":   func(t time.Time) string { return t.Format("Mon 2006-01-02 15:04 MST") },
	"day":      func(t time.Time) string { return t.Format("Jan 2") },
	"lower":    strings.ToLower,
	"join":     strings.Join,
	"percent":  percent,
	"add":      func(a, b int) int { return a + b },
	"sub":      func(a, b int) int { return a - b },
	"bars":     bars,
	"taskID":   taskID,
	"ranFor":   ranFor,
	"selected": func(a, b string) bool { return a == b },
}

// tone is the colour family of a status word, a CSS class.
func tone(s string) string {
	switch s {
	case "SUCCEEDED", "COMPLETED", "STARTED", "ALREADY_DEPLOYED", "RUNNING":
		return "ok"
	case "FAILED", "ROLLED_BACK", "TIMED_OUT", "ROLLING_BACK":
		return "bad"
	case "HELD", "SUPERSEDED", "SKIPPED", "IN_PROGRESS", "SKIPPED_OVERLAP", "PENDING", "PROVISIONING", "ACTIVATING":
		return "warn"
	case "PUSHED", "ECS":
		return "info"
	}
	return "muted"
}

// human formats a duration: 45s, 3m20s, 2h5m, 3d4h.
func human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	pair := func(a int, ua string, b int, ub string) string {
		if b == 0 {
			return fmt.Sprintf("%d%s", a, ua)
		}
		return fmt.Sprintf("%d%s%d%s", a, ua, b, ub)
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return pair(int(d.Minutes()), "m", int(d.Seconds())%60, "s")
	case d < 48*time.Hour:
		return pair(int(d.Hours()), "h", int(d.Minutes())%60, "m")
	}
	return pair(int(d.Hours())/24, "d", int(d.Hours())%24, "h")
}

// ago formats t relative to now: "3m ago", "in 2h".
func ago(now, t time.Time) string {
	switch d := now.Sub(t); {
	case t.IsZero():
		return "—"
	case d < time.Second && d > -time.Second:
		return "just now"
	case d < 0:
		return "in " + human(-d)
	default:
		return human(d) + " ago"
	}
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func percent(part, whole int32) int {
	if whole <= 0 {
		return 0
	}
	return int(math.Round(100 * float64(part) / float64(whole)))
}

func taskID(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		arn = arn[i+1:]
	}
	return shortDigest(arn)
}

func ranFor(start, stop time.Time) string {
	if start.IsZero() || stop.IsZero() {
		return "—"
	}
	return human(stop.Sub(start))
}
