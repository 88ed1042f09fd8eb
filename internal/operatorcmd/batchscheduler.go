package operatorcmd

import (
	"errors"

	"github.com/spf13/pflag"

	"github.com/sparkop/spark-operator/internal/batchscheduler"
	"github.com/sparkop/spark-operator/internal/batchscheduler/coscheduling"
	"github.com/sparkop/spark-operator/internal/batchscheduler/kubernetes"
	"github.com/sparkop/spark-operator/internal/batchscheduler/volcano"
	"github.com/sparkop/spark-operator/internal/batchscheduler/yunikorn"
)

// batchSchedulerFlags are Kubeflow's batch scheduler flags, shared by `controller start` and
// `render`.
type batchSchedulerFlags struct {
	enable             bool
	defaultName        string
	kubeSchedulerNames []string
}

// addBatchSchedulerFlags registers the flags on fs and returns where they land.
func addBatchSchedulerFlags(fs *pflag.FlagSet) *batchSchedulerFlags {
	b := &batchSchedulerFlags{}
	fs.BoolVar(&b.enable, "enable-batch-scheduler", false, "hand applications to batch schedulers: volcano, yunikorn, kubernetes (Kubernetes 1.36's gang scheduling) and the --kube-scheduler-names (creates their pod groups; needs their CRDs and RBAC)")
	fs.StringVar(&b.defaultName, "default-batch-scheduler", "", "batch scheduler of applications without spec.batchScheduler (needs --enable-batch-scheduler)")
	fs.StringSliceVar(&b.kubeSchedulerNames, "kube-scheduler-names", nil, "names of kube-schedulers running the scheduler-plugins coscheduling plugin, accepted as spec.batchScheduler (needs --enable-batch-scheduler)")
	return b
}

// registry builds the batch scheduler registry the flags ask for: nil when batch scheduling is off.
// The default and the kube-scheduler names need --enable-batch-scheduler (Kubeflow's chart passes
// them only then), and the default must be a handled scheduler. nil flags are batch scheduling off.
func (b *batchSchedulerFlags) registry() (*batchscheduler.Registry, error) {
	if b == nil {
		return nil, nil
	}
	if !b.enable {
		if b.defaultName != "" || len(b.kubeSchedulerNames) > 0 {
			return nil, errors.New("--default-batch-scheduler and --kube-scheduler-names need --enable-batch-scheduler")
		}
		return nil, nil
	}
	schedulers := []batchscheduler.Scheduler{volcano.Scheduler{}, yunikorn.Scheduler{}, kubernetes.Scheduler{}}
	for _, name := range b.kubeSchedulerNames {
		if name == "" {
			continue
		}
		schedulers = append(schedulers, coscheduling.Scheduler{SchedulerName: name})
	}
	return batchscheduler.NewRegistry(b.defaultName, schedulers...)
}
