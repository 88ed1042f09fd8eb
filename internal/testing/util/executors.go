package util

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// ExecutorPod is executor id of app's current attempt as the Spark driver creates it: named
// <app>-exec-<id>, owned by the driver pod, with the labels Spark sets and those it copies from the
// operator's spark.kubernetes.executor.label.* properties, and one container
// spark-kubernetes-executor.
func ExecutorPod(app *v1beta2.SparkApplication, driver *corev1.Pod, id int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("%s-exec-%d", app.Name, id), Namespace: app.Namespace,
			Labels: map[string]string{
				v1beta2.LabelAppName:                 app.Name,
				v1beta2.LabelLaunchedBySparkOperator: "true",
				v1beta2.LabelSubmissionID:            app.Status.SubmissionID,
				v1beta2.LabelSparkRole:               v1beta2.SparkRoleExecutor,
				v1beta2.LabelSparkExecID:             fmt.Sprint(id),
				v1beta2.LabelSparkAppSelector:        app.Status.SparkApplicationID,
			},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: driver.Name, UID: driver.UID, Controller: ptr.To(true)}},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "spark-kubernetes-executor", Image: "spark:3.5.3"}}},
	}
}

// CreateExecutor creates ExecutorPod(app, driver, id) and returns it.
func CreateExecutor(t testing.TB, c client.Client, app *v1beta2.SparkApplication, driver *corev1.Pod, id int) *corev1.Pod {
	t.Helper()
	pod := ExecutorPod(app, driver, id)
	if err := c.Create(context.Background(), pod); err != nil {
		t.Fatalf("creating executor %d: %v", id, err)
	}
	return pod
}
