package submission

import (
	"strconv"
	"strings"
)

// sparkVersionAtLeast compares the major.minor of a Spark version string ("3.5.3", "4.0.0-preview1").
// An unparsable version counts as 3.5, the oldest line the operator targets.
func sparkVersionAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	maj, min := 3, 5
	if len(parts) >= 2 {
		a, err1 := strconv.Atoi(parts[0])
		b, err2 := strconv.Atoi(strings.TrimLeftFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
		if err1 == nil && err2 == nil {
			maj, min = a, b
		}
	}
	return maj > major || (maj == major && min >= minor)
}

func intConf(conf Conf, key string, def int) (int, error) {
	v, ok := conf[key]
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > 65535 {
		return 0, fieldError("spec.sparkConf", "%s=%q is not a port number", key, v)
	}
	return n, nil
}

// javaDouble formats f as Java's Double.toString does for ordinary values: "0.1", "0.4", "1.0".
func javaDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// mergeMaps copies add into dst (allocating it when nil) and returns dst.
func mergeMaps(dst, add map[string]string) map[string]string {
	if len(add) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]string, len(add))
	}
	for k, v := range add {
		dst[k] = v
	}
	return dst
}
