package version

import "testing"

func TestGet(t *testing.T) {
	if got := Get(); got == "" {
		t.Error("Get() is empty without an override")
	}
	Override = "v9.9.9"
	t.Cleanup(func() { Override = "" })
	if got := Get(); got != "v9.9.9" {
		t.Errorf("Get() = %q with Override set, want v9.9.9", got)
	}
}
