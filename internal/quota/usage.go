package quota

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// ApplicationUsage is what the pods of app charge against a ResourceQuota once all are created (the
// driver and the initial executors), with a description ("the driver and 3 executors"). It fails
// when the submitter refuses the application.
func ApplicationUsage(app *v1beta2.SparkApplication, opts submission.Options) (corev1.ResourceList, string, error) {
	a := app.DeepCopy()
	if a.UID == "" {
		a.UID = "00000000-0000-0000-0000-000000000000"
	}
	res, err := submission.Render(a, submission.NewSubmission(a.UID, "quota", 1, time.Now()), opts)
	if err != nil {
		return nil, "", err
	}
	exec, err := res.ExecutorPod()
	if err != nil {
		return nil, "", err
	}
	n := int64(res.InitialExecutors())
	usage := Add(PodUsage(res.DriverPod), Times(PodUsage(exec), n))
	desc := fmt.Sprintf("the driver and %d executors", n)
	if n == 1 {
		desc = "the driver and 1 executor"
	}
	return usage, desc, nil
}
