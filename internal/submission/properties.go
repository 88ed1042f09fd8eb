package submission

import (
	"maps"
	"slices"
	"strings"
)

// Conf is a Spark configuration: property names to values. It is the content of spark.properties.
type Conf map[string]string

// setDefault sets key to value unless key is already set.
func (c Conf) setDefault(key, value string) {
	if _, ok := c[key]; !ok {
		c[key] = value
	}
}

// withPrefix returns the entries whose key starts with prefix, with the prefix removed, in key order.
func (c Conf) withPrefix(prefix string) []kv {
	var out []kv
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			out = append(out, kv{rest, c[k]})
		}
	}
	return out
}

type kv struct{ key, value string }

// PropertiesFileName is the name of the Spark properties file in the driver's conf ConfigMap and
// under /opt/spark/conf in the driver container.
const PropertiesFileName = "spark.properties"

// PodTemplateKey is the data key of the executor pod template in the submission's ConfigMap
// (Resources.ExecutorTemplateConfigMap), spark-submit's key for it.
const PodTemplateKey = "podspec-configmap-key"

// propertiesText renders the conf in java.util.Properties format, one "key=value" line per entry in
// key order (Spark writes hash-table order; sorted is equivalent for any reader and deterministic).
// Escaping follows Properties.saveConvert with Unicode escaping off: '\', '=', ':', '#' and '!' get a
// backslash, tab/newline/CR/form feed become \t \n \r \f, and a space is escaped anywhere in a key but
// only when leading in a value. header is written as a '#' comment line.
func propertiesText(c Conf, header string) string {
	var b strings.Builder
	if header != "" {
		b.WriteString("#")
		b.WriteString(header)
		b.WriteString("\n")
	}
	for _, k := range slices.Sorted(maps.Keys(c)) {
		b.WriteString(escapeProperty(k, true))
		b.WriteByte('=')
		b.WriteString(escapeProperty(c[k], false))
		b.WriteByte('\n')
	}
	return b.String()
}

func escapeProperty(s string, isKey bool) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case ' ':
			if i == 0 || isKey {
				b.WriteByte('\\')
			}
			b.WriteByte(' ')
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '=', ':', '#', '!', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
