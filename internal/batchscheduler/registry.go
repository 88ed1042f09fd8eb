package batchscheduler

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// Registry holds the schedulers the operator handles (--enable-batch-scheduler) and the one used
// when an application names none (--default-batch-scheduler). A nil *Registry is batch scheduling
// switched off: no application is handed to a scheduler, and Resolve says so for those that ask.
type Registry struct {
	byName      map[string]Scheduler
	defaultName string
}

// NewRegistry returns a registry of schedulers with defaultName ("" for none) as the default. It
// fails when two schedulers have the same name or when no scheduler is named defaultName (Kubeflow's
// operator refuses to start then, too).
func NewRegistry(defaultName string, schedulers ...Scheduler) (*Registry, error) {
	r := &Registry{byName: map[string]Scheduler{}, defaultName: defaultName}
	for _, s := range schedulers {
		if _, dup := r.byName[s.Name()]; dup {
			return nil, fmt.Errorf("batch scheduler %q is registered twice", s.Name())
		}
		r.byName[s.Name()] = s
	}
	if defaultName != "" && r.byName[defaultName] == nil {
		return nil, fmt.Errorf("--default-batch-scheduler %q is not one of the batch schedulers handled: %s", defaultName, strings.Join(r.Names(), ", "))
	}
	return r, nil
}

// Names lists the handled schedulers' names, sorted; nil when batch scheduling is off.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Default is the name of the default scheduler, "" for none.
func (r *Registry) Default() string {
	if r == nil {
		return ""
	}
	return r.defaultName
}

// NotHandledError says that spec.batchScheduler names a scheduler the operator does not handle while
// batch scheduling is on: the application cannot be submitted (as in Kubeflow's operator, where it
// ends SUBMISSION_FAILED "failed to get scheduler").
type NotHandledError struct {
	Name    string
	Handled []string
}

func (e *NotHandledError) Error() string {
	return fmt.Sprintf("spec.batchScheduler: %q is not a batch scheduler this operator handles (handled: %s; kube-scheduler names come from --kube-scheduler-names)",
		e.Name, strings.Join(e.Handled, ", "))
}

// Resolve picks the scheduler for app: spec.batchScheduler, else the default. It returns nil when
// the application goes to no batch scheduler, with a notice when that leaves part of its spec without
// effect (a spec.batchScheduler while batch scheduling is off only sets the pods' schedulerName, and
// spec.batchSchedulerOptions without any scheduler is read by nothing); the controller records the
// notice as a Warning event and sparkctl lint reports the same cases. A name that is not handled
// while batch scheduling is on is a *NotHandledError.
func (r *Registry) Resolve(app *v1beta2.SparkApplication) (s Scheduler, notice string, err error) {
	requested := ""
	if app.Spec.BatchScheduler != nil {
		requested = *app.Spec.BatchScheduler
	}
	if r == nil {
		switch {
		case requested != "":
			return nil, fmt.Sprintf("spec.batchScheduler %q only sets the pods' schedulerName: batch scheduling is off in this operator (--enable-batch-scheduler=false), so no pod group is created%s",
				requested, optionsIgnored(app)), nil
		case app.Spec.BatchSchedulerOptions != nil:
			return nil, "spec.batchSchedulerOptions is ignored: batch scheduling is off in this operator (--enable-batch-scheduler=false)", nil
		}
		return nil, "", nil
	}
	name := requested
	if name == "" {
		name = r.defaultName
	}
	if name == "" {
		if app.Spec.BatchSchedulerOptions != nil {
			return nil, "spec.batchSchedulerOptions is ignored: spec.batchScheduler is empty and the operator has no --default-batch-scheduler", nil
		}
		return nil, "", nil
	}
	s = r.byName[name]
	if s == nil {
		return nil, "", &NotHandledError{Name: name, Handled: r.Names()}
	}
	return s, "", nil
}

func optionsIgnored(app *v1beta2.SparkApplication) string {
	if app.Spec.BatchSchedulerOptions == nil {
		return ""
	}
	return " and spec.batchSchedulerOptions is ignored"
}

// Handles reports whether name is a scheduler of the registry.
func (r *Registry) Handles(name string) bool {
	return r != nil && slices.Contains(r.Names(), name)
}
