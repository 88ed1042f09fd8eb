// Package render is the one implementation behind `spark-operator render` and `sparkctl render`:
// an application rendered offline into the objects the operator would create to submit it, by the
// operator's own code (internal/submission, then internal/batchscheduler), with no cluster. The
// commands read manifests and print; this package renders one decoded application.
package render

import (
	"bytes"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/submission"
)

// ZeroUID is the UID given to an object read from a manifest that has none, so that names and
// owner references derived from it are stable.
const ZeroUID = types.UID("00000000-0000-0000-0000-000000000000")

// Options are what both render commands take.
type Options struct {
	// Attempt is the submission attempt whose names and ids are rendered (1 or more).
	Attempt int32
	// Submission is spark.master, SPARK_USER and the driver Service switch, as the operator's flags.
	Submission submission.Options
	// Schedulers resolves spec.batchScheduler as `controller start --enable-batch-scheduler` does;
	// nil renders no batch scheduling.
	Schedulers *batchscheduler.Registry
	// Notices receives "render: <namespace>/<name>: <notice>" lines: a batch scheduler's notice,
	// where the operator would record a Warning event. Nil discards them.
	Notices io.Writer
}

// Defaults fills what a manifest usually lacks and the API server would set: the namespace
// ("default") and the UID (ZeroUID).
func Defaults(obj metav1.Object) {
	if obj.GetNamespace() == "" {
		obj.SetNamespace("default")
	}
	if obj.GetUID() == "" {
		obj.SetUID(ZeroUID)
	}
}

// Application renders app (after Defaults) as the operator submits it at now: the YAML stream of
// the batch scheduler's objects (created before the driver, each preceded by "---"), then
// submission.Resources.YAML. The error is submission.Render's (a *submission.FieldError names the
// field to fix) or "batch scheduler <name>: ..."; the caller adds which application it was.
func Application(app *v1beta2.SparkApplication, o Options, now time.Time) ([]byte, error) {
	Defaults(app)
	sub := submission.NewSubmission(app.UID, "1", o.Attempt, now)
	res, err := submission.Render(app, sub, o.Submission)
	if err != nil {
		return nil, err
	}
	text, err := batchScheduling(o, app, res)
	if err != nil {
		return nil, err
	}
	objects, err := res.YAML()
	if err != nil {
		return nil, err
	}
	return append(text, objects...), nil
}

// batchScheduling hands the rendered application to its batch scheduler, as the controller does
// before creating the driver, and returns the YAML of the scheduler's objects.
func batchScheduling(o Options, app *v1beta2.SparkApplication, res *submission.Resources) ([]byte, error) {
	if o.Schedulers == nil {
		return nil, nil
	}
	sched, notice, err := o.Schedulers.Resolve(app)
	if notice != "" && o.Notices != nil {
		fmt.Fprintf(o.Notices, "render: %s/%s: %s\n", app.Namespace, app.Name, notice)
	}
	if err != nil || sched == nil {
		return nil, err
	}
	objs, err := batchscheduler.Prepare(sched, app, res)
	if err != nil {
		return nil, fmt.Errorf("batch scheduler %s: %w", sched.Name(), err)
	}
	var buf bytes.Buffer
	for _, obj := range objs {
		text, err := submission.CleanYAML(obj)
		if err != nil {
			return nil, err
		}
		buf.WriteString("---\n")
		buf.Write(text)
	}
	return buf.Bytes(), nil
}
