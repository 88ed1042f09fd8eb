// Package kubernetes is the "kubernetes" batch scheduler: Kubernetes' own gang scheduling
// (kube-scheduler's GangScheduling plugin and the scheduling.k8s.io/v1alpha2 Workload and PodGroup
// API of Kubernetes 1.36, alpha; 1.35 had an earlier, incompatible v1alpha1), which needs no scheduler
// besides kube-scheduler.
//
// For each submission of an application it creates, before the driver:
//
//   - a Workload "spark-<app>-<submission>" whose controllerRef is the SparkApplication, with one
//     PodGroupTemplate "executors" whose policy is gang with minCount = the executors Spark starts
//     with and never goes below (spark.executor.instances, or spark.dynamicAllocation.minExecutors with
//     dynamic allocation);
//   - a PodGroup "spark-<app>-<submission>-executors" made from that template;
//
// and it puts spec.schedulingGroup.podGroupName on the executor pod template, so that every executor
// the driver creates from it joins the group. The driver itself is not in a group: it is scheduled
// alone, as it must be, since it creates the executors once it runs. kube-scheduler then binds none of
// the first minCount executors until all minCount exist and fit at once, so an application never
// holds a partial initial set of executors. docs/batch-scheduling-kubernetes.md says what this does
// and does not guarantee, and which feature gates the cluster needs.
//
// <submission> is the first 8 hex digits of the submission ID: both objects are immutable (their
// minCount above all), so a resubmission after a spec change must get new ones, not find the old ones.
//
// Everything but Cleanup is a pure function of the application and its rendered submission
// (internal/submission): Objects for the objects to create, MutateDriverPod and
// MutateExecutorTemplate for the pods, Validate for what cannot be honoured. Cleanup deletes the
// objects of earlier submissions, or all of them when the application terminates.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1alpha2 "k8s.io/api/scheduling/v1alpha2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/submission"
)

// Name is the value of spec.batchScheduler (and --default-batch-scheduler) that selects this scheduler.
const Name = "kubernetes"

// ExecutorsTemplateName is the name of the Workload's PodGroupTemplate for the executors (a DNS label).
const ExecutorsTemplateName = "executors"

// maxNameLength is the longest Workload and PodGroup name (a DNS subdomain, as for most objects).
const maxNameLength = 253

// Spark properties read from the rendered configuration.
const (
	keyExecutorInstances = "spark.executor.instances"
	keyDAEnabled         = "spark.dynamicAllocation.enabled"
	keyDAMin             = "spark.dynamicAllocation.minExecutors"
	keyMaxPendingPods    = "spark.kubernetes.allocation.maxPendingPods"
)

// sparkDefaultExecutorInstances is Spark's spark.executor.instances when the property is unset and
// dynamic allocation is off (SchedulerBackendUtils.DEFAULT_NUMBER_EXECUTORS). The operator's render
// always sets the property in that case, so this only matters for hand-built configurations.
const sparkDefaultExecutorInstances = 2

// WorkloadName is the name of the Workload of submission res of app: "spark-<app>-<submission>", where
// <submission> is the first 8 hex digits of the submission ID (the driver pod's
// sparkoperator.k8s.io/submission-id label), shortened with a hash of "spark-<app>" when longer than
// 253 characters.
func WorkloadName(app *v1beta2.SparkApplication, res *submission.Resources) string {
	return submission.ShortenName("spark-"+app.Name, submissionSuffix(res), maxNameLength)
}

// ExecutorPodGroupName is the name of the PodGroup the executors of submission res join:
// "spark-<app>-<submission>-executors", shortened as WorkloadName. It is the podGroupName in the
// executor pod template's spec.schedulingGroup.
func ExecutorPodGroupName(app *v1beta2.SparkApplication, res *submission.Resources) string {
	return submission.ShortenName("spark-"+app.Name, submissionSuffix(res)+"-"+ExecutorsTemplateName, maxNameLength)
}

// submissionSuffix is "-" and the first 8 hex digits of the submission ID, or "" without one.
func submissionSuffix(res *submission.Resources) string {
	id := strings.ReplaceAll(submissionID(res), "-", "")
	if len(id) > 8 {
		id = id[:8]
	}
	if id == "" {
		return ""
	}
	return "-" + id
}

func submissionID(res *submission.Resources) string {
	if res == nil || res.DriverPod == nil {
		return ""
	}
	return res.DriverPod.Labels[v1beta2.LabelSubmissionID]
}

// ExecutorGangSize returns the gang's minCount for a rendered Spark configuration: the number of
// executors Spark starts with and keeps, below which it never goes on its own.
//
//   - Without dynamic allocation: spark.executor.instances (Spark's default, 2, when unset). Spark
//     replaces a lost executor by a new one, so the group never needs more than one new pod to be
//     back at minCount.
//   - With dynamic allocation (spark.dynamicAllocation.enabled=true): spark.dynamicAllocation.minExecutors.
//     Executors above it come and go one by one; a larger minCount (initialExecutors, say) would let an
//     application that scaled down wait for ever for a gang its small backlog never asks for. A
//     minExecutors of 0 (Spark's default) leaves nothing to gang, and is refused.
//
// It returns 0 (no executor gang) when Spark is to run no executors (spark.executor.instances=0
// without dynamic allocation), and a *submission.FieldError naming the field when the configuration
// cannot be gang-scheduled: a value that is not a number, dynamic allocation without a minimum, or
// spark.kubernetes.allocation.maxPendingPods below the gang (Spark would stop creating executors before
// the gang is complete, and wait for ever).
func ExecutorGangSize(conf submission.Conf) (int32, error) {
	var n int32
	if strings.EqualFold(strings.TrimSpace(conf[keyDAEnabled]), "true") {
		v, err := intProperty(conf, keyDAMin, 0, "spec.dynamicAllocation.minExecutors")
		if err != nil {
			return 0, err
		}
		if v < 1 {
			return 0, &submission.FieldError{Field: "spec.dynamicAllocation.minExecutors", Detail: fmt.Sprintf(
				"must be at least 1 with batchScheduler %q: the gang is the executors Spark never scales below (%s), and %d leaves none",
				Name, keyDAMin, v)}
		}
		n = v
	} else {
		v, err := intProperty(conf, keyExecutorInstances, sparkDefaultExecutorInstances, "spec.executor.instances")
		if err != nil {
			return 0, err
		}
		n = v
	}
	if n > 0 {
		if s, ok := conf[keyMaxPendingPods]; ok {
			v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
			if err != nil {
				return 0, &submission.FieldError{Field: "spec.sparkConf[" + keyMaxPendingPods + "]", Detail: fmt.Sprintf("%q is not a number", s)}
			}
			if v < int64(n) {
				return 0, &submission.FieldError{Field: "spec.sparkConf[" + keyMaxPendingPods + "]", Detail: fmt.Sprintf(
					"%d is less than the executor gang (%d) of batchScheduler %q: Spark would stop creating executors before the gang is complete and wait for ever",
					v, n, Name)}
			}
		}
	}
	return n, nil
}

// intProperty reads a non-negative int32 Spark property, def when unset; field names the spec field a
// bad value is reported on.
func intProperty(conf submission.Conf, key string, def int32, field string) (int32, error) {
	s, ok := conf[key]
	if !ok {
		return def, nil
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil || v < 0 {
		return 0, &submission.FieldError{Field: field, Detail: fmt.Sprintf("%s=%q is not a non-negative number", key, s)}
	}
	return int32(v), nil
}

// Validate refuses what this scheduler cannot honour, with a *submission.FieldError naming the field:
// batchSchedulerOptions (kube-scheduler has no queues; the gang is counted in pods, not resources; a
// PodGroup priority needs the WorkloadAwarePreemption gate, and the pods' own priority classes are
// spec.driver.priorityClassName and spec.executor.priorityClassName), a schedulingGroup the user set
// in a pod template (the scheduler sets the executors' and the driver must have none), and a Spark
// configuration that cannot be gang-scheduled (see ExecutorGangSize).
func Validate(app *v1beta2.SparkApplication, conf submission.Conf) error {
	if o := app.Spec.BatchSchedulerOptions; o != nil {
		if o.Queue != nil {
			return &submission.FieldError{Field: "spec.batchSchedulerOptions.queue", Detail: fmt.Sprintf(
				"is not supported by batchScheduler %q: kube-scheduler has no queues (use Kueue, or Volcano or YuniKorn)", Name)}
		}
		if o.PriorityClassName != nil {
			return &submission.FieldError{Field: "spec.batchSchedulerOptions.priorityClassName", Detail: fmt.Sprintf(
				"is not supported by batchScheduler %q: set spec.driver.priorityClassName and spec.executor.priorityClassName", Name)}
		}
		if len(o.Resources) > 0 {
			return &submission.FieldError{Field: "spec.batchSchedulerOptions.resources", Detail: fmt.Sprintf(
				"is not supported by batchScheduler %q: its gang is a number of executor pods, each with the resources it requests", Name)}
		}
	}
	if t := app.Spec.Driver.Template; t != nil && t.Spec.SchedulingGroup != nil {
		return &submission.FieldError{Field: "spec.driver.template.spec.schedulingGroup", Detail: fmt.Sprintf(
			"must not be set with batchScheduler %q: the driver creates the executors, so it is scheduled alone", Name)}
	}
	if t := app.Spec.Executor.Template; t != nil && t.Spec.SchedulingGroup != nil {
		return &submission.FieldError{Field: "spec.executor.template.spec.schedulingGroup", Detail: fmt.Sprintf(
			"must not be set with batchScheduler %q: it sets the executors' group itself", Name)}
	}
	_, err := ExecutorGangSize(conf)
	return err
}

// Objects returns the objects to create, in this order, before the driver pod of res: the Workload,
// then the executors' PodGroup (kube-apiserver's PodGroupWorkloadExists admission refuses a PodGroup
// whose Workload does not exist yet). Both are labelled as the operator labels the objects of a
// submission (app-name, created-by-spark-operator, submission-id) and owned by the application
// (controller reference, so they are garbage-collected with it); the PodGroup names its Workload in
// spec.podGroupTemplateRef only (an owner reference to it would need the Workload's UID, which exists
// only once it is created).
// It returns no objects when Spark is to run no executors, and Validate's error when the
// application cannot be gang-scheduled. The application must have a UID (it has one once stored).
func Objects(app *v1beta2.SparkApplication, res *submission.Resources) ([]client.Object, error) {
	if err := Validate(app, res.Conf); err != nil {
		return nil, err
	}
	n, err := ExecutorGangSize(res.Conf)
	if err != nil || n == 0 {
		return nil, err
	}
	labels := map[string]string{
		v1beta2.LabelAppName:                app.Name,
		v1beta2.LabelCreatedBySparkOperator: "true",
	}
	if id := submissionID(res); id != "" {
		labels[v1beta2.LabelSubmissionID] = id
	}
	// objectMeta is the metadata of the Workload and the PodGroup: labelled, owned by the application.
	objectMeta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: app.Namespace, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{submission.ApplicationOwner(app)}}
	}
	policy := schedulingv1alpha2.PodGroupSchedulingPolicy{Gang: &schedulingv1alpha2.GangSchedulingPolicy{MinCount: n}}
	workload := &schedulingv1alpha2.Workload{
		TypeMeta:   metav1.TypeMeta{APIVersion: schedulingv1alpha2.SchemeGroupVersion.String(), Kind: "Workload"},
		ObjectMeta: objectMeta(WorkloadName(app, res)),
		Spec: schedulingv1alpha2.WorkloadSpec{
			ControllerRef: &schedulingv1alpha2.TypedLocalObjectReference{
				APIGroup: v1beta2.GroupVersion.Group,
				Kind:     "SparkApplication",
				Name:     app.Name,
			},
			PodGroupTemplates: []schedulingv1alpha2.PodGroupTemplate{{
				Name:             ExecutorsTemplateName,
				SchedulingPolicy: policy,
			}},
		},
	}
	podGroup := &schedulingv1alpha2.PodGroup{
		TypeMeta:   metav1.TypeMeta{APIVersion: schedulingv1alpha2.SchemeGroupVersion.String(), Kind: "PodGroup"},
		ObjectMeta: objectMeta(ExecutorPodGroupName(app, res)),
		Spec: schedulingv1alpha2.PodGroupSpec{
			PodGroupTemplateRef: &schedulingv1alpha2.PodGroupTemplateReference{
				Workload: &schedulingv1alpha2.WorkloadPodGroupTemplateReference{
					WorkloadName:         workload.Name,
					PodGroupTemplateName: ExecutorsTemplateName,
				},
			},
			SchedulingPolicy: policy,
		},
	}
	return []client.Object{workload, podGroup}, nil
}

// MutateDriverPod leaves the driver out of any pod group: it is the driver that creates the executors,
// so a gang with the driver in it could never be complete before the driver ran. It only undoes a
// schedulerName of "kubernetes" (the batch scheduler's name is not a scheduler's: the pods stay with
// kube-scheduler, under spec.driver.schedulerName when set, else its default profile).
func MutateDriverPod(app *v1beta2.SparkApplication, pod *corev1.Pod) {
	resetSchedulerName(pod, app.Spec.Driver.SchedulerName)
}

// MutateExecutorTemplate makes every executor created from the template of submission res join the
// executors' PodGroup: spec.schedulingGroup.podGroupName = ExecutorPodGroupName(app, res). Spark keeps fields of the template it
// does not know about when it creates an executor from it (the fabric8 model keeps them as additional
// properties). As MutateDriverPod, it undoes a schedulerName of "kubernetes" (spec.executor.schedulerName
// when set, else kube-scheduler's default profile): every pod of a group must have the same
// schedulerName. With no executors (gang size 0) only the scheduler name is changed. It returns
// ExecutorGangSize's error.
func MutateExecutorTemplate(app *v1beta2.SparkApplication, res *submission.Resources, pod *corev1.Pod) error {
	resetSchedulerName(pod, app.Spec.Executor.SchedulerName)
	n, err := ExecutorGangSize(res.Conf)
	if err != nil || n == 0 {
		return err
	}
	pod.Spec.SchedulingGroup = &corev1.PodSchedulingGroup{PodGroupName: ptr.To(ExecutorPodGroupName(app, res))}
	return nil
}

// resetSchedulerName replaces a schedulerName of Name by the pod's own (spec.{driver,executor}.schedulerName)
// or, without one, by "" (kube-apiserver then defaults it to "default-scheduler").
func resetSchedulerName(pod *corev1.Pod, own *string) {
	if pod.Spec.SchedulerName != Name {
		return
	}
	pod.Spec.SchedulerName = ptr.Deref(own, "")
}

// Cleanup deletes the application's Workloads and PodGroups (those labelled with its name and
// created-by-spark-operator in its namespace), except those of submission keepSubmissionID: call it
// with "" when the application terminates, and with the new submission's ID after a resubmission to
// drop the objects of earlier ones. Deleting a PodGroup whose pods still run only marks it:
// kube-apiserver's PodGroupProtection admission gives every PodGroup the finalizer
// scheduling.k8s.io/podgroup-protection, which kube-controller-manager's podgroup-protection
// controller removes once no pod that is not terminated refers to the group. It needs list and delete
// on both resources; objects already gone are not an error.
func Cleanup(ctx context.Context, c client.Client, app *v1beta2.SparkApplication, keepSubmissionID string) error {
	sel := client.MatchingLabels{v1beta2.LabelAppName: app.Name, v1beta2.LabelCreatedBySparkOperator: "true"}
	var errs []error
	for _, list := range []client.ObjectList{&schedulingv1alpha2.PodGroupList{}, &schedulingv1alpha2.WorkloadList{}} {
		if err := c.List(ctx, list, client.InNamespace(app.Namespace), sel); err != nil {
			errs = append(errs, err)
			continue
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, item := range items {
			o, ok := item.(client.Object)
			if !ok || (keepSubmissionID != "" && o.GetLabels()[v1beta2.LabelSubmissionID] == keepSubmissionID) {
				continue
			}
			if o.GetDeletionTimestamp() != nil {
				continue
			}
			if err := c.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
				errs = append(errs, fmt.Errorf("deleting %T %s: %w", o, o.GetName(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// Scheduler is the "kubernetes" batch scheduler of the operator's framework (internal/batchscheduler):
// it hands a submission to the functions of this package. Its zero value is ready to use.
type Scheduler struct{}

var (
	_ batchscheduler.Scheduler     = Scheduler{}
	_ batchscheduler.PerSubmission = Scheduler{}
	_ batchscheduler.APIRequirer   = Scheduler{}
)

// Name implements batchscheduler.Scheduler.
func (Scheduler) Name() string { return Name }

// Prepare implements batchscheduler.Scheduler: Objects (the Workload, then the executors' PodGroup,
// or none without executors), MutateDriverPod and MutateExecutorTemplate. Validate's refusals are its
// errors (a *submission.FieldError naming the field).
func (Scheduler) Prepare(app *v1beta2.SparkApplication, pods *batchscheduler.Pods) ([]client.Object, error) {
	res := &submission.Resources{Conf: pods.Conf, DriverPod: pods.Driver}
	objs, err := Objects(app, res)
	if err != nil {
		return nil, err
	}
	MutateDriverPod(app, pods.Driver)
	if err := MutateExecutorTemplate(app, res, pods.ExecutorTemplate); err != nil {
		return nil, err
	}
	return objs, nil
}

// Cleanup implements batchscheduler.Scheduler: none by name, since the objects are per submission;
// the controller calls Sweep instead (batchscheduler.PerSubmission).
func (Scheduler) Cleanup(*v1beta2.SparkApplication) []client.Object { return nil }

// Sweep implements batchscheduler.PerSubmission with Cleanup.
func (Scheduler) Sweep(ctx context.Context, c client.Client, app *v1beta2.SparkApplication, keepSubmissionID string) error {
	return Cleanup(ctx, c, app, keepSubmissionID)
}

// Requires implements batchscheduler.APIRequirer: the feature gates and runtime-config of
// docs/batch-scheduling.md (Kubernetes 1.36 only).
func (Scheduler) Requires() string {
	return "Kubernetes 1.36 with kube-apiserver --feature-gates=GenericWorkload=true --runtime-config=scheduling.k8s.io/v1alpha2=true, " +
		"kube-scheduler --feature-gates=GenericWorkload=true,GangScheduling=true and kube-controller-manager --feature-gates=GenericWorkload=true"
}
