package submission

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// maxLabelValueLength and maxDNSLabelLength are Kubernetes' limits for label values and for names
// that must be DNS-1035 labels (Service names).
const (
	maxLabelValueLength = 63
	maxDNSLabelLength   = 63
)

var (
	nonNameChars = regexp.MustCompile(`[^a-z0-9\-]`)
	dashRuns     = regexp.MustCompile(`-+`)
)

// sparkAppNameLabel is the value of the spark-app-name label for an application name, as in Spark's
// KubernetesConf.getAppNameLabel: trim, lower-case, replace [^a-z0-9-] by '-', collapse runs of '-',
// cut to 63 characters, then drop one leading and one trailing '-'.
func sparkAppNameLabel(appName string) string {
	s := strings.ToLower(strings.TrimSpace(appName))
	s = nonNameChars.ReplaceAllString(s, "-")
	s = dashRuns.ReplaceAllString(s, "-")
	if len(s) > maxLabelValueLength {
		s = s[:maxLabelValueLength]
	}
	s = strings.TrimPrefix(s, "-")
	s = strings.TrimSuffix(s, "-")
	return s
}

// resourceNamePrefix turns "<appName>-<id>" into a name prefix as Spark's
// KubernetesConf.getResourceNamePrefix does: trim, lower-case, replace [^a-z0-9-] by '-', collapse
// runs of '-', drop a leading '-', and replace a leading digit by 'x'. Like Spark it does not cut the
// length; callers that need a DNS label use shortenName.
func resourceNamePrefix(appName, id string) string {
	s := strings.ToLower(strings.TrimSpace(appName + "-" + id))
	s = nonNameChars.ReplaceAllString(s, "-")
	s = dashRuns.ReplaceAllString(s, "-")
	s = strings.TrimPrefix(s, "-")
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "x" + s[1:]
	}
	return s
}

// shortenName returns base+suffix when that fits in limit characters; otherwise it cuts base and
// inserts the first 8 hex characters of sha256(base), so that distinct long names stay distinct and
// the result is still a valid DNS label: "<cut base>-<hash8><suffix>".
func shortenName(base, suffix string, limit int) string {
	if len(base)+len(suffix) <= limit {
		return base + suffix
	}
	hash := hashOf(base)
	keep := limit - len(suffix) - len(hash) - 1
	if keep < 1 {
		return (hash + suffix)[:min(limit, len(hash)+len(suffix))]
	}
	cut := strings.TrimRight(base[:keep], "-")
	return cut + "-" + hash + suffix
}

// hashOf is the first 8 hex characters of sha256(s): a short, stable disambiguator for shortened names.
func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}

// ShortenName returns base+suffix, or when that is longer than limit, base cut and followed by "-" and
// an 8-hex hash of base before suffix: a valid, stable and distinct name of at most limit characters,
// for the objects of ours that no tool computes the name of (e.g. the gang scheduler's Workload). Names
// users and tools compute follow Kubeflow's rule instead: see DerivedName.
func ShortenName(base, suffix string, limit int) string { return shortenName(base, suffix, limit) }

// DerivedName is the name of an object derived from an application (or ScheduledSparkApplication)
// called name: "<name>-<suffix>" when that is at most 63 characters, otherwise the first
// 63-len(suffix)-10 characters of name, "-", the first 8 hex characters of md5("<name>-<suffix>"), "-"
// and suffix, exactly 63 characters. This is how Kubeflow's operator shortens the UI Service and UI
// Ingress names (pkg/util generateName in v2.5), so the names users and tools compute match; the
// other names it derives (driver ingress Services and Ingresses, scheduled runs) it never shortens,
// and they are identical here whenever Kubeflow's are valid. suffix has no leading '-'. For a
// DNS-1035 label name and a suffix of lower-case letters, digits and '-', ending in a letter or
// digit and at most 52 characters long, the result is a DNS-1035 label.
func DerivedName(name, suffix string) string {
	preferred := name + "-" + suffix
	if len(preferred) <= maxDNSLabelLength {
		return preferred
	}
	keep := min(max(maxDNSLabelLength-len(suffix)-10, 0), len(name))
	sum := md5.Sum([]byte(preferred))
	return name[:keep] + "-" + hex.EncodeToString(sum[:])[:8] + "-" + suffix
}
