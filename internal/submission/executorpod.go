package submission

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// ExecutorPod returns the shape of the executor pods the driver will create from these resources,
// for sizing (ResourceQuota checks), not for creating: the executor pod template with the Spark
// container's requests and limits set as Spark's BasicExecutorFeatureStep sets them from the
// configuration: cpu request = spark.kubernetes.executor.request.cores, else spark.executor.cores;
// cpu limit = spark.kubernetes.executor.limit.cores when set; memory request = limit =
// spark.executor.memory + overhead (spark.executor.memoryOverhead, else max(factor x memory,
// minimum), factor = spark.executor.memoryOverheadFactor, else spark.kubernetes.memoryOverheadFactor)
// + spark.executor.pyspark.memory; spark.executor.resource.<name>.{amount,vendor} as the limit
// <vendor>/<name>. It fails only on settings the driver would refuse too.
func (r *Resources) ExecutorPod() (*corev1.Pod, error) {
	pod := &corev1.Pod{}
	if r.ExecutorTemplateConfigMap != nil {
		if err := yaml.Unmarshal([]byte(r.ExecutorTemplateConfigMap.Data[podTemplateKey]), pod); err != nil {
			return nil, fmt.Errorf("reading the executor pod template: %w", err)
		}
	}
	conf := r.Conf
	idx := 0
	for i, c := range pod.Spec.Containers {
		if c.Name == conf[keyExecutorTemplateName] {
			idx = i
		}
	}
	if len(pod.Spec.Containers) == 0 {
		pod.Spec.Containers = []corev1.Container{{Name: executorContainerName}}
	}
	c := &pod.Spec.Containers[idx]
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	cpu := firstNonEmpty(conf[keyExecutorRequestCores], conf[keyExecutorCores], defaultCores)
	q, err := resource.ParseQuantity(cpu)
	if err != nil {
		return nil, fmt.Errorf("executor CPU request %q: %w", cpu, err)
	}
	c.Resources.Requests[corev1.ResourceCPU] = q
	if l := conf[keyExecutorLimitCores]; l != "" {
		if q, err = resource.ParseQuantity(l); err != nil {
			return nil, fmt.Errorf("executor CPU limit %q: %w", l, err)
		}
		c.Resources.Limits[corev1.ResourceCPU] = q
	}

	memMiB, err := parseSparkMemory(firstNonEmpty(conf[keyExecutorMemory], defaultMemory), "m")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyExecutorMemory, err)
	}
	factor := jvmMemoryOverheadFactor
	for _, key := range []string{keyMemoryOverheadFactor, "spark.executor.memoryOverheadFactor"} {
		if f := conf[key]; f != "" {
			if factor, err = strconv.ParseFloat(f, 64); err != nil {
				return nil, fmt.Errorf("%s=%q: %w", key, f, err)
			}
		}
	}
	var explicit *int64
	if o := conf[keyExecutorMemoryOverhead]; o != "" {
		v, err := parseSparkMemory(o, "m")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", keyExecutorMemoryOverhead, err)
		}
		explicit = &v
	}
	minMiB := int64(minMemoryOverheadMiB)
	if m := conf["spark.executor.minMemoryOverhead"]; m != "" && r.DriverPod != nil && sparkVersionAtLeast(r.DriverPod.Labels[v1beta2.LabelSparkVersion], 4, 0) {
		if minMiB, err = parseSparkMemory(m, "m"); err != nil {
			return nil, fmt.Errorf("spark.executor.minMemoryOverhead: %w", err)
		}
	}
	total := memMiB + memoryOverheadMiB(memMiB, factor, explicit, minMiB)
	if p := conf["spark.executor.pyspark.memory"]; p != "" {
		v, err := parseSparkMemory(p, "m")
		if err != nil {
			return nil, fmt.Errorf("spark.executor.pyspark.memory: %w", err)
		}
		total += v
	}
	mem := resource.MustParse(strconv.FormatInt(total, 10) + "Mi")
	c.Resources.Requests[corev1.ResourceMemory] = mem
	c.Resources.Limits[corev1.ResourceMemory] = mem

	const prefix = "spark.executor.resource."
	for _, e := range conf.withPrefix(prefix) {
		name, prop, ok := strings.Cut(e.key, ".")
		if !ok || prop != "amount" {
			continue
		}
		vendor := conf[prefix+name+".vendor"]
		if vendor == "" {
			continue
		}
		if q, err := resource.ParseQuantity(e.value); err == nil {
			c.Resources.Limits[corev1.ResourceName(vendor+"/"+name)] = q
		}
	}
	return pod, nil
}

// ExecutorInstances is how many executors the application starts with: spark.executor.instances, or
// with dynamic allocation Spark's initial target, the largest of minExecutors, initialExecutors and
// spark.executor.instances.
func (r *Resources) ExecutorInstances() int64 {
	n, _ := strconv.ParseInt(r.Conf[keyExecutorInstances], 10, 64)
	if r.Conf[keyDAEnabled] == "true" {
		for _, key := range []string{keyDAMin, keyDAInitial} {
			if v, err := strconv.ParseInt(r.Conf[key], 10, 64); err == nil && v > n {
				n = v
			}
		}
	}
	return n
}
