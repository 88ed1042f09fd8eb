package scheduledsparkapplication

import (
	"strconv"
	"time"
)

// RunSuffix is the timestamp in the name of the run scheduled at t ("<name>-<suffix>"), at the
// precision of --scheduled-spark-application-timestamp-precision: "nanos", "micros", "millis",
// "seconds" (also for "") or "minutes" since the Unix epoch. Kubeflow stamps the time the run is
// created; here it is the scheduled time, so that a restarted operator names the same run the same way.
func RunSuffix(t time.Time, precision string) string {
	var v int64
	switch precision {
	case "nanos":
		v = t.UnixNano()
	case "micros":
		v = t.UnixMicro()
	case "millis":
		v = t.UnixMilli()
	case "minutes":
		v = t.Unix() / 60
	default:
		v = t.Unix()
	}
	return strconv.FormatInt(v, 10)
}
