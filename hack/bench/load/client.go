// Package load creates the benchmarks' SparkApplications: the clients (high QPS, protobuf for
// built-in types), the application, and a paced or all-at-once creation from concurrent workers.
package load

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/submission"
)

// RunDurationAnnotation is read by the kwok stage spark-driver-complete: how long the driver runs.
const RunDurationAnnotation = "kwok.sparkop.dev/run-duration"

// Scheme has the built-in types and sparkoperator.k8s.io/v1beta2.
var Scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1beta2.AddToScheme(s)
	return s
}()

// RestConfig loads the kubeconfig with client-side rate limits far above what the API server can
// take, so that the benchmark's own client never paces the run.
func RestConfig(kubeconfig string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 10000, 20000
	cfg.Timeout = time.Minute
	cfg.UserAgent = "sparkop-bench"
	return cfg, nil
}

// CoreClient is a clientset for built-in types that speaks protobuf, which costs the API server and
// the benchmark less CPU than JSON for the pod informer.
func CoreClient(cfg *rest.Config) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.ContentType = runtime.ContentTypeProtobuf
	c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	return kubernetes.NewForConfig(c)
}

// AppRESTClient is a REST client for sparkoperator.k8s.io/v1beta2 (JSON; custom resources have no
// protobuf).
func AppRESTClient(cfg *rest.Config) (*rest.RESTClient, error) {
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &v1beta2.GroupVersion
	c.APIPath = "/apis"
	c.ContentType = runtime.ContentTypeJSON
	c.NegotiatedSerializer = serializer.NewCodecFactory(Scheme).WithoutConversion()
	return rest.RESTClientFor(c)
}

// App is the application the benchmark creates: the seed SparkPi, with a driver that kwok runs
// for runDuration and then completes.
func App(namespace, name string, runDuration time.Duration) *v1beta2.SparkApplication {
	return &v1beta2.SparkApplication{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta2.GroupVersion.String(), Kind: "SparkApplication"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"sparkop.dev/bench": "true"}},
		Spec: v1beta2.SparkApplicationSpec{
			Type:                v1beta2.SparkApplicationTypeScala,
			Mode:                v1beta2.DeployModeCluster,
			Image:               ptr.To("spark:3.5.3"),
			ImagePullPolicy:     ptr.To(string(corev1.PullIfNotPresent)),
			MainClass:           ptr.To("org.apache.spark.examples.SparkPi"),
			MainApplicationFile: ptr.To("local:///opt/spark/examples/jars/spark-examples.jar"),
			Arguments:           []string{"5000"},
			SparkVersion:        "3.5.3",
			RestartPolicy:       v1beta2.RestartPolicy{Type: v1beta2.RestartPolicyNever},
			Driver: v1beta2.DriverSpec{SparkPodSpec: v1beta2.SparkPodSpec{
				Cores:          ptr.To[int32](1),
				Memory:         ptr.To("512m"),
				ServiceAccount: ptr.To("spark"),
				Labels:         map[string]string{"version": "3.5.3"},
				Annotations:    map[string]string{RunDurationAnnotation: runDuration.String()},
			}},
			Executor: v1beta2.ExecutorSpec{
				SparkPodSpec: v1beta2.SparkPodSpec{
					Cores:  ptr.To[int32](1),
					Memory: ptr.To("512m"),
					Labels: map[string]string{"version": "3.5.3"},
				},
				Instances: ptr.To[int32](1),
			},
		},
	}
}

// CreateApp creates an application.
func CreateApp(ctx context.Context, rc *rest.RESTClient, app *v1beta2.SparkApplication) error {
	return rc.Post().Namespace(app.Namespace).Resource("sparkapplications").Body(app).Do(ctx).Error()
}

// ListApps lists every SparkApplication, in pages.
func ListApps(ctx context.Context, rc *rest.RESTClient) ([]v1beta2.SparkApplication, error) {
	var all []v1beta2.SparkApplication
	cont := ""
	for {
		list := &v1beta2.SparkApplicationList{}
		req := rc.Get().Resource("sparkapplications").Param("limit", "500")
		if cont != "" {
			req = req.Param("continue", cont)
		}
		if err := req.Do(ctx).Into(list); err != nil {
			return nil, fmt.Errorf("listing SparkApplications: %w", err)
		}
		all = append(all, list.Items...)
		if cont = list.Continue; cont == "" {
			return all, nil
		}
	}
}

// ListDriverPods lists every driver pod, in pages.
func ListDriverPods(ctx context.Context, cs kubernetes.Interface) ([]corev1.Pod, error) {
	var all []corev1.Pod
	opts := metav1.ListOptions{LabelSelector: v1beta2.LabelSparkRole + "=" + v1beta2.SparkRoleDriver, Limit: 500}
	for {
		list, err := cs.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing driver pods: %w", err)
		}
		all = append(all, list.Items...)
		if opts.Continue = list.Continue; opts.Continue == "" {
			return all, nil
		}
	}
}

// CreateSet creates what a submission of app creates, without the operator (-raw): the application,
// then its driver pod and the objects the pod owns (two ConfigMaps and the headless Service), rendered
// by internal/submission as the operator renders them.
func CreateSet(ctx context.Context, rc *rest.RESTClient, cs kubernetes.Interface, app *v1beta2.SparkApplication) error {
	created := &v1beta2.SparkApplication{}
	if err := rc.Post().Namespace(app.Namespace).Resource("sparkapplications").Body(app).Do(ctx).Into(created); err != nil {
		return err
	}
	sub := submission.NewSubmission(created.UID, fmt.Sprint(created.Generation), 1, time.Now())
	res, err := submission.Render(created, sub, submission.Options{})
	if err != nil {
		return err
	}
	pod, err := cs.CoreV1().Pods(app.Namespace).Create(ctx, res.DriverPod, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	owned := res.DriverOwned()
	submission.OwnDriverResources(pod, owned...)
	for _, o := range owned {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			_, err = cs.CoreV1().ConfigMaps(app.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.Service:
			_, err = cs.CoreV1().Services(app.Namespace).Create(ctx, o, metav1.CreateOptions{})
		default:
			err = fmt.Errorf("unexpected owned object %T", o)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
