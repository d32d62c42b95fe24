package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cron is a parsed six-field AWS cron expression.
type cron struct {
	minutes, hours, months, years set
	dom                           *domSpec // nil when day-of-month is ?
	dow                           *dowSpec // nil when day-of-week is ?
}

// set holds the allowed values of a field, indexed from its minimum.
type set struct {
	min  int
	vals []bool
}

func newSet(min, max int) set { return set{min: min, vals: make([]bool, max-min+1)} }

func (s set) has(v int) bool {
	i := v - s.min
	return i >= 0 && i < len(s.vals) && s.vals[i]
}

func (s set) add(v int) { s.vals[v-s.min] = true }

type domSpec struct {
	days    set
	last    bool // L: the last day of the month
	weekday int  // NW: the weekday nearest day N; 0 when unused
}

type dowSpec struct {
	days   set   // 1 (SUN) to 7 (SAT)
	lastOf []int // NL: the last such weekday of the month
	nth    int   // with N#k: k, and days holds N alone
}

type field struct {
	name    string
	min     int
	max     int
	names   []string // names[i] is value min+i
	example string
}

var (
	fMinutes = field{name: "minutes", min: 0, max: 59, example: "cron(0/15 * * * ? *) (every 15 minutes)"}
	fHours   = field{name: "hours", min: 0, max: 23, example: "cron(0 8-17 ? * MON-FRI *) (on the hour, 08:00 to 17:00)"}
	fDOM     = field{name: "day-of-month", min: 1, max: 31, example: "cron(0 8 1 * ? *) (08:00 on the 1st) or cron(0 9 L * ? *) (last day)"}
	fMonths  = field{name: "month", min: 1, max: 12, names: strings.Fields("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC"),
		example: "cron(0 10 1 JAN,APR,JUL,OCT ? *)"}
	fDOW = field{name: "day-of-week", min: 1, max: 7, names: strings.Fields("SUN MON TUE WED THU FRI SAT"),
		example: "cron(0 18 ? * MON-FRI *), cron(0 9 ? * 2#1 *) (first Monday) or cron(0 9 ? * 6L *) (last Friday)"}
	fYears = field{name: "year", min: 1970, max: 2199, example: "cron(0 3 * * ? *) or cron(0 3 * * ? 2026-2030)"}
)

func parseCron(expr, body string) (*cron, error) {
	parts := strings.Fields(body)
	if len(parts) != 6 {
		return nil, &Error{Expr: expr, Msg: fmt.Sprintf("want six fields (minutes hours day-of-month month day-of-week year), got %d", len(parts)),
			Example: exampleCron}
	}
	bad := func(f field, format string, args ...any) error {
		return &Error{Expr: expr, Field: f.name, Msg: fmt.Sprintf(format, args...), Example: f.example}
	}
	var c cron
	var err error
	plain := []struct {
		f   field
		dst *set
		raw string
	}{{fMinutes, &c.minutes, parts[0]}, {fHours, &c.hours, parts[1]}, {fMonths, &c.months, parts[3]}, {fYears, &c.years, parts[5]}}
	for _, p := range plain {
		if *p.dst, err = parseList(p.f, p.raw, bad); err != nil {
			return nil, err
		}
	}
	domQ, dowQ := parts[2] == "?", parts[4] == "?"
	switch {
	case domQ && dowQ:
		return nil, &Error{Expr: expr, Msg: "day-of-month and day-of-week are both ?; set one of them", Example: exampleCron}
	case !domQ && !dowQ:
		return nil, &Error{Expr: expr, Msg: fmt.Sprintf("day-of-month %q and day-of-week %q are both set; exactly one of them must be ? (a * in one needs a ? in the other)", parts[2], parts[4]),
			Example: exampleCron}
	case !domQ:
		if c.dom, err = parseDOM(parts[2], bad); err != nil {
			return nil, err
		}
	default:
		if c.dow, err = parseDOW(parts[4], bad); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

type badFunc func(f field, format string, args ...any) error

// parseList parses a list of *, N, N-M, with optional /increment.
func parseList(f field, raw string, bad badFunc) (set, error) {
	s := newSet(f.min, f.max)
	for _, item := range strings.Split(raw, ",") {
		if err := parseItem(f, item, s, bad); err != nil {
			return set{}, err
		}
	}
	return s, nil
}

func parseItem(f field, item string, s set, bad badFunc) error {
	rng, incStr, hasInc := strings.Cut(item, "/")
	lo, hi := f.min, f.max
	switch {
	case rng == "*":
	case rng == "?":
		return bad(f, "? is allowed only as the whole day-of-month or day-of-week field")
	default:
		a, b, isRange := strings.Cut(rng, "-")
		var err error
		if lo, err = value(f, a, bad); err != nil {
			return err
		}
		hi = lo
		if isRange {
			if hi, err = value(f, b, bad); err != nil {
				return err
			}
			if hi < lo {
				return bad(f, "range %q runs backwards; write the smaller value first", rng)
			}
		} else if hasInc {
			hi = f.max // N/inc: from N to the end of the field
		}
	}
	inc := 1
	if hasInc {
		n, err := strconv.Atoi(incStr)
		if err != nil || n < 1 || n > f.max {
			return bad(f, "increment %q: want a whole number from 1 to %d", incStr, f.max)
		}
		inc = n
	}
	for v := lo; v <= hi; v += inc {
		s.add(v)
	}
	return nil
}

// value parses one number or name of a field and checks its range.
func value(f field, raw string, bad badFunc) (int, error) {
	for i, n := range f.names {
		if raw == n {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(raw)
	if err != nil || raw == "" || raw[0] == '+' || raw[0] == '-' {
		want := fmt.Sprintf("a number from %d to %d", f.min, f.max)
		if len(f.names) > 0 {
			want += fmt.Sprintf(" or %s-%s (upper case)", f.names[0], f.names[len(f.names)-1])
		}
		return 0, bad(f, "%q: want %s", raw, want)
	}
	if n < f.min || n > f.max {
		return 0, bad(f, "%d is out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

func parseDOM(raw string, bad badFunc) (*domSpec, error) {
	d := &domSpec{}
	switch {
	case raw == "L":
		d.last = true
		return d, nil
	case strings.HasSuffix(raw, "W"):
		n, err := value(fDOM, strings.TrimSuffix(raw, "W"), bad)
		if err != nil {
			return nil, bad(fDOM, "%q: W takes one day, as in 15W (the weekday nearest the 15th)", raw)
		}
		d.weekday = n
		return d, nil
	}
	for _, item := range strings.Split(raw, ",") {
		if item == "L" || strings.Contains(item, "W") {
			return nil, bad(fDOM, "%q: L and W stand alone in day-of-month, not in a list", raw)
		}
	}
	days, err := parseList(fDOM, raw, bad)
	if err != nil {
		return nil, err
	}
	d.days = days
	return d, nil
}

func parseDOW(raw string, bad badFunc) (*dowSpec, error) {
	d := &dowSpec{days: newSet(1, 7)}
	if strings.Contains(raw, "#") {
		if strings.Contains(raw, ",") {
			return nil, bad(fDOW, "%q: with # the field holds one expression only, as in 2#1 (the first Monday)", raw)
		}
		a, b, _ := strings.Cut(raw, "#")
		day, err := value(fDOW, a, bad)
		if err != nil {
			return nil, err
		}
		k, err := strconv.Atoi(b)
		if err != nil || k < 1 || k > 5 {
			return nil, bad(fDOW, "%q: the number after # is the week of the month, 1 to 5", raw)
		}
		d.days.add(day)
		d.nth = k
		return d, nil
	}
	for _, item := range strings.Split(raw, ",") {
		switch {
		case item == "L": // the last day of the week: Saturday
			d.days.add(7)
		case strings.HasSuffix(item, "L"):
			day, err := value(fDOW, strings.TrimSuffix(item, "L"), bad)
			if err != nil {
				return nil, err
			}
			d.lastOf = append(d.lastOf, day)
		default:
			if err := parseItem(fDOW, item, d.days, bad); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (c *cron) dayMatches(y int, m time.Month, d int) bool {
	last := daysIn(y, m)
	if c.dom != nil {
		switch {
		case c.dom.last:
			return d == last
		case c.dom.weekday > 0:
			return d == nearestWeekday(y, m, c.dom.weekday, last)
		}
		return c.dom.days.has(d)
	}
	wd := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()) + 1 // SUN=1
	if c.dow.nth > 0 {
		return c.dow.days.has(wd) && (d-1)/7+1 == c.dow.nth
	}
	for _, l := range c.dow.lastOf {
		if wd == l && d+7 > last {
			return true
		}
	}
	return c.dow.days.has(wd)
}

// nearestWeekday is the Monday-to-Friday day nearest day n, never crossing
// into another month; 0 when the month is shorter than n.
func nearestWeekday(y int, m time.Month, n, last int) int {
	if n > last {
		return 0
	}
	switch time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday the 3rd
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

// next walks wall-clock minutes in loc from after's minute onwards. The
// earliest instant of a wall time rises with the wall time, so no earlier
// wall time can be the answer.
func (c *cron) next(loc *time.Location, after time.Time) (time.Time, error) {
	a := after.In(loc)
	y, mo, d := a.Date()
	startH, startM := a.Hour(), a.Minute()
	day := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC) // a calendar date, not an instant
	first := true
	for day.Year() <= fYears.max {
		y, mo, d = day.Date()
		switch {
		case !c.years.has(y):
			day, first = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC), false
			continue
		case !c.months.has(int(mo)):
			day, first = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC), false
			continue
		}
		if c.dayMatches(y, mo, d) {
			for h := 0; h < 24; h++ {
				if !c.hours.has(h) || (first && h < startH) {
					continue
				}
				for mi := 0; mi < 60; mi++ {
					if !c.minutes.has(mi) || (first && h == startH && mi < startM) {
						continue
					}
					if t, ok := earliest(y, mo, d, h, mi, 0, loc); ok && t.After(after) {
						return t, nil
					}
				}
			}
		}
		day, first = day.AddDate(0, 0, 1), false
	}
	return time.Time{}, ErrNoNext
}
