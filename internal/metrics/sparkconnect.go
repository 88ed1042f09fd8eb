package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// ConnectMetrics are the SparkConnect controller's counters, labelled by namespace, named with the
// same --metrics-prefix as the application metrics:
//   - spark_connect_server_start_count: server pods created (first starts, replacements and restarts);
//   - spark_connect_server_restart_count: servers started again because a ready server's pod ended;
//   - spark_connect_failure_count: SparkConnects that entered state Failed.
//
// A nil *ConnectMetrics records nothing.
type ConnectMetrics struct {
	start, restart, failure *prometheus.CounterVec
}

// NewConnect returns the SparkConnect counters with names prefixed by prefix ("" for none).
func NewConnect(prefix string) *ConnectMetrics {
	counter := func(n, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: invalidLabelChars.ReplaceAllString(prefix+n, "_"), Help: help}, []string{"namespace"})
	}
	return &ConnectMetrics{
		start:   counter("spark_connect_server_start_count", "Spark Connect server pods created."),
		restart: counter("spark_connect_server_restart_count", "Spark Connect servers started again after a ready server's pod ended."),
		failure: counter("spark_connect_failure_count", "SparkConnects that entered state Failed."),
	}
}

// Register registers the counters with reg.
func (m *ConnectMetrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.start, m.restart, m.failure} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// ServerStarted counts a server pod created in namespace ns.
func (m *ConnectMetrics) ServerStarted(ns string) {
	if m != nil {
		m.start.WithLabelValues(ns).Inc()
	}
}

// ServerRestarted counts a restart of a server that had been ready.
func (m *ConnectMetrics) ServerRestarted(ns string) {
	if m != nil {
		m.restart.WithLabelValues(ns).Inc()
	}
}

// Failed counts a SparkConnect entering state Failed.
func (m *ConnectMetrics) Failed(ns string) {
	if m != nil {
		m.failure.WithLabelValues(ns).Inc()
	}
}
