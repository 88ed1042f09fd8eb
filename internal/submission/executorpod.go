package submission

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	memMiB, err := parseSparkMemory(firstNonEmpty(conf[keyExecutorMemory], defaultMemory), "m")
	if err != nil {
		return nil, fieldError("spec.executor.memory", "%v", err)
	}
	factor := jvmMemoryOverheadFactor
	if f := firstNonEmpty(conf[keyExecutorOverheadFactor], conf[keyMemoryOverheadFactor]); f != "" {
		if factor, err = strconv.ParseFloat(f, 64); err != nil || factor <= 0 {
			return nil, fieldError("spec.sparkConf", "memory overhead factor %q is not a positive number", f)
		}
	}
	var explicit *int64
	if o := conf[keyExecutorMemoryOverhead]; o != "" {
		v, err := parseSparkMemory(o, "m")
		if err != nil {
			return nil, fieldError("spec.executor.memoryOverhead", "%v", err)
		}
		explicit = &v
	}
	minMiB := int64(minMemoryOverheadMiB)
	if m := conf[keyExecutorMinOverhead]; m != "" && sparkVersionAtLeast(r.sparkVersion, 4, 0) {
		if minMiB, err = parseSparkMemory(m, "m"); err != nil {
			return nil, fieldError("spec.sparkConf", "%s: %v", keyExecutorMinOverhead, err)
		}
	}
	total := memMiB + memoryOverheadMiB(memMiB, factor, explicit, minMiB)
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
	mem := resource.MustParse(strconv.FormatInt(total, 10) + "Mi")
	c.Resources.Requests[corev1.ResourceMemory] = mem
	c.Resources.Limits[corev1.ResourceMemory] = mem

	cpu := firstNonEmpty(conf[keyExecutorRequestCores], conf[keyExecutorCores], defaultCores)
	q, err := resource.ParseQuantity(cpu)
	if err != nil {
		return nil, fieldError("spec.executor.cores", "CPU request %q is not a quantity: %v", cpu, err)
	}
	c.Resources.Requests[corev1.ResourceCPU] = q
	if l := conf[keyExecutorLimitCores]; l != "" {
		q, err := resource.ParseQuantity(l)
		if err != nil {
			return nil, fieldError("spec.executor.coreLimit", "%q is not a CPU quantity: %v", l, err)
		}
		c.Resources.Limits[corev1.ResourceCPU] = q
	}
	for _, prefix := range []string{prefixNodeSelector, prefixExecNodeSelector} {
		for _, e := range conf.withPrefix(prefix) {
			pod.Spec.NodeSelector = mergeMaps(pod.Spec.NodeSelector, map[string]string{e.key: e.value})
		}
	}
	amounts, vendors := map[string]string{}, map[string]string{}
	for _, e := range conf.withPrefix(prefixExecutorResource) {
		name, prop, ok := strings.Cut(e.key, ".")
		if !ok {
			continue
		}
		switch prop {
		case "amount":
			amounts[name] = e.value
		case "vendor":
			vendors[name] = e.value
		}
	}
	for _, name := range sortedKeys(amounts) {
		if vendors[name] == "" {
			continue // Spark ignores a resource without a vendor on Kubernetes
		}
		q, err := resource.ParseQuantity(amounts[name])
		if err != nil {
			return nil, fieldError("spec.sparkConf", "%s%s.amount %q is not a quantity", prefixExecutorResource, name, amounts[name])
		}
		c.Resources.Limits[corev1.ResourceName(vendors[name]+"/"+name)] = q
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
