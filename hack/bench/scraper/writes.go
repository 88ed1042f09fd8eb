package scraper

import "strings"

// WritesPerApp is the API writes of every client per application between two scrapes: the total
// that PerApp prints, without the Lease renewals (kwok's node heartbeats and leader election), which
// grow with the run's length rather than with its applications (a 38-minute run of 40 applications
// renews 68 Leases per application).
func WritesPerApp(before, after RequestCounts, n int) float64 {
	total := 0.0
	for k, v := range after {
		if strings.HasPrefix(k, "PUT leases") {
			continue
		}
		if d := (v - before[k]) / float64(n); d >= 0.05 {
			total += d
		}
	}
	return total
}
