package submission

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// serviceStep is DriverServiceFeatureStep: the headless Service the executors reach the driver
// through, and spark.driver.host/port. Without the Service (wantService) spark.driver.host is the
// driver's pod IP, given on the command line (commandStep), and the ports are set as with it.
func (b *driverBuilder) serviceStep() error {
	if _, ok := b.conf[keyDriverBindAddress]; ok {
		return fieldError("spec.sparkConf", "sparkConf key %q is not allowed: the driver binds to its pod IP", keyDriverBindAddress)
	}
	if _, ok := b.app.Spec.SparkConf[keyDriverHost]; ok {
		return fieldError("spec.sparkConf", "sparkConf key %q is not allowed: the operator points it at the driver's Service or pod IP", keyDriverHost)
	}
	driverPort, _ := intConf(b.conf, keyDriverPort, defaultDriverPort)
	bmPort, err := intConf(b.conf, keyDriverBlockManagerPort, defaultBlockManagerPort)
	if err != nil {
		return err
	}
	b.conf[keyDriverPort] = strconv.Itoa(driverPort)
	b.conf[keyDriverBlockManagerPort] = strconv.Itoa(bmPort)
	if !b.wantService() {
		b.hostFromPodIP = true
		return nil
	}
	uiPort, _ := intConf(b.conf, keyUIPort, defaultUIPort)

	svcLabels := map[string]string{v1beta2.LabelSparkAppSelector: b.sub.AppID}
	for _, e := range b.conf.withPrefix(prefixDriverSvcLabel) {
		svcLabels[e.key] = e.value
	}
	for k, v := range operatorObjectLabels(b.app, b.sub) {
		svcLabels[k] = v
	}
	var annotations map[string]string
	for _, e := range b.conf.withPrefix(prefixDriverSvcAnnotation) {
		annotations = mergeMaps(annotations, map[string]string{e.key: e.value})
	}
	policy := corev1.IPFamilyPolicy(firstNonEmpty(b.conf[keyDriverServiceIPPolicy], string(corev1.IPFamilyPolicySingleStack)))
	var families []corev1.IPFamily
	for f := range strings.SplitSeq(firstNonEmpty(b.conf[keyDriverServiceIPFamilies], string(corev1.IPv4Protocol)), ",") {
		families = append(families, corev1.IPFamily(strings.TrimSpace(f)))
	}
	ports := []corev1.ServicePort{
		{Name: "driver-rpc-port", Port: int32(driverPort), TargetPort: intOrString(driverPort)},
		{Name: "blockmanager", Port: int32(bmPort), TargetPort: intOrString(bmPort)},
		{Name: "spark-ui", Port: int32(uiPort), TargetPort: intOrString(uiPort)},
	}
	if b.versionAtLeast(4, 1) {
		ports = append(ports, corev1.ServicePort{Name: "spark-connect", Port: 15002, TargetPort: intOrString(15002)})
	}
	b.res.DriverService = &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        b.names.driverService,
			Namespace:   b.app.Namespace,
			Labels:      svcLabels,
			Annotations: annotations,
		},
		Spec: corev1.ServiceSpec{
			ClusterIP:      corev1.ClusterIPNone,
			IPFamilyPolicy: &policy,
			IPFamilies:     families,
			Selector:       mergeMaps(nil, b.labels),
			Ports:          ports,
		},
	}
	b.conf[keyDriverHost] = b.names.driverService + "." + b.app.Namespace + ".svc"
	return nil
}

// wantService says whether the driver gets its headless Service: always with Options.DriverService,
// otherwise only when the application sets one of the Service's keys (its labels, annotations or IP
// families), which would have no effect without it.
func (b *driverBuilder) wantService() bool {
	if b.opts.DriverService {
		return true
	}
	if _, ok := b.conf[keyDriverServiceIPFamilies]; ok {
		return true
	}
	if _, ok := b.conf[keyDriverServiceIPPolicy]; ok {
		return true
	}
	return len(b.conf.withPrefix(prefixDriverSvcLabel)) > 0 || len(b.conf.withPrefix(prefixDriverSvcAnnotation)) > 0
}

// driverHostFromPodIP is the driver argument that sets spark.driver.host to the pod IP: Kubernetes
// expands $(SPARK_DRIVER_BIND_ADDRESS), the pod IP from the downward API (basicStep), in args.
const driverHostFromPodIP = keyDriverHost + "=$(SPARK_DRIVER_BIND_ADDRESS)"
