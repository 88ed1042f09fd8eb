package util

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// SubsetDiff lists, one "path...: ..." line each, where want is not contained in got (both decoded
// JSON or YAML: maps, lists, scalars): every key of a map of want must be in got with a contained
// value, lists must have the same length with contained elements, and scalars must be equal, numbers
// compared by value (8080 equals 8080.0, as one side may come from YAML and the other from the API
// server). Keys only got has are not looked at, such as the fields the API server defaults. path
// prefixes every line ("spec", or "" for a whole object). Nil means contained.
func SubsetDiff(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %#v", path, got)}
		}
		var diffs []string
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			gv, found := g[k]
			if !found {
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing (want %#v)", path, k, w[k]))
				continue
			}
			diffs = append(diffs, SubsetDiff(path+"."+k, w[k], gv)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %#v, got %#v", path, want, got)}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, SubsetDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	default:
		if !reflect.DeepEqual(JSONValue(want), JSONValue(got)) {
			return []string{fmt.Sprintf("%s: want %#v, got %#v", path, want, got)}
		}
		return nil
	}
}

// JSONValue returns v as encoding/json decodes it (maps, lists, strings, bools, and every number a
// float64), so that 8080 equals 8080.0; v itself when it does not encode (nil stays nil).
func JSONValue(v any) any {
	if v == nil {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return v
	}
	return out
}
