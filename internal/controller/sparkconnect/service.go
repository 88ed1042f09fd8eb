package sparkconnect

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sparkop/spark-operator/api/v1alpha1"
	"github.com/sparkop/spark-operator/api/v1beta2"
)

// clientService is the Service clients connect through: spec.server.service as given (name, labels,
// annotations, type, ports, ...), in the SparkConnect's namespace, owned by it, selecting the server
// pod, with the ports spark-connect-server (15002) and web-ui (4040) when the user gives none.
func clientService(conn *v1alpha1.SparkConnect) *corev1.Service {
	svc := &corev1.Service{}
	if conn.Spec.Server.Service != nil {
		svc = conn.Spec.Server.Service.DeepCopy()
	}
	svc.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}
	svc.ObjectMeta = metav1.ObjectMeta{
		Name: ServiceName(conn), Namespace: conn.Namespace,
		Labels: svc.Labels, Annotations: svc.Annotations,
		OwnerReferences: []metav1.OwnerReference{ownerRef(conn)},
	}
	if svc.Labels == nil {
		svc.Labels = map[string]string{}
	}
	svc.Labels[v1beta2.LabelCreatedBySparkOperator] = "true"
	svc.Labels[v1alpha1.LabelSparkConnectName] = conn.Name
	svc.Status = corev1.ServiceStatus{}
	if svc.Spec.Selector == nil {
		svc.Spec.Selector = map[string]string{}
	}
	svc.Spec.Selector[v1alpha1.LabelSparkConnectName] = conn.Name
	svc.Spec.Selector[v1beta2.LabelSparkRole] = v1alpha1.SparkRoleConnectServer
	if len(svc.Spec.Ports) == 0 {
		svc.Spec.Ports = []corev1.ServicePort{
			{Name: "spark-connect-server", Port: ServerPort, TargetPort: intstr.FromInt32(ServerPort), Protocol: corev1.ProtocolTCP},
			{Name: "web-ui", Port: 4040, TargetPort: intstr.FromInt32(4040), Protocol: corev1.ProtocolTCP},
		}
	}
	return svc
}

// applyService creates the client Service, or brings an existing one to the spec with a JSON merge
// patch (its labels, annotations, owner, ports, selector and type; what others added stays). It runs
// whenever a server is started, so a spec change reaches the Service with the new server.
func (r *Reconciler) applyService(ctx context.Context, s *scope) error {
	svc := clientService(s.conn)
	err := r.client.Create(ctx, svc.DeepCopy())
	if !apierrors.IsAlreadyExists(err) {
		if err != nil {
			return fmt.Errorf("creating Service %s: %w", svc.Name, err)
		}
		return nil
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"labels": svc.Labels, "annotations": svc.Annotations, "ownerReferences": svc.OwnerReferences},
		"spec":     svc.Spec,
	})
	if err != nil {
		return err
	}
	if err := r.client.Patch(ctx, svc, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("updating Service %s: %w", svc.Name, err)
	}
	return nil
}
