// Package namespaces decides which namespaces the operator serves: those listed with --namespaces,
// and those whose labels match --namespace-selector (either is enough, as in Kubeflow).
package namespaces

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Filter says whether a namespace is served. A nil *Filter serves every namespace.
type Filter struct {
	reader   client.Reader
	listed   []string
	selector labels.Selector
}

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// New returns the filter for the listed namespaces and the label selector (as written on the command
// line, e.g. "spark=enabled"), reading Namespaces through reader (the cached client). It returns nil
// when there is no selector: then the cache itself is limited to the listed namespaces (or watches
// all), and nothing needs filtering. An invalid selector is an error.
func New(reader client.Reader, listed []string, selector string) (*Filter, error) {
	if selector == "" {
		return nil, nil
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, err
	}
	return &Filter{reader: reader, listed: listed, selector: sel}, nil
}

// Serves reports whether namespace ns is served: listed, or labelled to match the selector.
func (f *Filter) Serves(ctx context.Context, ns string) (bool, error) {
	if f == nil || slices.Contains(f.listed, ns) {
		return true, nil
	}
	n := &corev1.Namespace{}
	if err := f.reader.Get(ctx, client.ObjectKey{Name: ns}, n); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return f.selector.Matches(labels.Set(n.Labels)), nil
}
