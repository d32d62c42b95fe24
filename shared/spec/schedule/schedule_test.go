package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The valid expressions are AWS's documented examples (EventBridge Scheduler
// user guide, EventBridge cron and rate references); the invalid ones break
// a documented rule.
func TestValidate(t *testing.T) {
	tests := map[string]struct {
		expr      string
		wantErr   bool
		wantField string // the field named in the error
		wantInMsg string
	}{
		"AWS example: 10:00 every day":                                 {expr: "cron(0 10 * * ? *)"},
		"AWS example: 12:15 every day":                                 {expr: "cron(15 12 * * ? *)"},
		"AWS example: 18:00 Monday to Friday":                          {expr: "cron(0 18 ? * MON-FRI *)"},
		"AWS example: 08:00 on the first of the month":                 {expr: "cron(0 8 1 * ? *)"},
		"AWS example: every 10 minutes on weekdays":                    {expr: "cron(0/10 * ? * MON-FRI *)"},
		"AWS example: every 5 minutes 08:00-17:55 weekdays":            {expr: "cron(0/5 8-17 ? * MON-FRI *)"},
		"AWS example: 09:00 on the first Monday":                       {expr: "cron(0 9 ? * 2#1 *)"},
		"AWS example: 1/10 is every tenth minute from minute 1":        {expr: "cron(1/10 * * * ? *)"},
		"AWS example: month names in a list":                           {expr: "cron(0 0 1 JAN,FEB,MAR ? *)"},
		"AWS example: day range 1-15":                                  {expr: "cron(0 0 1-15 * ? *)"},
		"AWS example: weekday nearest the 3rd (3W)":                    {expr: "cron(0 0 3W * ? *)"},
		"last day of the month (L)":                                    {expr: "cron(0 9 L * ? *)"},
		"last Friday of the month (6L)":                                {expr: "cron(15 10 ? * 6L *)"},
		"L alone in day-of-week is Saturday":                           {expr: "cron(0 0 ? * L *)"},
		"numeric days of week 1-7":                                     {expr: "cron(0 0 ? * 1,7 *)"},
		"a year range":                                                 {expr: "cron(0 3 * * ? 2026-2030)"},
		"the last year":                                                {expr: "cron(0 3 * * ? 2199)"},
		"star-slash increment":                                         {expr: "cron(*/15 * * * ? *)"},
		"the manifest example":                                         {expr: "cron(0 3 * * ? *)"},
		"rate(1 minute)":                                               {expr: "rate(1 minute)"},
		"rate(5 minutes)":                                              {expr: "rate(5 minutes)"},
		"rate(1 hour)":                                                 {expr: "rate(1 hour)"},
		"rate(1 day)":                                                  {expr: "rate(1 day)"},
		"rate(15 minutes)":                                             {expr: "rate(15 minutes)"},
		"at a date and time":                                           {expr: "at(2026-12-01T09:00:00)"},
		"* in both day fields is rejected":                             {expr: "cron(0 3 * * * *)", wantErr: true, wantInMsg: "exactly one of them must be ?"},
		"values in both day fields are rejected":                       {expr: "cron(0 3 1 * MON *)", wantErr: true, wantInMsg: "both set"},
		"? in both day fields is rejected":                             {expr: "cron(0 3 ? * ? *)", wantErr: true, wantInMsg: "both ?"},
		"five fields (Unix cron) are rejected":                         {expr: "cron(0 3 * * ?)", wantErr: true, wantInMsg: "six fields"},
		"seven fields (Quartz seconds) are rejected":                   {expr: "cron(0 0 3 * * ? *)", wantErr: true, wantInMsg: "six fields"},
		"minute 60 is out of range":                                    {expr: "cron(60 3 * * ? *)", wantErr: true, wantField: "minutes"},
		"hour 24 is out of range":                                      {expr: "cron(0 24 * * ? *)", wantErr: true, wantField: "hours"},
		"day 32 is out of range":                                       {expr: "cron(0 3 32 * ? *)", wantErr: true, wantField: "day-of-month"},
		"month 13 is out of range":                                     {expr: "cron(0 3 1 13 ? *)", wantErr: true, wantField: "month"},
		"day-of-week 0 is Unix numbering":                              {expr: "cron(0 3 ? * 0 *)", wantErr: true, wantField: "day-of-week"},
		"day-of-week 8 is out of range":                                {expr: "cron(0 3 ? * 8 *)", wantErr: true, wantField: "day-of-week"},
		"year 1969 is before 1970":                                     {expr: "cron(0 3 * * ? 1969)", wantErr: true, wantField: "year"},
		"year 2200 is after 2199":                                      {expr: "cron(0 3 * * ? 2200)", wantErr: true, wantField: "year"},
		"unknown month name":                                           {expr: "cron(0 3 1 JAM ? *)", wantErr: true, wantField: "month"},
		"a backwards range":                                            {expr: "cron(0 17-8 * * ? *)", wantErr: true, wantField: "hours"},
		"a zero increment":                                             {expr: "cron(0/0 * * * ? *)", wantErr: true, wantField: "minutes"},
		"L in the minutes field":                                       {expr: "cron(L 3 * * ? *)", wantErr: true, wantField: "minutes"},
		"W in day-of-week":                                             {expr: "cron(0 3 ? * 2W *)", wantErr: true, wantField: "day-of-week"},
		"# in day-of-month":                                            {expr: "cron(0 3 2#1 * ? *)", wantErr: true, wantField: "day-of-month"},
		"two # expressions in day-of-week (AWS: 3#1,6#3 is not valid)": {expr: "cron(0 3 ? * 3#1,6#3 *)", wantErr: true, wantField: "day-of-week"},
		"week 6 after #":                                               {expr: "cron(0 3 ? * 2#6 *)", wantErr: true, wantField: "day-of-week"},
		"? in the hours field":                                         {expr: "cron(0 ? * * ? *)", wantErr: true, wantField: "hours"},
		"rate(1 hours): 1 takes the singular":                          {expr: "rate(1 hours)", wantErr: true, wantField: "unit", wantInMsg: "rate(1 hour)"},
		"rate(5 hour): above 1 takes the plural":                       {expr: "rate(5 hour)", wantErr: true, wantField: "unit", wantInMsg: "rate(5 hours)"},
		"rate(0 minutes): zero is not positive":                        {expr: "rate(0 minutes)", wantErr: true, wantField: "value"},
		"rate in seconds":                                              {expr: "rate(30 seconds)", wantErr: true, wantField: "unit"},
		"rate in weeks":                                                {expr: "rate(2 weeks)", wantErr: true, wantField: "unit"},
		"rate without a unit":                                          {expr: "rate(5)", wantErr: true},
		"negative rate":                                                {expr: "rate(-5 minutes)", wantErr: true},
		"at without seconds":                                           {expr: "at(2026-12-01T09:00)", wantErr: true, wantInMsg: "yyyy-mm-ddThh:mm:ss"},
		"at with a zone offset":                                        {expr: "at(2026-12-01T09:00:00Z)", wantErr: true},
		"a bare Unix cron line":                                        {expr: "0 3 * * *", wantErr: true, wantInMsg: "not a schedule expression"},
		"an unknown function":                                          {expr: "every(1 hour)", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Validate(tc.expr)
			if got := err != nil; got != tc.wantErr {
				t.Fatalf("Validate(%q) = %v, want error %v", tc.expr, err, tc.wantErr)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not *Error", err)
			}
			if tc.wantField != "" && se.Field != tc.wantField {
				t.Errorf("field = %q, want %q (error: %v)", se.Field, tc.wantField, err)
			}
			if !strings.Contains(err.Error(), tc.wantInMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantInMsg)
			}
			if !strings.Contains(err.Error(), "e.g.") {
				t.Errorf("error %q gives no example of the correct form", err)
			}
		})
	}
}

func TestNext(t *testing.T) {
	berlin, err := LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := LoadLocation("America/New_York")
	utc := time.UTC
	at := func(loc *time.Location, s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := map[string]struct {
		expr  string
		loc   *time.Location
		after time.Time
		want  []time.Time // successive runs
	}{
		"03:00 every day in Berlin is 01:00 or 02:00 UTC": {
			expr: "cron(0 3 * * ? *)", loc: berlin, after: at(utc, "2026-03-27 12:00"),
			want: []time.Time{at(utc, "2026-03-28 02:00"), at(utc, "2026-03-29 01:00"), at(utc, "2026-03-30 01:00")},
		},
		"a time skipped by spring forward does not run that day": {
			expr: "cron(30 2 * * ? *)", loc: berlin, after: at(berlin, "2026-03-28 03:00"),
			want: []time.Time{at(berlin, "2026-03-30 02:30")},
		},
		"a time repeated by fall back runs once, at its first occurrence": {
			expr: "cron(30 2 * * ? *)", loc: berlin, after: at(utc, "2026-10-24 12:00"),
			want: []time.Time{at(utc, "2026-10-25 00:30"), at(utc, "2026-10-26 01:30")},
		},
		"every 20 minutes through the repeated hour runs each wall time once": {
			expr: "cron(0/20 2 * * ? *)", loc: berlin, after: at(utc, "2026-10-24 23:59"),
			want: []time.Time{at(utc, "2026-10-25 00:00"), at(utc, "2026-10-25 00:20"), at(utc, "2026-10-25 00:40"), at(utc, "2026-10-26 01:00")},
		},
		"weekdays at 18:00 skip the weekend": {
			expr: "cron(0 18 ? * MON-FRI *)", loc: utc, after: at(utc, "2026-07-03 18:00"), // a Friday, exactly at a run
			want: []time.Time{at(utc, "2026-07-06 18:00"), at(utc, "2026-07-07 18:00")},
		},
		"first Monday of the month (2#1)": {
			expr: "cron(0 9 ? * 2#1 *)", loc: ny, after: at(ny, "2026-07-01 00:00"),
			want: []time.Time{at(ny, "2026-07-06 09:00"), at(ny, "2026-08-03 09:00"), at(ny, "2026-09-07 09:00")},
		},
		"last day of the month (L) handles February": {
			expr: "cron(0 9 L * ? *)", loc: utc, after: at(utc, "2028-01-31 10:00"),
			want: []time.Time{at(utc, "2028-02-29 09:00"), at(utc, "2028-03-31 09:00")},
		},
		"last Friday of the month (6L)": {
			expr: "cron(15 10 ? * 6L *)", loc: utc, after: at(utc, "2026-07-01 00:00"),
			want: []time.Time{at(utc, "2026-07-31 10:15"), at(utc, "2026-08-28 10:15")},
		},
		"nearest weekday (15W) moves off a Saturday and a Sunday": {
			expr: "cron(0 0 15W * ? *)", loc: utc, after: at(utc, "2026-08-01 00:00"), // Aug 15 is a Saturday, Nov 15 a Sunday
			want: []time.Time{at(utc, "2026-08-14 00:00"), at(utc, "2026-09-15 00:00"), at(utc, "2026-10-15 00:00"), at(utc, "2026-11-16 00:00")},
		},
		"1W on a Saturday moves forward to Monday the 3rd": {
			expr: "cron(0 0 1W * ? *)", loc: utc, after: at(utc, "2026-07-31 00:00"), // Aug 1 2026 is a Saturday
			want: []time.Time{at(utc, "2026-08-03 00:00")},
		},
		"the year field limits the runs": {
			expr: "cron(0 0 1 1 ? 2027,2029)", loc: utc, after: at(utc, "2026-06-01 00:00"),
			want: []time.Time{at(utc, "2027-01-01 00:00"), at(utc, "2029-01-01 00:00")},
		},
		"rate adds its interval to the previous run": {
			expr: "rate(15 minutes)", loc: utc, after: at(utc, "2026-06-01 10:07"),
			want: []time.Time{at(utc, "2026-06-01 10:22"), at(utc, "2026-06-01 10:37")},
		},
		"at runs once, in its time zone": {
			expr: "at(2026-12-01T09:00:00)", loc: berlin, after: at(utc, "2026-06-01 00:00"),
			want: []time.Time{at(utc, "2026-12-01 08:00")},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []time.Time
			after := tc.after
			for range tc.want {
				next, err := Next(tc.expr, tc.loc, after)
				if err != nil {
					t.Fatalf("Next(%q, %s, %s): %v", tc.expr, tc.loc, after, err)
				}
				got = append(got, next.UTC())
				after = next
			}
			want := make([]time.Time, len(tc.want))
			for i, w := range tc.want {
				want[i] = w.UTC()
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("runs of %s (-want +got):\n%s", tc.expr, diff)
			}
		})
	}
}

func TestNextNone(t *testing.T) {
	tests := map[string]struct {
		expr  string
		after time.Time
	}{
		"an at in the past":           {expr: "at(2020-01-01T00:00:00)", after: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		"a cron whose years are over": {expr: "cron(0 0 1 1 ? 2020)", after: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		"February 30th never comes":   {expr: "cron(0 0 30 2 ? *)", after: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Next(tc.expr, time.UTC, tc.after)
			if !errors.Is(err, ErrNoNext) {
				t.Errorf("Next(%q) error = %v, want ErrNoNext", tc.expr, err)
			}
		})
	}
}

func TestLoadLocation(t *testing.T) {
	tests := map[string]struct {
		tz      string
		wantErr bool
	}{
		"empty is UTC":            {tz: ""},
		"an IANA zone":            {tz: "Europe/Berlin"},
		"UTC":                     {tz: "UTC"},
		"Local is refused":        {tz: "Local", wantErr: true},
		"an abbreviation":         {tz: "CEST", wantErr: true},
		"an offset is not a zone": {tz: "+02:00", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := LoadLocation(tc.tz)
			if got := err != nil; got != tc.wantErr {
				t.Errorf("LoadLocation(%q) = %v, want error %v", tc.tz, err, tc.wantErr)
			}
		})
	}
}
