package scraper

// WritesPerApp is the API writes of every client per application between two scrapes: the total
// that PerApp prints.
func WritesPerApp(before, after RequestCounts, n int) float64 {
	total := 0.0
	for k, v := range after {
		if d := (v - before[k]) / float64(n); d >= 0.05 {
			total += d
		}
	}
	return total
}
