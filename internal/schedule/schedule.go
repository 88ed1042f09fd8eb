// Package schedule parses the cron schedules of ScheduledSparkApplications (spec.schedule and
// spec.timeZone) and computes their next and missed times; the controller runs them and the webhook
// validates them with the same parser.
package schedule

import (
	"fmt"
	"strings"
	"time"

	// The IANA time zone database, so that spec.timeZone works in a distroless image.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
)

// maxMissedScan bounds how many scheduled times the controller walks through when it computes missed
// runs (an "@every 1s" schedule missed for a day is 86,400 of them); past the bound only the count is
// approximate, never the most recent time.
const maxMissedScan = 200_000

// missedScanWindow is how far back missed runs are looked for; anything older counts as missed long ago.
const missedScanWindow = 7 * 24 * time.Hour

// Schedule is a parsed cron schedule in its time zone.
type Schedule struct {
	sched cron.Schedule
	loc   *time.Location
}

// Parse parses a standard five-field cron expression or a descriptor ("@hourly",
// "@every 5m"), as Kubernetes CronJob and Kubeflow do (robfig/cron's ParseStandard), in time zone tz:
// an IANA name such as "Europe/Paris", "" or "Local" for the operator's local zone, "UTC". A
// "CRON_TZ=<zone>" prefix in the expression wins over tz. Errors say which of the two is wrong.
func Parse(expr, tz string) (*Schedule, error) {
	loc := time.Local
	if tz != "" && tz != "Local" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("spec.timeZone %q is not an IANA time zone name such as Europe/Paris: %v", tz, err)
		}
		loc = l
	}
	s, err := cron.ParseStandard(strings.TrimSpace(expr))
	if err != nil {
		return nil, fmt.Errorf("spec.schedule %q is not a cron schedule (five fields such as \"0 * * * *\", or @hourly, @daily, @every 5m): %v", expr, err)
	}
	return &Schedule{sched: s, loc: loc}, nil
}

// Next returns the first scheduled time after t. When a daylight saving change repeats an hour, a
// cron time in it runs once, at its first occurrence, as classic cron does (robfig/cron alone would
// run it twice); "@every" schedules are durations and are not affected.
func (s *Schedule) Next(t time.Time) time.Time {
	n := s.sched.Next(t.In(s.loc))
	if _, isSpec := s.sched.(*cron.SpecSchedule); isSpec && repeatedWallClock(n) {
		n = s.sched.Next(n)
	}
	return n
}

// repeatedWallClock reports whether the wall-clock time of t already happened earlier the same day,
// i.e. t falls in the second pass of an hour repeated by a daylight saving change.
func repeatedWallClock(t time.Time) bool {
	if t.IsZero() {
		return false
	}
	for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
		e := t.Add(-d)
		if e.Hour() == t.Hour() && e.Minute() == t.Minute() && e.Day() == t.Day() {
			return true
		}
	}
	return false
}

// Missed returns the most recent scheduled time in (after, now], and how many scheduled times that
// interval holds; a zero time when it holds none. Only the last missedScanWindow before now is
// walked; older times are counted as one.
func (s *Schedule) Missed(after, now time.Time) (latest time.Time, count int) {
	from := after
	if limit := now.Add(-missedScanWindow); from.Before(limit) {
		if !s.Next(from).After(limit) {
			count = 1 // at least one run was due before the window
		}
		from = limit
	}
	for t := s.Next(from); !t.After(now); t = s.Next(t) {
		latest = t
		count++
		if count >= maxMissedScan {
			// Jump close to now and keep looking for the most recent time.
			for u := s.Next(now.Add(-time.Minute)); !u.After(now); u = s.Next(u) {
				latest = u
			}
			break
		}
	}
	return latest, count
}
