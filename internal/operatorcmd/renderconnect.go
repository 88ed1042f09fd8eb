package operatorcmd

import (
	"time"

	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/internal/controller/sparkconnect"
	"github.com/sparkop/spark-operator/internal/render"
	"github.com/sparkop/spark-operator/internal/submission"
)

// isSparkConnect reports whether a document's apiVersion and kind are a v1alpha1 SparkConnect.
func isSparkConnect(apiVersion, kind string) bool {
	return kind == "SparkConnect" && apiVersion == v1alpha1.GroupVersion.String()
}

// renderConnect decodes a SparkConnect document strictly and returns the YAML of what the
// SparkConnect controller creates for it (sparkconnect.RenderYAML).
func (o *renderOptions) renderConnect(data []byte) ([]byte, error) {
	conn := &v1alpha1.SparkConnect{}
	if err := yaml.UnmarshalStrict(data, conn); err != nil {
		return nil, err
	}
	render.Defaults(conn)
	conn.Generation = 1
	return sparkconnect.RenderYAML(conn, submission.Options{MasterURL: o.masterURL, SparkUser: o.sparkUser}, time.Now())
}
