package scheduledsparkapplication

import (
	"testing"
	"time"
)

func TestRunSuffix(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	for precision, want := range map[string]string{
		"": "1796549400", "seconds": "1796549400", "minutes": "29942490",
		"millis": "1796549400000", "micros": "1796549400000000", "nanos": "1796549400000000000",
	} {
		if got := RunSuffix(at, precision); got != want {
			t.Errorf("%q: %s, want %s", precision, got, want)
		}
	}
}
