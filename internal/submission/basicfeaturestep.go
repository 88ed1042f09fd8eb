package submission

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// What BasicDriverFeatureStep (basicdriverfeaturestep.go) and BasicExecutorFeatureStep
// (executorpod.go) do alike to the Spark container: CPU, memory with its overhead, custom resources,
// and the node selector. Each caller keeps Spark's order of the checks.

// initResources makes sure the container's requests and limits can be written.
func initResources(c *corev1.Container) {
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
}

// setCPU sets the CPU request (request cores, else cores, else 1) and the CPU limit (limit cores,
// when set). A value that is not a quantity is a *FieldError on <field>.cores or <field>.coreLimit.
func setCPU(c *corev1.Container, conf Conf, k roleKeys) error {
	cpu := firstNonEmpty(conf[k.requestCores], conf[k.cores], defaultCores)
	q, err := resource.ParseQuantity(cpu)
	if err != nil {
		return fieldError(k.field+".cores", "CPU request %q is not a quantity: %v", cpu, err)
	}
	c.Resources.Requests[corev1.ResourceCPU] = q
	if l := conf[k.limitCores]; l != "" {
		q, err := resource.ParseQuantity(l)
		if err != nil {
			return fieldError(k.field+".coreLimit", "%q is not a CPU quantity: %v", l, err)
		}
		c.Resources.Limits[corev1.ResourceCPU] = q
	}
	return nil
}

// memoryWithOverheadMiB is the role's memory plus its overhead in MiB: the overhead is
// spark.<role>.memoryOverhead when set, else max(factor x memory, minimum), where the minimum is
// spark.<role>.minMemoryOverhead on Spark 4.0+ and 384 MiB otherwise. factor is called after the
// memory is read, so that errors come in Spark's order.
func memoryWithOverheadMiB(conf Conf, k roleKeys, sparkVersion string, factor func() (float64, error)) (int64, error) {
	memMiB, err := parseSparkMemory(firstNonEmpty(conf[k.memory], defaultMemory), "m")
	if err != nil {
		return 0, fieldError(k.field+".memory", "%v", err)
	}
	f, err := factor()
	if err != nil {
		return 0, err
	}
	var explicit *int64
	if o := conf[k.overhead]; o != "" {
		v, err := parseSparkMemory(o, "m")
		if err != nil {
			return 0, fieldError(k.field+".memoryOverhead", "%v", err)
		}
		explicit = &v
	}
	minMiB := int64(minMemoryOverheadMiB)
	if m := conf[k.minOverhead]; m != "" && sparkVersionAtLeast(sparkVersion, 4, 0) {
		if minMiB, err = parseSparkMemory(m, "m"); err != nil {
			return 0, fieldError("spec.sparkConf", "%s: %v", k.minOverhead, err)
		}
	}
	return memMiB + memoryOverheadMiB(memMiB, f, explicit, minMiB), nil
}

// setMemory sets the memory request and limit, both totalMiB.
func setMemory(c *corev1.Container, totalMiB int64) {
	mem := resource.MustParse(strconv.FormatInt(totalMiB, 10) + "Mi")
	c.Resources.Requests[corev1.ResourceMemory] = mem
	c.Resources.Limits[corev1.ResourceMemory] = mem
}

// addCustomResources adds spark.<role>.resource.<name>.{amount,vendor} to the limits as
// "<vendor>/<name>". A resource without a vendor is a *FieldError when vendorRequired (the driver),
// else skipped (Spark ignores it for executors on Kubernetes).
func addCustomResources(c *corev1.Container, conf Conf, k roleKeys, vendorRequired bool) error {
	amounts, vendors := map[string]string{}, map[string]string{}
	for _, e := range conf.withPrefix(k.resource) {
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
		vendor := vendors[name]
		if vendor == "" {
			if !vendorRequired {
				continue
			}
			return fieldError("spec.sparkConf", "%s%s.vendor is required when %s%s.amount is set", k.resource, name, k.resource, name)
		}
		q, err := resource.ParseQuantity(amounts[name])
		if err != nil {
			return fieldError("spec.sparkConf", "%s%s.amount %q is not a quantity", k.resource, name, amounts[name])
		}
		c.Resources.Limits[corev1.ResourceName(vendor+"/"+name)] = q
	}
	return nil
}

// addNodeSelector merges spark.kubernetes.node.selector.* and then the role's own node selector
// keys into the pod's node selector.
func addNodeSelector(pod *corev1.Pod, conf Conf, k roleKeys) {
	for _, prefix := range []string{prefixNodeSelector, k.nodeSelector} {
		for _, e := range conf.withPrefix(prefix) {
			pod.Spec.NodeSelector = mergeMaps(pod.Spec.NodeSelector, map[string]string{e.key: e.value})
		}
	}
}
