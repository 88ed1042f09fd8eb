package sparkconnect

import (
	"time"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/internal/submission"
)

// RenderYAML returns, as a YAML stream, the objects the controller creates to start conn's server at
// time now: the server pod, its ConfigMaps and headless Service (as submission.Resources.YAML prints
// them), then the client Service. It is `spark-operator render` for a SparkConnect; the error is the
// submitter's *submission.FieldError when the spec cannot be submitted.
func RenderYAML(conn *v1alpha1.SparkConnect, opts submission.Options, now time.Time) ([]byte, error) {
	res, err := renderServer(conn, "1/0", now, opts)
	if err != nil {
		return nil, err
	}
	out, err := res.YAML()
	if err != nil {
		return nil, err
	}
	svc, err := submission.CleanYAML(clientService(conn))
	if err != nil {
		return nil, err
	}
	return append(append(out, "---\n"...), svc...), nil
}
