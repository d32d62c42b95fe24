package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

func (a *app) json() bool { return a.output == "json" }

// printJSON writes v as indented JSON to stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	return nil
}

// table returns an aligned table writer on w; call Flush when done.
func table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}

// note writes a line for people to stderr.
func (a *app) note(format string, args ...any) {
	fmt.Fprintf(a.stderr, format+"\n", args...)
}

// isTTY reports whether w is a terminal.
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// paint colours s for a terminal (never when NO_COLOR is set or w is not a
// TTY).
func (a *app) paint(w io.Writer, color, s string) string {
	if !isTTY(w) || a.getenv("NO_COLOR") != "" {
		return s
	}
	codes := map[string]string{"red": "31", "green": "32", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}
	return "\033[" + codes[color] + "m" + s + "\033[0m"
}

// statusColor picks a colour for a status word.
func statusColor(s string) string {
	switch s {
	case "SUCCEEDED", "COMPLETED", "STARTED", "ALREADY_DEPLOYED", "deploy":
		return "green"
	case "FAILED", "ROLLED_BACK", "TIMED_OUT", "BLOCKED", "REJECTED":
		return "red"
	case "HELD", "SUPERSEDED", "SKIPPED", "IN_PROGRESS", "SKIPPED_OVERLAP", "ROLLING_BACK", "PENDING_APPROVAL", "PENDING_SCAN", "EXPIRED", "APPROVED":
		return "yellow"
	case "REPLACED", "-":
		return "dim"
	}
	return "bold"
}

// human formats a duration in human units: 45s, 3m20s, 2h5m, 3d4h.
func human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return trimZero(fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60))
	case d < 48*time.Hour:
		return trimZero(fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60))
	}
	return trimZero(fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24))
}

func trimZero(s string) string {
	for _, z := range []string{"0s", "0m", "0h"} {
		if n := len(s) - len(z); strings.HasSuffix(s, z) && n > 0 && (s[n-1] < '0' || s[n-1] > '9') {
			return strings.TrimSuffix(s, z)
		}
	}
	return s
}

// ago formats t relative to now: "3m ago", "in 2h".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if d := now.Sub(t); d < time.Second && d > -time.Second {
		return "just now"
	}
	if t.After(now) {
		return "in " + human(t.Sub(now))
	}
	return human(now.Sub(t)) + " ago"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// short abbreviates a digest for tables.
func short(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
