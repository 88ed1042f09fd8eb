package sparkapplication

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkop/spark-operator/api/v1beta2"
)

// TestIngressURL: every form of --ingress-url-format that Kubeflow's operator substitutes.
func TestIngressURL(t *testing.T) {
	app := &v1beta2.SparkApplication{ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "team-a"}}
	cases := map[string]string{
		"{{$appName}}.spark.example.com":                         "http://pi.spark.example.com",
		"{{ $appName }}.spark.example.com":                       "http://pi.spark.example.com",
		"{{  $appName}}.{{$appNamespace }}.example.com":          "http://pi.team-a.example.com",
		"example.com/{{$appNamespace}}/{{$appName}}":             "http://example.com/team-a/pi",
		"https://example.com/{{ $appNamespace }}/{{ $appId }}":   "https://example.com/team-a/spark-0123",
		"example.com/{{$appId}}/{{$appName}}-{{$appNamespace}}/": "http://example.com/spark-0123/pi-team-a/",
		"example.com/{{$other}}":                                 "http://example.com/%7B%7B$other%7D%7D",
		"example.com/static":                                     "http://example.com/static",
	}
	for format, want := range cases {
		u, err := ingressURL(format, app, "spark-0123")
		if err != nil {
			t.Errorf("ingressURL(%q): %v", format, err)
			continue
		}
		if got := u.String(); got != want {
			t.Errorf("ingressURL(%q) = %q, want %q", format, got, want)
		}
	}
}
