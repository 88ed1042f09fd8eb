package submission

import "github.com/sparkop/spark-operator/api/v1beta2"

// This file exports the few rules of the submitter that tools (sparkctl lint and create) need to
// explain an application the way the operator will treat it. They are thin wrappers: the submitter
// itself uses the unexported functions, so its behaviour does not depend on this file.

// MinMemoryOverheadMiB is the smallest memory overhead Spark gives a driver or executor pod (384 MiB),
// unless spark.{driver,executor}.minMemoryOverhead says otherwise on Spark 4.0 and later.
const MinMemoryOverheadMiB = minMemoryOverheadMiB

// ParseSparkMemoryMiB parses a memory setting in Spark's notation ("512m", "2g", "1024k"; a bare
// number is in MiB) into whole MiB, as the submitter reads spark.driver.memory and friends. Kubernetes
// notation such as "2Gi" is an error, as it is for Spark.
func ParseSparkMemoryMiB(s string) (int64, error) { return parseSparkMemory(s, "m") }

// MemoryOverheadMiB is Spark's pod memory overhead in MiB: explicitMiB when given (the
// memoryOverhead setting), otherwise max(factor x memoryMiB, minMiB), truncated to whole MiB.
func MemoryOverheadMiB(memoryMiB int64, factor float64, explicitMiB *int64, minMiB int64) int64 {
	return memoryOverheadMiB(memoryMiB, factor, explicitMiB, minMiB)
}

// DefaultMemoryOverheadFactor is the memory overhead factor Spark uses when none is configured: 0.1
// for JVM applications (Java, Scala, and an unset type) and 0.4 for Python and R.
func DefaultMemoryOverheadFactor(t v1beta2.SparkApplicationType) float64 {
	if t == v1beta2.SparkApplicationTypePython || t == v1beta2.SparkApplicationTypeR {
		return nonJVMMemoryOverheadFactor
	}
	return jvmMemoryOverheadFactor
}

// SparkVersionAtLeast reports whether a Spark version string ("3.5.3", "4.0.0-preview1") is at
// least major.minor; an unparsable version counts as 3.5, as in the submitter.
func SparkVersionAtLeast(version string, major, minor int) bool {
	return sparkVersionAtLeast(version, major, minor)
}

// IsSubmitterLocal reports whether a main application file or dependency URI names a file on the
// submitter's disk (no scheme, or file:), which the submitter refuses because the driver cannot read
// it; sparkctl create --upload-to uploads such files instead.
func IsSubmitterLocal(uri string) bool { return isSubmitterLocal(uri) }
