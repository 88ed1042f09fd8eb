package audit

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseCountsWritesByClientAndResource(t *testing.T) {
	f, err := os.Open("testdata/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	from := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	got, err := Parse(f, from, from.Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := Writes{
		"sparkop-bench":  {"create sparkapplications": 1},
		"spark-operator": {"create pods": 1, "patch pods": 1, "create configmaps": 1, "update sparkapplications/status": 1, "update sparkapplications/status (409)": 1},
		"kube-scheduler": {"create pods/binding": 1},
		"kwok":           {"patch pods/status": 1, "update leases": 1},
		"kube-controller-manager endpointslice-controller": {"create endpointslices": 1},
		"kube-controller-manager endpoint-controller":      {"create endpoints": 1},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
	if all, noLeases := got.Total(); all != 11 || noLeases != 10 {
		t.Errorf("Total = %d, %d; want 11, 10", all, noLeases)
	}

	per := got.PerApp(2)
	if per[0].Client != "spark-operator" || per[0].Total != 2.5 {
		t.Errorf("first client = %+v, want spark-operator at 2.5 per application", per[0])
	}
	if s, want := per[0].String(), "spark-operator 2.5: create configmaps 0.5, create pods 0.5, patch pods 0.5, update sparkapplications/status 0.5, update sparkapplications/status (409) 0.5"; s != want {
		t.Errorf("String = %q, want %q", s, want)
	}
}

func TestClient(t *testing.T) {
	for _, c := range []struct{ agent, user, want string }{
		{"kube-controller-manager/v1.36.3 (linux/amd64) kubernetes/abc/endpointslice-controller", "system:kube-controller-manager", "kube-controller-manager endpointslice-controller"},
		{"kube-controller-manager/v1.36.3 (linux/amd64) kubernetes/abc", "system:serviceaccount:kube-system:job-controller", "kube-controller-manager job-controller"},
		{"kube-scheduler/v1.36.3 (linux/amd64) kubernetes/abc/scheduler", "system:kube-scheduler", "kube-scheduler"},
		{"spark-operator/v0.0.0 (linux/amd64) kubernetes/$Format", "admin", "spark-operator"},
		{"sparkop-bench", "admin", "sparkop-bench"},
		{"", "system:apiserver", "system:apiserver"},
	} {
		if got := Client(c.agent, c.user); got != c.want {
			t.Errorf("Client(%q, %q) = %q, want %q", c.agent, c.user, got, c.want)
		}
	}
}
