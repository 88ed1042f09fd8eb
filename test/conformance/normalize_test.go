package conformance_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// This file turns a Kubernetes object into a flat list of field paths and values after removing what
// is random or set by the API server for its own bookkeeping, so that two objects compare field by
// field.

// replacer rewrites the random parts of one side's objects into stable placeholders: the unique ids in
// object names, the application id and the local dirs' UUID.
type replacer struct{ olds, news []string }

func (r *replacer) add(old, placeholder string) {
	if old != "" && !slices.Contains(r.olds, old) {
		r.olds = append(r.olds, old)
		r.news = append(r.news, placeholder)
	}
}

var (
	sparkLocalDirRE = regexp.MustCompile(`/var/data/spark-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	kubeAPIAccessRE = regexp.MustCompile(`^kube-api-access-[a-z0-9]{5}$`)
	// Kubernetes appends 5 random characters to the projected service account token volume's name.
)

func (r *replacer) replace(s string) string {
	for i, old := range r.olds {
		s = strings.ReplaceAll(s, old, r.news[i])
	}
	s = sparkLocalDirRE.ReplaceAllString(s, "/var/data/spark-<uuid>")
	return kubeAPIAccessRE.ReplaceAllString(s, "kube-api-access-<random>")
}

// flatten returns the object's fields as path -> value after normalisation: server bookkeeping
// (resourceVersion, uid, creationTimestamp, managedFields, generation, status) is dropped, owner
// references lose their uid, strings go through r. Lists of objects with a "name" are keyed by the name
// (order is reported separately as "<list>.$order" for lists where order matters), other lists by index.
// A ConfigMap's spark.properties is parsed and each property becomes its own path
// "data.spark.properties/<key>".
func flatten(obj any, r *replacer) (map[string]string, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	delete(m, "status")
	delete(m, "apiVersion")
	delete(m, "kind")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range []string{"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"} {
			delete(md, k)
		}
		if refs, ok := md["ownerReferences"].([]any); ok {
			for _, ref := range refs {
				if rm, ok := ref.(map[string]any); ok {
					rm["uid"] = "<uid>"
				}
			}
		}
	}
	out := map[string]string{}
	if d, ok := m["data"].(map[string]any); ok {
		if text, ok := d["spark.properties"].(string); ok {
			props, err := parseProperties(text)
			if err != nil {
				return nil, err
			}
			delete(d, "spark.properties")
			// The submission time is the clock's.
			if _, ok := props["spark.app.submitTime"]; ok {
				props["spark.app.submitTime"] = "<submitTime>"
			}
			for k, v := range props {
				out["data.spark.properties/"+r.replace(k)] = r.replace(v)
			}
		}
	}
	if d, ok := m["data"].(map[string]any); ok {
		if text, ok := d["podspec-configmap-key"].(string); ok {
			var tmpl map[string]any
			if err := yaml.Unmarshal([]byte(text), &tmpl); err != nil {
				return nil, err
			}
			delete(d, "podspec-configmap-key")
			walk("data.podspec-configmap-key/", tmpl, r, out)
		}
	}
	walk("", m, r, out)
	return out, nil
}

// orderedLists are the keyed lists whose order is part of the comparison (the env of a container
// decides which of two equal names wins; ports, containers and args are in Spark's order). Volumes and
// mounts come from Spark's hash sets, so only their content is compared.
var orderedLists = map[string]bool{"env": true, "containers": true, "ports": true}

func walk(path string, v any, r *replacer, out map[string]string) {
	join := func(k string) string {
		if path == "" || strings.HasSuffix(path, "/") {
			return path + k
		}
		return path + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			walk(join(k), x[k], r, out)
		}
	case []any:
		last := path[strings.LastIndex(path, ".")+1:]
		keys := make([]string, len(x))
		seen := map[string]int{}
		named := true
		for i, item := range x {
			im, ok := item.(map[string]any)
			name, ok2 := im["name"].(string)
			if !ok || !ok2 {
				named = false
				break
			}
			name = r.replace(name)
			seen[name]++
			if seen[name] > 1 {
				name += "#" + strconv.Itoa(seen[name])
			}
			keys[i] = name
		}
		if !named {
			for i := range keys {
				keys[i] = strconv.Itoa(i)
			}
		} else if orderedLists[last] {
			out[path+".$order"] = strings.Join(keys, ",")
		}
		if len(x) == 0 {
			out[path] = "[]"
		}
		for i, item := range x {
			walk(path+"["+keys[i]+"]", item, r, out)
		}
	case string:
		out[path] = r.replace(x)
	case nil:
		out[path] = "null"
	default:
		out[path] = fmt.Sprint(x)
	}
}

// parseProperties reads java.util.Properties text (Properties.load): comment lines start with # or !,
// a line ending in an odd number of backslashes continues on the next, the key ends at the first
// unescaped '=', ':' or white space, and \t \n \r \f \uXXXX and \<char> are unescaped.
func parseProperties(text string) (map[string]string, error) {
	props := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for trailingBackslashes(line)%2 == 1 && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		// Find the end of the key.
		end := len(line)
		for j := 0; j < len(line); j++ {
			if line[j] == '\\' {
				j++
				continue
			}
			if strings.IndexByte("=: \t\f", line[j]) >= 0 {
				end = j
				break
			}
		}
		key := line[:end]
		rest := strings.TrimLeft(line[end:], " \t\f")
		if rest != "" && (rest[0] == '=' || rest[0] == ':') {
			rest = strings.TrimLeft(rest[1:], " \t\f")
		}
		k, err := unescapeProperty(key)
		if err != nil {
			return nil, err
		}
		v, err := unescapeProperty(rest)
		if err != nil {
			return nil, err
		}
		props[k] = v
	}
	return props, nil
}

func trailingBackslashes(s string) int {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n
}

func unescapeProperty(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf("malformed \\u escape in %q", s)
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", fmt.Errorf("malformed \\u escape in %q", s)
			}
			var buf [4]byte
			b.Write(buf[:utf8.EncodeRune(buf[:], rune(n))])
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
