package conformance_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// This file builds the spark-submit command line that Kubeflow's operator would run for a
// SparkApplication, from section 2 of /work/shared/reference/kubeflow-spark-operator-v1beta2.md
// ("Argument builder order"). It is written from that description and from the SparkApplication
// alone, independently of internal/submission/conf.go, so that the comparison checks conf.go too.
//
// Kubeflow iterates Go maps, so its --conf order is random; here map keys are sorted. Order does not
// matter to spark-submit except for a key given twice (the last wins), which the builder keeps in
// Kubeflow's option order.

// kubeflowArgs are the arguments of spark-submit, and the pod template files Kubeflow writes next to
// them (nil when it writes none).
type kubeflowArgs struct {
	args []string
	// driverTemplate and executorTemplate are the pod templates Kubeflow always writes for Spark >= 3.0
	// (spec.{driver,executor}.template plus an owner reference to the application); the caller writes
	// them to the files named in the args.
	driverTemplate, executorTemplate *corev1.Pod
}

// kubeflowDefaults applies what Kubeflow's defaulting webhook does to the spec before submission:
// driver/executor cores 1 and memory 1g unless set in sparkConf, one executor unless dynamic allocation
// is on or spark.executor.instances is set.
func kubeflowDefaults(app *v1beta2.SparkApplication) {
	s := &app.Spec
	one, oneG := int32(1), "1g"
	if s.Driver.Cores == nil && s.SparkConf["spark.driver.cores"] == "" {
		s.Driver.Cores = &one
	}
	if s.Driver.Memory == nil && s.SparkConf["spark.driver.memory"] == "" {
		s.Driver.Memory = &oneG
	}
	if s.Executor.Cores == nil && s.SparkConf["spark.executor.cores"] == "" {
		s.Executor.Cores = &one
	}
	if s.Executor.Memory == nil && s.SparkConf["spark.executor.memory"] == "" {
		s.Executor.Memory = &oneG
	}
	da := s.DynamicAllocation != nil && s.DynamicAllocation.Enabled
	if s.Executor.Instances == nil && !da && s.SparkConf["spark.executor.instances"] == "" {
		s.Executor.Instances = &one
	}
}

// buildKubeflowArgs returns the spark-submit arguments for app, submission id submissionID, as
// Kubeflow's buildSparkSubmitArgs would produce them with master as --master. templateDir is where
// the pod template files go.
func buildKubeflowArgs(app *v1beta2.SparkApplication, master, submissionID, templateDir string) (*kubeflowArgs, error) {
	s := &app.Spec
	out := &kubeflowArgs{}
	var a []string
	conf := func(k, v string) { a = append(a, "--conf", k+"="+v) }
	sorted := func(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

	// master, deploy-mode, mainClass, name.
	a = append(a, "--master", master, "--deploy-mode", "cluster")
	if s.MainClass != nil {
		a = append(a, "--class", *s.MainClass)
	}
	a = append(a, "--name", app.Name)
	// dependencies.
	for _, d := range []struct {
		flag  string
		items []string
	}{
		{"--jars", s.Deps.Jars}, {"--packages", s.Deps.Packages}, {"--exclude-packages", s.Deps.ExcludePackages},
		{"--repositories", s.Deps.Repositories}, {"--py-files", s.Deps.PyFiles}, {"--files", s.Deps.Files},
		{"--archives", s.Deps.Archives},
	} {
		if len(d.items) > 0 {
			a = append(a, d.flag, strings.Join(d.items, ","))
		}
	}
	// namespace, image, pythonVersion, memoryOverheadFactor, waitAppCompletion.
	conf("spark.kubernetes.namespace", app.Namespace)
	if s.Image != nil {
		conf("spark.kubernetes.container.image", *s.Image)
	}
	if s.ImagePullPolicy != nil {
		conf("spark.kubernetes.container.image.pullPolicy", *s.ImagePullPolicy)
	}
	if len(s.ImagePullSecrets) > 0 {
		conf("spark.kubernetes.container.image.pullSecrets", strings.Join(s.ImagePullSecrets, ","))
	}
	if s.PythonVersion != nil {
		conf("spark.kubernetes.pyspark.pythonVersion", *s.PythonVersion)
	}
	if s.MemoryOverheadFactor != nil {
		conf("spark.kubernetes.memoryOverheadFactor", *s.MemoryOverheadFactor)
	}
	conf("spark.kubernetes.submission.waitAppCompletion", "false")
	// sparkConf, hadoopConf, driver pod name.
	for _, k := range sorted(s.SparkConf) {
		conf(k, s.SparkConf[k])
	}
	for _, k := range sorted(s.HadoopConf) {
		conf("spark.hadoop."+k, s.HadoopConf[k])
	}
	podName := app.Name + "-driver"
	if v := s.SparkConf["spark.kubernetes.driver.pod.name"]; v != "" {
		podName = v
	}
	if s.Driver.PodName != nil && *s.Driver.PodName != "" {
		podName = *s.Driver.PodName
	}
	conf("spark.kubernetes.driver.pod.name", podName)

	// driverConf, driverEnv, driverSecret, driverVolumeMounts.
	roleConf := func(role string, ps *v1beta2.SparkPodSpec) {
		lp := "spark.kubernetes." + role + ".label."
		conf(lp+v1beta2.LabelAppName, app.Name)
		conf(lp+v1beta2.LabelLaunchedBySparkOperator, "true")
		if ps.Template == nil {
			conf(lp+v1beta2.LabelMutatedBySparkOperator, "true")
		}
		conf(lp+v1beta2.LabelSubmissionID, submissionID)
	}
	d := &s.Driver
	roleConf("driver", &d.SparkPodSpec)
	podResources(conf, "driver", &d.SparkPodSpec, d.CoreRequest)
	confOpt(conf, "spark.driver.extraJavaOptions", d.JavaOptions)
	confOpt(conf, "spark.kubernetes.driver.master", d.KubernetesMaster)
	labels := func(prefix string, role map[string]string) {
		for _, k := range sorted(app.Labels) {
			if !strings.HasPrefix(k, "kueue.x-k8s.io/") {
				conf(prefix+k, app.Labels[k])
			}
		}
		for _, k := range sorted(role) {
			conf(prefix+k, role[k])
		}
	}
	labels("spark.kubernetes.driver.label.", d.Labels)
	for _, k := range sorted(d.Annotations) {
		conf("spark.kubernetes.driver.annotation."+k, d.Annotations[k])
	}
	for _, k := range sorted(d.ServiceLabels) {
		conf("spark.kubernetes.driver.service.label."+k, d.ServiceLabels[k])
	}
	for _, k := range sorted(d.ServiceAnnotations) {
		conf("spark.kubernetes.driver.service.annotation."+k, d.ServiceAnnotations[k])
	}
	for _, k := range slices.Sorted(maps.Keys(d.EnvSecretKeyRefs)) {
		conf("spark.kubernetes.driver.secretKeyRef."+k, d.EnvSecretKeyRefs[k].Name+":"+d.EnvSecretKeyRefs[k].Key)
	}
	for _, k := range sorted(d.EnvVars) {
		conf("spark.kubernetes.driverEnv."+k, d.EnvVars[k])
	}
	secrets := func(secretPrefix, envPrefix string, list []v1beta2.SecretInfo) {
		for _, sec := range list {
			conf(secretPrefix+sec.Name, sec.Path)
			switch sec.Type {
			case v1beta2.SecretTypeGCPServiceAccount:
				conf(envPrefix+"GOOGLE_APPLICATION_CREDENTIALS", sec.Path+"/key.json")
			case v1beta2.SecretTypeHadoopDelegationToken:
				conf(envPrefix+"HADOOP_TOKEN_FILE_LOCATION", sec.Path+"/hadoop.token")
			}
		}
	}
	secrets("spark.kubernetes.driver.secrets.", "spark.kubernetes.driverEnv.", d.Secrets)
	if err := localDirVolumes(conf, "spark.kubernetes.driver.volumes.", s.Volumes, d.VolumeMounts); err != nil {
		return nil, err
	}

	// executorConf, executorEnv, executorSecret, executorVolumeMounts.
	e := &s.Executor
	roleConf("executor", &e.SparkPodSpec)
	confOpt(conf, "spark.executor.instances", e.Instances)
	podResources(conf, "executor", &e.SparkPodSpec, e.CoreRequest)
	confOpt(conf, "spark.kubernetes.executor.deleteOnTermination", e.DeleteOnTermination)
	labels("spark.kubernetes.executor.label.", e.Labels)
	for _, k := range sorted(e.Annotations) {
		conf("spark.kubernetes.executor.annotation."+k, e.Annotations[k])
	}
	for _, k := range slices.Sorted(maps.Keys(e.EnvSecretKeyRefs)) {
		conf("spark.kubernetes.executor.secretKeyRef."+k, e.EnvSecretKeyRefs[k].Name+":"+e.EnvSecretKeyRefs[k].Key)
	}
	confOpt(conf, "spark.executor.extraJavaOptions", e.JavaOptions)
	for _, k := range sorted(e.EnvVars) {
		conf("spark.executorEnv."+k, e.EnvVars[k])
	}
	secrets("spark.kubernetes.executor.secrets.", "spark.executorEnv.", e.Secrets)
	if err := localDirVolumes(conf, "spark.kubernetes.executor.volumes.", s.Volumes, e.VolumeMounts); err != nil {
		return nil, err
	}

	// nodeSelector, dynamicAllocation.
	for _, k := range sorted(s.NodeSelector) {
		conf("spark.kubernetes.node.selector."+k, s.NodeSelector[k])
	}
	if da := s.DynamicAllocation; da != nil && da.Enabled {
		conf("spark.dynamicAllocation.enabled", "true")
		if da.InitialExecutors != nil {
			conf("spark.dynamicAllocation.initialExecutors", fmt.Sprint(*da.InitialExecutors))
		}
		if da.MinExecutors != nil {
			conf("spark.dynamicAllocation.minExecutors", fmt.Sprint(*da.MinExecutors))
		}
		if da.MaxExecutors != nil {
			conf("spark.dynamicAllocation.maxExecutors", fmt.Sprint(*da.MaxExecutors))
		}
		tracking := da.ShuffleTrackingEnabled == nil || *da.ShuffleTrackingEnabled
		conf("spark.dynamicAllocation.shuffleTracking.enabled", fmt.Sprint(tracking))
		if da.ShuffleTrackingTimeout != nil {
			conf("spark.dynamicAllocation.shuffleTracking.timeout", fmt.Sprint(*da.ShuffleTrackingTimeout))
		}
	}

	// Pod templates (Spark >= 3.0): the driver template carries a controller owner reference to the
	// application, the executor template a non-controller one (Kubeflow #2961).
	if templateDir != "" {
		owner := func(controller bool) []metav1.OwnerReference {
			return []metav1.OwnerReference{{APIVersion: v1beta2.GroupVersion.String(), Kind: "SparkApplication", Name: app.Name, UID: app.UID, Controller: &controller, BlockOwnerDeletion: &controller}}
		}
		out.driverTemplate = templatePod(d.Template.Template(), owner(true))
		out.executorTemplate = templatePod(e.Template.Template(), owner(false))
		conf("spark.kubernetes.driver.podTemplateFile", templateDir+"/driver-pod-template.yaml")
		conf("spark.kubernetes.driver.podTemplateContainerName", "spark-kubernetes-driver")
		conf("spark.kubernetes.executor.podTemplateFile", templateDir+"/executor-pod-template.yaml")
		conf("spark.kubernetes.executor.podTemplateContainerName", "spark-kubernetes-executor")
	}

	// proxyUser, main application file, arguments.
	if s.ProxyUser != nil && *s.ProxyUser != "" {
		a = append(a, "--proxy-user", *s.ProxyUser)
	}
	if s.MainApplicationFile != nil {
		a = append(a, *s.MainApplicationFile)
	}
	a = append(a, s.Arguments...)
	out.args = a
	return out, nil
}

// localDirVolumes passes the volumes mounted under spark-local-dir-* names as Spark volume properties,
// as Kubeflow's driverVolumeMounts/executorVolumeMounts options do.
func localDirVolumes(conf func(k, v string), prefix string, volumes []corev1.Volume, mounts []corev1.VolumeMount) error {
	for _, m := range mounts {
		if !strings.HasPrefix(m.Name, "spark-local-dir-") {
			continue
		}
		var vol *corev1.Volume
		for i := range volumes {
			if volumes[i].Name == m.Name {
				vol = &volumes[i]
			}
		}
		if vol == nil {
			return fmt.Errorf("volume mount %s has no volume", m.Name)
		}
		var typ string
		opts := map[string]string{}
		switch {
		case vol.EmptyDir != nil:
			typ = "emptyDir"
			if vol.EmptyDir.SizeLimit != nil {
				opts["sizeLimit"] = vol.EmptyDir.SizeLimit.String()
			}
			if vol.EmptyDir.Medium != "" {
				opts["medium"] = string(vol.EmptyDir.Medium)
			}
		case vol.HostPath != nil:
			typ = "hostPath"
			opts["path"] = vol.HostPath.Path
			if vol.HostPath.Type != nil && *vol.HostPath.Type != "" {
				opts["type"] = string(*vol.HostPath.Type)
			}
		case vol.NFS != nil:
			typ = "nfs"
			opts["path"], opts["server"] = vol.NFS.Path, vol.NFS.Server
			if vol.NFS.ReadOnly {
				opts["readOnly"] = "true"
			}
		case vol.PersistentVolumeClaim != nil:
			typ = "persistentVolumeClaim"
			opts["claimName"] = vol.PersistentVolumeClaim.ClaimName
			if vol.PersistentVolumeClaim.ReadOnly {
				opts["readOnly"] = "true"
			}
		default:
			return fmt.Errorf("volume %s: unsupported type for a local dir", vol.Name)
		}
		base := prefix + typ + "." + vol.Name + "."
		conf(base+"mount.path", m.MountPath)
		if m.SubPath != "" {
			conf(base+"mount.subPath", m.SubPath)
		}
		if m.ReadOnly {
			conf(base+"mount.readOnly", "true")
		}
		for _, k := range slices.Sorted(maps.Keys(opts)) {
			conf(base+"options."+k, opts[k])
		}
	}
	return nil
}

// templatePod is a pod template file's content: the user's template (or an empty pod) with the owner
// references Kubeflow adds.
func templatePod(t *corev1.PodTemplateSpec, owners []metav1.OwnerReference) *corev1.Pod {
	pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}}
	if t != nil {
		pod.ObjectMeta = *t.ObjectMeta.DeepCopy()
		pod.Spec = *t.Spec.DeepCopy()
	}
	pod.OwnerReferences = append(pod.OwnerReferences, owners...)
	if pod.Spec.Containers == nil {
		// "containers: null" makes Spark's selectSparkContainer fail with a NullPointerException.
		pod.Spec.Containers = []corev1.Container{}
	}
	return pod
}

// confOpt sets key to *v (through fmt.Sprint) when the optional field v is set, as Kubeflow's
// argument builder does for each optional field of the driver and executor specs.
func confOpt[T any](conf func(key, value string), key string, v *T) {
	if v != nil {
		conf(key, fmt.Sprint(*v))
	}
}

// podResources sets, in Kubeflow's order, the image, cores, core request and limit, memory, memory
// overhead and service account of role ("driver" or "executor") that are set in p (coreRequest is
// not part of v1beta2.SparkPodSpec).
func podResources(conf func(key, value string), role string, p *v1beta2.SparkPodSpec, coreRequest *string) {
	confOpt(conf, "spark.kubernetes."+role+".container.image", p.Image)
	confOpt(conf, "spark."+role+".cores", p.Cores)
	confOpt(conf, "spark.kubernetes."+role+".request.cores", coreRequest)
	confOpt(conf, "spark.kubernetes."+role+".limit.cores", p.CoreLimit)
	confOpt(conf, "spark."+role+".memory", p.Memory)
	confOpt(conf, "spark."+role+".memoryOverhead", p.MemoryOverhead)
	confOpt(conf, "spark.kubernetes.authenticate."+role+".serviceAccountName", p.ServiceAccount)
}
