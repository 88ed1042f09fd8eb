package kubeflow

import (
	"path/filepath"
	"strings"
)

// KustomizeMigration is README.md's switch from Kubeflow's kustomize install to ours ("From
// Kubeflow's kustomize install"), command by command, as written there: the job namespace is
// "default" there and JOB_NAMESPACE here; paths are relative to our repository. The chart
// integration tests check that README.md shows each command and run them against an API server;
// test/e2e runs them over Kubeflow's running controller.
var KustomizeMigration = []string{
	`kubectl -n spark-operator delete --ignore-not-found ` +
		`mutatingwebhookconfiguration/mutating-webhook-configuration validatingwebhookconfiguration/validating-webhook-configuration ` +
		`deployment/spark-operator-webhook service/spark-operator-webhook-svc secret/spark-operator-webhook-certs ` +
		`serviceaccount/spark-operator-webhook role/spark-operator-webhook rolebinding/spark-operator-webhook ` +
		`lease/spark-operator-webhook-lock clusterrole/spark-operator-webhook clusterrolebinding/spark-operator-webhook`,
	`kubectl apply -k config/default --server-side --force-conflicts`,
	`kubectl -n JOB_NAMESPACE apply -k config/spark-rbac --server-side --force-conflicts`,
}

// KustomizeMigrationArgs turns one of KustomizeMigration's commands into kubectl's arguments:
// without "kubectl", with jobNs for JOB_NAMESPACE and the config/ directories of the repository at
// repoRoot.
func KustomizeMigrationArgs(cmd, jobNs, repoRoot string) []string {
	args := strings.Fields(strings.ReplaceAll(cmd, "JOB_NAMESPACE", jobNs))[1:]
	for i, a := range args {
		if strings.HasPrefix(a, "config/") {
			args[i] = filepath.Join(repoRoot, a)
		}
	}
	return args
}
