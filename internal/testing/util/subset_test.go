package util

import "testing"

func TestSubsetDiff(t *testing.T) {
	got := map[string]any{"a": int64(8080), "b": []any{"x", map[string]any{"c": true, "d": "extra"}}, "e": "only in got"}
	for _, tc := range []struct {
		name  string
		want  any
		diffs int
	}{
		{"contained, numbers by value", map[string]any{"a": float64(8080), "b": []any{"x", map[string]any{"c": true}}}, 0},
		{"missing key", map[string]any{"z": 1}, 1},
		{"different scalar", map[string]any{"a": 80}, 1},
		{"list of another length", map[string]any{"b": []any{"x"}}, 1},
		{"map where got has a scalar", map[string]any{"a": map[string]any{}}, 1},
	} {
		if d := SubsetDiff("", tc.want, got); len(d) != tc.diffs {
			t.Errorf("%s: %q, want %d lines", tc.name, d, tc.diffs)
		}
	}
}
