package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sparkop/spark-operator/api/v1beta2"
	"github.com/sparkop/spark-operator/internal/batchscheduler/kubernetes"
	"github.com/sparkop/spark-operator/internal/batchscheduler/volcano"
	"github.com/sparkop/spark-operator/internal/batchscheduler/yunikorn"
)

// checkBatchScheduler reports batch scheduler settings that would not do what they say
// (docs/batch-scheduling.md): a spec.batchScheduler that the operator does not handle (volcano,
// yunikorn, kubernetes and the operator's --kube-scheduler-names, given to lint by the flag of that name),
// spec.batchSchedulerOptions without a spec.batchScheduler, options the chosen scheduler has no use
// for, and a driver start timeout annotation that is not a duration.
func (l *linter) checkBatchScheduler(kubeSchedulerNames []string) {
	s := l.spec
	name := ""
	if s.BatchScheduler != nil {
		name = *s.BatchScheduler
	}
	handled := append([]string{volcano.Name, yunikorn.Name, kubernetes.Name}, kubeSchedulerNames...)
	switch {
	case name != "" && !slices.Contains(handled, name):
		l.add(severityWarning, l.p+".batchScheduler", fmt.Sprintf("%q is not a batch scheduler the operator handles (%s)", name, strings.Join(handled, ", ")),
			"An operator with --enable-batch-scheduler refuses the application (SUBMISSION_FAILED), as Kubeflow's does; without it only the pods' schedulerName is set. If it is a kube-scheduler running the coscheduling plugin, give lint and the operator --kube-scheduler-names.")
	case name == "" && s.BatchSchedulerOptions != nil:
		l.add(severityWarning, l.p+".batchSchedulerOptions", "set without spec.batchScheduler",
			"The options are read only by the batch scheduler handling the application: unless the operator has a --default-batch-scheduler they are ignored (the operator records a Warning event). Set spec.batchScheduler.")
	case name == kubernetes.Name && s.BatchSchedulerOptions != nil:
		l.add(severityError, l.p+".batchSchedulerOptions", fmt.Sprintf("has no meaning for batchScheduler %q", name),
			"kube-scheduler's gang is a number of executor pods: it has no queue, no group priority and no group resources. The operator refuses the application rather than ignore them; use spec.driver/executor.priorityClassName, or Kueue for queues.")
	case name != "" && name != volcano.Name && name != yunikorn.Name && s.BatchSchedulerOptions != nil &&
		(s.BatchSchedulerOptions.Queue != nil || s.BatchSchedulerOptions.PriorityClassName != nil):
		l.add(severityError, l.p+".batchSchedulerOptions", fmt.Sprintf("queue and priorityClassName have no meaning for the coscheduling scheduler %q", name),
			"The scheduler-plugins PodGroup has minMember and minResources only; the operator refuses the application rather than ignore them. Keep only resources.")
	case name == yunikorn.Name && s.BatchSchedulerOptions != nil && s.BatchSchedulerOptions.PriorityClassName != nil:
		l.add(severityWarning, l.p+".batchSchedulerOptions.priorityClassName", "not read by YuniKorn",
			"YuniKorn takes the priority from the pods: set spec.driver.priorityClassName and spec.executor.priorityClassName instead.")
	}
	if l.a.App == nil {
		return
	}
	for _, key := range v1beta2.TimeoutAnnotations {
		if _, _, err := v1beta2.ParseTimeoutAnnotation(l.a.App.Annotations, key); err != nil {
			l.add(severityError, "metadata.annotations["+key+"]", fmt.Sprintf("%q is not a duration such as 30m or 2h", l.a.App.Annotations[key]),
				"The operator fails the submission. Use a Go duration, or 0 to wait without limit.")
		}
	}
}
