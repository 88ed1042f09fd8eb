package scraper

import (
	"os"
	"testing"
)

func TestReadProcSelf(t *testing.T) {
	s, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.PeakRSS <= 0 || s.RSS <= 0 || s.CPU < 0 {
		t.Errorf("implausible: %+v", s)
	}
}

func TestScrapeParsing(t *testing.T) {
	l := parseLabels(`code="201",component="apiserver",resource="pods",subresource="",verb="POST"`)
	if l["code"] != "201" || l["resource"] != "pods" || l["verb"] != "POST" || l["subresource"] != "" {
		t.Errorf("got %v", l)
	}
	got := PerApp(RequestCounts{"POST pods": 10}, RequestCounts{"POST pods": 30, "POST events": 60}, 10)
	if want := "8.0 in all: POST events 6.0, POST pods 2.0"; got != want {
		t.Errorf("perApp = %q, want %q", got, want)
	}
}

func TestWritesPerAppLeavesOutLeases(t *testing.T) {
	got := WritesPerApp(RequestCounts{"POST pods": 10}, RequestCounts{"POST pods": 30, "POST events": 60, "PUT leases": 500}, 10)
	if got != 8 {
		t.Errorf("WritesPerApp = %v, want 8", got)
	}
}
