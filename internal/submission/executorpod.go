package submission

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// This file describes the executors the driver will create, for batch schedulers that must reserve
// room for them before the driver starts (internal/batchscheduler): what one executor pod requests
// and how many the driver asks for at start. The driver builds each executor from the executor pod
// template and the Spark configuration (Spark's BasicExecutorFeatureStep); the rules below are that
// step's, applied to the same conf the driver reads from spark.properties.

// Spark configuration keys read only here.
const (
	keyExecutorOverheadFactor = "spark.executor.memoryOverheadFactor"
	keyExecutorMinOverhead    = "spark.executor.minMemoryOverhead"
	keyPySparkMemory          = "spark.executor.pyspark.memory"
	keyOffHeapEnabled         = "spark.memory.offHeap.enabled"
	keyOffHeapSize            = "spark.memory.offHeap.size"
	prefixExecutorResource    = "spark.executor.resource."
	prefixExecNodeSelector    = "spark.kubernetes.executor.node.selector."
)

// sparkDefaultInstances is Spark's default number of executors when spark.executor.instances is not
// set (SchedulerBackendUtils.DEFAULT_NUMBER_EXECUTORS).
const sparkDefaultInstances = 2

// EditExecutorTemplate lets edit change the executor pod template (its metadata, scheduler name,
// ...) and writes the result back into ExecutorTemplateConfigMap, so that the driver creates its
// executors from the edited template. It is how batch schedulers label and annotate executors.
func (r *Resources) EditExecutorTemplate(edit func(template *corev1.Pod) error) error {
	if err := edit(r.ExecutorTemplate); err != nil {
		return err
	}
	text, err := cleanYAML(r.ExecutorTemplate)
	if err != nil {
		return fmt.Errorf("encoding the executor pod template: %w", err)
	}
	r.ExecutorTemplateConfigMap.Data[podTemplateKey] = string(text)
	return nil
}

// ExecutorPod returns the pod of one executor as the driver will create it, as far as scheduling is
// concerned: the executor pod template with the Spark container's requests and limits set as
// BasicExecutorFeatureStep sets them (memory = spark.executor.memory + overhead + off-heap memory when
// enabled + spark.executor.pyspark.memory for Python; cpu = spark.kubernetes.executor.request.cores,
// else spark.executor.cores; spark.kubernetes.executor.limit.cores; custom resources
// spark.executor.resource.<name>.{amount,vendor} in limits), and the node selector with
// spark.kubernetes.node.selector.* and spark.kubernetes.executor.node.selector.* added. Names, env
// and the rest of what the driver adds are left out. It returns a *FieldError when a setting cannot be read.
func (r *Resources) ExecutorPod() (*corev1.Pod, error) {
	pod := r.ExecutorTemplate.DeepCopy()
	c := &pod.Spec.Containers[0] // executorTemplate puts the Spark container first
	conf := r.Conf
	initResources(c)
	total, err := memoryWithOverheadMiB(conf, executorKeys, r.sparkVersion, func() (float64, error) {
		factor := jvmMemoryOverheadFactor
		if f := firstNonEmpty(conf[keyExecutorOverheadFactor], conf[keyMemoryOverheadFactor]); f != "" {
			var err error
			if factor, err = strconv.ParseFloat(f, 64); err != nil || factor <= 0 {
				return 0, fieldError("spec.sparkConf", "memory overhead factor %q is not a positive number", f)
			}
		}
		return factor, nil
	})
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(conf[keyOffHeapEnabled], "true") && conf[keyOffHeapSize] != "" {
		v, err := parseSparkMemory(conf[keyOffHeapSize], "b")
		if err != nil {
			return nil, fieldError("spec.sparkConf", "%s: %v", keyOffHeapSize, err)
		}
		total += v
	}
	if p := conf[keyPySparkMemory]; p != "" && conf[keyResourceType] == "python" {
		v, err := parseSparkMemory(p, "m")
		if err != nil {
			return nil, fieldError("spec.sparkConf", "%s: %v", keyPySparkMemory, err)
		}
		total += v
	}
	setMemory(c, total)
	if err := setCPU(c, conf, executorKeys); err != nil {
		return nil, err
	}
	addNodeSelector(pod, conf, executorKeys)
	if err := addCustomResources(c, conf, executorKeys, false); err != nil {
		return nil, err
	}
	return pod, nil
}

// InitialExecutors is how many executors the driver requests at start (Spark's
// SchedulerBackendUtils.getInitialTargetExecutorNumber): with dynamic allocation the largest of
// spark.dynamicAllocation.minExecutors, spark.dynamicAllocation.initialExecutors and
// spark.executor.instances, otherwise spark.executor.instances (2 when unset). An unreadable number
// counts as 0.
func (r *Resources) InitialExecutors() int32 {
	conf := r.Conf
	num := func(key string, def int) int32 {
		n, err := strconv.Atoi(strings.TrimSpace(conf[key]))
		if conf[key] == "" {
			return int32(def)
		}
		if err != nil || n < 0 {
			return 0
		}
		return int32(n)
	}
	if strings.EqualFold(conf[keyDAEnabled], "true") {
		return max(num(keyDAMin, 0), num(keyDAInitial, 0), num(keyExecutorInstances, 0))
	}
	return num(keyExecutorInstances, sparkDefaultInstances)
}
