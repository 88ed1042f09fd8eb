package schedule

import (
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, expr, tz string) *Schedule {
	t.Helper()
	s, err := Parse(expr, tz)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", expr, tz, err)
	}
	return s
}

func at(t *testing.T, value, tz string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", value, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseScheduleErrors(t *testing.T) {
	cases := map[[2]string]string{
		{"every minute", ""}:          "spec.schedule",
		{"* * * *", ""}:               "spec.schedule",
		{"61 * * * *", ""}:            "spec.schedule",
		{"@every", ""}:                "spec.schedule",
		{"0 * * * *", "Mars/Olympus"}: "spec.timeZone",
	}
	for in, field := range cases {
		if _, err := Parse(in[0], in[1]); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Parse(%q, %q) = %v, want an error naming %s", in[0], in[1], err, field)
		}
	}
}

// TestNextAcrossTimeZonesAndDST checks next-run computation in time zones and across daylight saving
// changes: a daily 02:30 run in New York on the spring-forward day (02:30 does not exist), and a daily
// 01:30 run on the fall-back day (01:30 happens twice) must run once.
func TestNextAcrossTimeZonesAndDST(t *testing.T) {
	cases := []struct {
		name, expr, tz, after, want, wantTZ string
	}{
		{"utc hourly", "@hourly", "UTC", "2026-03-01 10:15", "2026-03-01 11:00", "UTC"},
		{"paris 9am is 8am utc in winter", "0 9 * * *", "Europe/Paris", "2026-01-10 07:00", "2026-01-10 08:00", "UTC"},
		{"paris 9am is 7am utc in summer", "0 9 * * *", "Europe/Paris", "2026-07-10 06:00", "2026-07-10 07:00", "UTC"},
		{"CRON_TZ prefix wins", "CRON_TZ=Asia/Tokyo 0 9 * * *", "Europe/Paris", "2026-01-10 00:00", "2026-01-11 00:00", "UTC"},
		{"spring forward skips the missing 02:30", "30 2 * * *", "America/New_York", "2026-03-08 00:00", "2026-03-09 02:30", "America/New_York"},
		{"every 90 minutes", "@every 90m", "UTC", "2026-03-01 10:00", "2026-03-01 11:30", "UTC"},
		{"weekday 18:00 in sydney", "0 18 * * 1-5", "Australia/Sydney", "2026-11-20 08:00", "2026-11-23 07:00", "UTC"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.expr, tc.tz)
			got := s.Next(at(t, tc.after, "UTC"))
			if want := at(t, tc.want, tc.wantTZ); !got.Equal(want) {
				t.Errorf("Next = %s, want %s", got.UTC(), want.UTC())
			}
		})
	}
	// Fall back: 01:30 exists twice on 2026-11-01 in New York; the run happens once that day.
	s := mustParse(t, "30 1 * * *", "America/New_York")
	runs := 0
	for next := s.Next(at(t, "2026-11-01 04:00", "UTC")); next.Before(at(t, "2026-11-02 04:00", "UTC")); next = s.Next(next) {
		runs++
	}
	if runs != 1 {
		t.Errorf("daily 01:30 ran %d times on the fall-back day, want 1", runs)
	}
}

func TestMissed(t *testing.T) {
	s := mustParse(t, "*/10 * * * *", "UTC")
	base := at(t, "2026-05-01 12:00", "UTC")
	cases := []struct {
		name        string
		after, now  time.Time
		latest      time.Time
		wantMissed  int
		wantNothing bool
	}{
		{"nothing due", base, base.Add(5 * time.Minute), time.Time{}, 0, true},
		{"one due", base, base.Add(12 * time.Minute), base.Add(10 * time.Minute), 1, false},
		{"down for an hour", base, base.Add(65 * time.Minute), base.Add(60 * time.Minute), 6, false},
		{"exactly on time", base, base.Add(10 * time.Minute), base.Add(10 * time.Minute), 1, false},
	}
	for _, tc := range cases {
		latest, n := s.Missed(tc.after, tc.now)
		if tc.wantNothing != latest.IsZero() || (!tc.wantNothing && !latest.Equal(tc.latest)) || n != tc.wantMissed {
			t.Errorf("%s: Missed = %s, %d; want %s, %d", tc.name, latest, n, tc.latest, tc.wantMissed)
		}
	}
	// A fast schedule missed for weeks: bounded work, and the latest time is still exact.
	fast := mustParse(t, "@every 1s", "UTC")
	now := base.Add(30 * 24 * time.Hour)
	start := time.Now()
	latest, n := fast.Missed(base, now)
	if !latest.Equal(now) || n < maxMissedScan {
		t.Errorf("fast schedule: latest %s (want %s), count %d", latest, now, n)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Missed took %s", d)
	}
}
