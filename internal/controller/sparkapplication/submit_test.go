package sparkapplication

import (
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestInvalidUID(t *testing.T) {
	gk := schema.GroupKind{Kind: "Pod"}
	uid := field.Invalid(field.NewPath("metadata", "uid"), "x", "field is immutable")
	other := field.Invalid(field.NewPath("metadata", "finalizers"), "x", "bad")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"uid only", apierrors.NewInvalid(gk, "p", field.ErrorList{uid}), true},
		{"wrapped", fmt.Errorf("patch: %w", apierrors.NewInvalid(gk, "p", field.ErrorList{uid})), true},
		{"uid and another field", apierrors.NewInvalid(gk, "p", field.ErrorList{uid, other}), false},
		{"another field", apierrors.NewInvalid(gk, "p", field.ErrorList{other}), false},
		{"no causes", apierrors.NewInvalid(gk, "p", nil), false},
		{"conflict", apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "p", errors.New("x")), false},
		{"plain", errors.New("metadata.uid"), false},
	} {
		if got := invalidUID(tc.err); got != tc.want {
			t.Errorf("%s: invalidUID(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
