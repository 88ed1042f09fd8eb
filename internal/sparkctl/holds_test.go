package sparkctl

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// TestQueuePosition: the position of a pending Workload comes from Kueue's visibility API
// (localqueues/<queue>/pendingworkloads), 0-based there, 1-based for people; an API that is not
// served gives no position.
func TestQueuePosition(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/apis/visibility.kueue.x-k8s.io/v1beta2/namespaces/team/localqueues/team-a/pendingworkloads" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"apiVersion":"visibility.kueue.x-k8s.io/v1beta2","kind":"PendingWorkloadsSummary","metadata":{},"items":[
			{"metadata":{"name":"other","namespace":"team"},"priority":0,"localQueueName":"team-a","positionInClusterQueue":3,"positionInLocalQueue":0},
			{"metadata":{"name":"sparkapplication-pi-1","namespace":"team"},"priority":0,"localQueueName":"team-a","positionInClusterQueue":4,"positionInLocalQueue":1}]}`))
	}))
	defer srv.Close()
	dyn, err := dynamic.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := queuePosition(context.Background(), dyn, "team", "team-a", "sparkapplication-pi-1"), "position 2 in LocalQueue team-a, 5 in its ClusterQueue"; got != want {
		t.Errorf("position %q, want %q", got, want)
	}
	if got := queuePosition(context.Background(), dyn, "team", "team-b", "sparkapplication-pi-1"); got != "" {
		t.Errorf("position from a queue the API does not serve: %q", got)
	}
}
