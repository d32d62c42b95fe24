// Package schedule parses, validates and evaluates EventBridge Scheduler
// schedule expressions: cron(...), rate(...) and at(...).
//
// The dialect is AWS's, not Unix cron's: six fields (minutes hours
// day-of-month month day-of-week year), day-of-week 1-7 with SUN=1, exactly
// one of day-of-month and day-of-week is `?`, and the special forms L, W and
// #. No maintained Go library parses this dialect (robfig/cron and gronx
// number Sunday 0 and do not enforce the `?` rule), so the matcher is
// written here, against AWS's documented rules:
// https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
// and https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html.
package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Lambda's provided.al2023 image is not guaranteed to ship zoneinfo.
)

// Kind is the kind of a schedule expression.
type Kind string

// Schedule kinds.
const (
	KindCron Kind = "cron"
	KindRate Kind = "rate"
	KindAt   Kind = "at"
)

// ErrInvalid is matched by errors.Is for every *Error.
var ErrInvalid = errors.New("invalid schedule expression")

// ErrNoNext is returned by Next when the schedule never runs after the given
// time: an at(...) in the past, or a cron whose years are all over.
var ErrNoNext = errors.New("schedule has no further run")

// Error says what is wrong with an expression, which field, and gives an
// example of the correct form.
type Error struct {
	Expr    string // the expression as written
	Field   string // the cron field or rate part at fault, if any
	Msg     string
	Example string // a correct expression of the same kind
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q: ", e.Expr)
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	if e.Example != "" {
		b.WriteString("; e.g. " + e.Example)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Schedule is a parsed expression.
type Schedule struct {
	Kind Kind
	Expr string
	// Every is the interval of a rate expression.
	Every time.Duration
	// At is the wall-clock time of an at expression, in UTC fields; it is
	// read in the schedule's time zone.
	At time.Time

	cron *cron
}

var (
	exprRe = regexp.MustCompile(`^(cron|rate|at)\((.*)\)$`)
	rateRe = regexp.MustCompile(`^([0-9]+) ([a-z]+)$`)
)

const (
	exampleCron = "cron(0 3 * * ? *) (03:00 every day) or cron(0 18 ? * MON-FRI *)"
	exampleRate = "rate(1 hour) or rate(5 minutes)"
	exampleAt   = "at(2026-12-01T09:00:00)"
	atLayout    = "2006-01-02T15:04:05"
)

// Parse parses an EventBridge Scheduler expression. Errors are *Error.
func Parse(expr string) (Schedule, error) {
	m := exprRe.FindStringSubmatch(expr)
	if m == nil {
		return Schedule{}, &Error{Expr: expr, Msg: "not a schedule expression; want cron(...), rate(...) or at(...)",
			Example: "cron(0 3 * * ? *), rate(1 hour) or at(2026-12-01T09:00:00)"}
	}
	s := Schedule{Kind: Kind(m[1]), Expr: expr}
	var err error
	switch s.Kind {
	case KindCron:
		s.cron, err = parseCron(expr, m[2])
	case KindRate:
		s.Every, err = parseRate(expr, m[2])
	case KindAt:
		s.At, err = time.Parse(atLayout, m[2])
		if err != nil {
			err = &Error{Expr: expr, Msg: fmt.Sprintf("%q is not a date and time in the form yyyy-mm-ddThh:mm:ss", m[2]), Example: exampleAt}
		}
	}
	if err != nil {
		return Schedule{}, err
	}
	return s, nil
}

// Validate reports whether expr is a valid EventBridge Scheduler expression.
func Validate(expr string) error {
	_, err := Parse(expr)
	return err
}

// LoadLocation resolves a job's time zone: "" is UTC, otherwise an IANA zone
// name. "Local" is refused: the functions run in UTC and the name means
// nothing to EventBridge Scheduler.
func LoadLocation(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		return nil, fmt.Errorf("%q is not an IANA time zone; e.g. Europe/Berlin, America/New_York or UTC", tz)
	}
	return loc, nil
}

func parseRate(expr, body string) (time.Duration, error) {
	m := rateRe.FindStringSubmatch(body)
	if m == nil {
		return 0, &Error{Expr: expr, Msg: "want rate(value unit): a positive whole number, one space and minute(s), hour(s) or day(s)", Example: exampleRate}
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, &Error{Expr: expr, Field: "value", Msg: fmt.Sprintf("%q is not a positive whole number", m[1]), Example: exampleRate}
	}
	units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
	unit := m[2]
	singular := strings.TrimSuffix(unit, "s")
	d, ok := units[singular]
	if !ok {
		return 0, &Error{Expr: expr, Field: "unit", Msg: fmt.Sprintf("unknown unit %q; want minute(s), hour(s) or day(s)", unit), Example: exampleRate}
	}
	switch {
	case n == 1 && unit != singular:
		return 0, &Error{Expr: expr, Field: "unit", Msg: fmt.Sprintf("a value of 1 takes the singular unit %q", singular),
			Example: fmt.Sprintf("rate(1 %s)", singular)}
	case n > 1 && unit == singular:
		return 0, &Error{Expr: expr, Field: "unit", Msg: fmt.Sprintf("a value above 1 takes the plural unit %q", singular+"s"),
			Example: fmt.Sprintf("rate(%d %ss)", n, singular)}
	}
	return time.Duration(n) * d, nil
}

// Next returns the first run of expr, evaluated in loc, strictly after
// `after`. See [Schedule.Next].
func Next(expr string, loc *time.Location, after time.Time) (time.Time, error) {
	s, err := Parse(expr)
	if err != nil {
		return time.Time{}, err
	}
	return s.Next(loc, after)
}

// Next returns the first run strictly after `after`, with the time zone rules
// of EventBridge Scheduler: a cron time that does not exist because clocks
// spring forward is skipped, and a time that occurs twice because clocks fall
// back runs once, at its first occurrence. A nil loc is UTC.
//
// A rate schedule counts its intervals from when the schedule was created,
// which the expression does not say: pass the previous run as `after` and
// Next returns after + Every. An at schedule returns its one run, or
// ErrNoNext when that is not after `after`.
func (s Schedule) Next(loc *time.Location, after time.Time) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	switch s.Kind {
	case KindRate:
		return after.Add(s.Every), nil
	case KindAt:
		a := s.At
		t, ok := earliest(a.Year(), a.Month(), a.Day(), a.Hour(), a.Minute(), a.Second(), loc)
		if !ok || !t.After(after) {
			return time.Time{}, fmt.Errorf("%s in %s: %w", s.Expr, loc, ErrNoNext)
		}
		return t, nil
	case KindCron:
		t, err := s.cron.next(loc, after)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s in %s: %w", s.Expr, loc, err)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("schedule %q: %w", s.Expr, ErrInvalid)
}

// earliest returns the first instant in loc whose wall clock reads the given
// fields, and false when none does (a time skipped by a forward shift).
func earliest(y int, mo time.Month, d, h, mi, sec int, loc *time.Location) (time.Time, bool) {
	same := func(t time.Time) bool {
		ty, tm, td := t.Date()
		return ty == y && tm == mo && td == d && t.Hour() == h && t.Minute() == mi && t.Second() == sec
	}
	t := time.Date(y, mo, d, h, mi, sec, 0, loc)
	if !same(t) {
		return time.Time{}, false
	}
	// A backward shift repeats wall times; time.Date may pick either. Zone
	// offsets change by multiples of 15 minutes and at most a few hours.
	first := t
	for delta := 15 * time.Minute; delta <= 3*time.Hour; delta += 15 * time.Minute {
		if e := t.Add(-delta).In(loc); same(e) {
			first = e
		}
	}
	return first, true
}
