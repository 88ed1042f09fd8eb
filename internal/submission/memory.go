package submission

import (
	"fmt"
	"strconv"
	"strings"
)

// minMemoryOverheadMiB is the smallest memory overhead Spark gives a pod: 384 MiB
// (ResourceProfile.MEMORY_OVERHEAD_MIN_MIB in 3.5; the default of spark.{driver,executor}.minMemoryOverhead
// in 4.x).
const minMemoryOverheadMiB = 384

// Memory overhead factors, as in Spark's BasicDriverFeatureStep: 0.1 for JVM applications and 0.4 for
// non-JVM (Python, R) ones.
const (
	jvmMemoryOverheadFactor    = 0.1
	nonJVMMemoryOverheadFactor = 0.4
)

// byteUnits are the suffixes of Spark's JavaUtils.byteStringAs, in bytes.
var byteUnits = map[string]float64{
	"":   1,
	"b":  1,
	"k":  1 << 10,
	"kb": 1 << 10,
	"m":  1 << 20,
	"mb": 1 << 20,
	"g":  1 << 30,
	"gb": 1 << 30,
	"t":  1 << 40,
	"tb": 1 << 40,
	"p":  1 << 50,
	"pb": 1 << 50,
}

// parseSparkMemory parses a Spark memory string ("512m", "2g", "1024k", "4096") into MiB, the way
// Spark's Utils.memoryStringToMb does: a bare number is in defaultUnit ("m" for Spark's memory
// settings), suffixes are case-insensitive, and the result is truncated to whole MiB.
// It returns an error for anything else, e.g. Kubernetes notation such as "1Gi".
func parseSparkMemory(s string, defaultUnit string) (int64, error) {
	b, err := parseSparkBytes(s, defaultUnit)
	return b >> 20, err
}

// parseSparkBytes parses a Spark byte string (JavaUtils.byteStringAs) into bytes: digits followed by
// an optional unit b, k, kb, m, mb, g, gb, t, tb, p or pb (case-insensitive, binary multiples); a bare
// number is in defaultUnit. Sizes above 2^53 bytes are refused.
func parseSparkBytes(s string, defaultUnit string) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 || i > 16 {
		return 0, fmt.Errorf("%q is not a Spark memory size such as 512m or 2g", s)
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a Spark memory size such as 512m or 2g: %w", s, err)
	}
	unit := v[i:]
	if unit == "" {
		unit = defaultUnit
	}
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("%q is not a Spark memory size such as 512m or 2g (unit %q is not one of b, k, m, g, t, p)", s, unit)
	}
	bytes := float64(n) * mult
	if bytes > 1<<53 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(bytes), nil
}

// memoryOverheadMiB is Spark's pod memory overhead in MiB: the explicit overhead when set,
// otherwise max(factor x memoryMiB truncated, minMiB) as in BasicDriverFeatureStep and
// BasicExecutorFeatureStep.
func memoryOverheadMiB(memoryMiB int64, factor float64, explicitMiB *int64, minMiB int64) int64 {
	if explicitMiB != nil {
		return *explicitMiB
	}
	return max(int64(factor*float64(memoryMiB)), minMiB)
}
