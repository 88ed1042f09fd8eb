# Developer entry points. Everything runs offline except the Go module proxy: the control plane,
# kwok and controller-gen are built from source into bin/ by `make tools` (hack/build-tools.sh).

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

BIN            := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen
# Options of controller-gen's CRD generator, e.g. `make manifests CRD_OPTIONS=crd:maxDescLen=0`.
CRD_OPTIONS    ?= crd
# Name of the local kwok cluster (hack/kwok-cluster.sh).
KWOK_CLUSTER   ?= sparkop
# The Helm chart (charts/spark-operator); `make manifests` copies the CRDs and the operator's rules into it.
CHART_DIR      := charts/spark-operator
# Extra flags for go test, e.g. `make test GOTESTFLAGS='-run TestFoo -v'`.
GOTESTFLAGS    ?=

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: tools
tools: ## Build etcd, kube-*, kubectl, kwok, kwokctl and controller-gen into bin/ (cold: ~10 min).
	hack/build-tools.sh

# Builds bin/controller-gen only (a no-op when it is up to date with hack/tools/go.mod).
.PHONY: controller-gen
controller-gen:
	hack/build-tools.sh controller-gen

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods for ./api/...
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: manifests
manifests: controller-gen ## Generate CRDs (config/crd/bases) and the operator's ClusterRole (config/rbac/role.yaml) from the markers; copy both into the Helm chart.
	$(CONTROLLER_GEN) $(CRD_OPTIONS) paths=./api/... output:crd:artifacts:config=config/crd/bases
	@# hack/crdtrim drops upstream descriptions so the CRDs fit `kubectl apply`'s annotation limit.
	@if [[ -f hack/crdtrim/main.go ]]; then \
		echo "go run ./hack/crdtrim config/crd/bases/*.yaml"; \
		go run ./hack/crdtrim config/crd/bases/*.yaml; \
	fi
	@# The operator's rules are the markers of its controllers only: optional parts (a webhook) need their own role.
	$(CONTROLLER_GEN) rbac:roleName=spark-operator-controller paths=./internal/controller/... output:rbac:artifacts:config=config/rbac
	@# The chart ships the same CRDs (crds/) and takes the operator's rules from the same role.yaml (files/).
	rm -f $(CHART_DIR)/crds/*.yaml
	cp config/crd/bases/*.yaml $(CHART_DIR)/crds/
	cp config/rbac/role.yaml $(CHART_DIR)/files/controller-role.yaml

.PHONY: fmt
fmt: ## Format all Go files.
	gofmt -w .

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: golangci-lint
golangci-lint: ## Build golangci-lint with kube-api-linter compiled in into bin/golangci-lint (hack/golangci-lint/go.mod pins both; cold: ~3 min of CPU, 14 min wall on 2 busy cores).
	hack/build-golangci-lint.sh

.PHONY: lint
lint: golangci-lint ## golangci-lint with .golangci.yml: gofmt and goimports, govet, staticcheck, errcheck, revive's exported rule, misspell; kube-api-linter on api/.
	$(BIN)/golangci-lint run ./...

# Generated files: the DeepCopy code, the CRDs, the operator's ClusterRole, and their copies in the chart.
GENERATED = api/v1beta2/zz_generated.deepcopy.go config/crd/bases/*.yaml config/rbac/role.yaml \
	$(CHART_DIR)/crds/*.yaml $(CHART_DIR)/files/controller-role.yaml

.PHONY: verify
verify: ## Fail if generated code or CRDs are stale: regenerate, `git diff --exit-code` the generated paths against what was there, and put the tree back as it was.
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$tmp/before" "$$tmp/after"; \
	cp --parents $(GENERATED) "$$tmp/before/"; \
	$(MAKE) --no-print-directory generate manifests >/dev/null; \
	cp --parents $(GENERATED) "$$tmp/after/"; \
	if ! (cd "$$tmp" && git --no-pager diff --no-index --exit-code --stat before after); then \
		rm -f $(GENERATED); (cd "$$tmp/before" && cp --parents $(GENERATED) "$(CURDIR)/"); \
		echo "verify: generated DeepCopy code, CRDs or RBAC are stale (diff above; the tree is as it was): run make generate manifests and commit the result"; exit 1; \
	fi; echo "verify: generated files are up to date"

# The tiers of `make test`. Integration packages are ./test/...: they start a control plane from bin/
# (envtest through internal/testing/framework). Unit packages are the rest: nothing in them needs
# bin/, so `go test ./internal/...` runs on a fresh clone. The union is ./..., what `make test` runs.
INTEGRATION_PKGS := ./test/...
UNIT_PKGS         = $(shell go list ./... | grep -v -e '/test/')

.PHONY: unit
unit: ## Unit, golden and fuzz-seed tests: no control plane, nothing from bin/ (seconds once built).
	go test -short $(GOTESTFLAGS) $(UNIT_PKGS)

.PHONY: integration
integration: tools ## The envtest suites under test/ (the process node's as root; conformance and e2e skip unless enabled) against bin/.
	KUBEBUILDER_ASSETS=$(BIN) go test $(GOTESTFLAGS) $(INTEGRATION_PKGS)

.PHONY: test
test: tools verify ## Run all tests (unit and integration) against a real kube-apiserver/etcd (envtest) from bin/.
	KUBEBUILDER_ASSETS=$(BIN) go test $(GOTESTFLAGS) ./...

.PHONY: bench
bench: tools ## Benchmark the operator on its own kwok cluster (1000 apps at once, 500 at 50/s; a few minutes); rows go to docs/benchmarks.md. BENCH_FLAGS='...' adds hack/bench flags.
	go run ./hack/bench -n 1000 -rate 0 -out docs/benchmarks.md $(BENCH_FLAGS)
	go run ./hack/bench -n 500 -rate 50 -out docs/benchmarks.md $(BENCH_FLAGS)
	@echo "bench: smoke runs done (docs/benchmarks.md). The full targets (10-30 min each on 2 cores):"
	@echo "  go run ./hack/bench -n 5000 -rate 0 -out docs/benchmarks.md      # submission >= 100 apps/s over 5,000 apps"
	@echo "  go run ./hack/bench -n 2000 -rate 50 -out docs/benchmarks.md     # p99 creation->driver pod < 1 s at 50 apps/s"
	@echo "  go run ./hack/bench -n 10000 -rate 200 -namespaces 10 -out docs/benchmarks.md   # peak RSS < 300 MiB with 10,000 apps cached; CPU < 10 ms/app"
	@echo "  go run ./hack/bench -n 2000 -rate 50 -replicas 2 -kill-leader-after 50% -out docs/benchmarks.md   # leader failover"
	@echo "  go run ./hack/bench -n 1000 -raw -out docs/benchmarks.md         # the API server alone, for scale"

.PHONY: chaos
chaos: tools ## The operator under faults on its own kwok cluster (2,000 apps, 3 rounds of every fault; about 10 min, loads the machine); its row goes to docs/benchmarks.md, exits 1 on any loss. CHAOS_FLAGS='...' adds hack/chaos flags.
	flock /tmp/cluster.lock go run ./hack/chaos -n 2000 -rate 8 -rounds 3 -out docs/benchmarks.md $(CHAOS_FLAGS)

.PHONY: chaos-short
chaos-short: tools ## hack/chaos in short (120 apps, every fault once, cuts up to 20 s; about 5 min on an idle 2-core machine, 10 under heavy load); exits 1 on any loss.
	flock /tmp/cluster.lock go run ./hack/chaos -n 120 -rate 2 -rounds 1 -max-cut 20s -recovery-bound 45s -settle-timeout 2m $(CHAOS_FLAGS)

.PHONY: demo
demo: ## Run spark-pi to COMPLETED (and a failing app through its retries) on a local kwok cluster; KEEP=1 leaves it up; PROCESS_NODE=1 runs real Spark.
	KEEP=$(KEEP) PROCESS_NODE=$(PROCESS_NODE) hack/demo.sh

.PHONY: kwok-up
kwok-up: tools ## Start a local kwok cluster with 3 simulated nodes (name: KWOK_CLUSTER, default sparkop).
	hack/kwok-cluster.sh up $(KWOK_CLUSTER)

.PHONY: kwok-down
kwok-down: ## Delete the local kwok cluster.
	hack/kwok-cluster.sh down $(KWOK_CLUSTER)

.PHONY: kwok-test
kwok-test: tools ## Check kwok-cluster.sh and the Spark pod stages end to end (own cluster, ~15 s).
	hack/kwok/test-stages.sh

.PHONY: e2e
e2e: tools ## Real Spark end to end: a cluster whose node runs pods as processes (root), the chart-installed operator, Spark 3.5/4.0 Pi jobs, the same driven by Apache Airflow (~15 min; Airflow from PyPI into .cache once, ~4 min more).
	SPARK_E2E=1 go test -count=1 -timeout 75m -v $(GOTESTFLAGS) ./test/e2e/

.PHONY: e2e-schedulers
e2e-schedulers: tools ## Batch schedulers with a real kube-scheduler and kwok nodes, gang-scheduling gates on (test/schedulers; 0.5-1 min, +10-60 s per Spark in .cache/spark).
	SPARK_E2E_SCHEDULERS=1 KUBEBUILDER_ASSETS=$(BIN) go test -count=1 -timeout 15m -v $(GOTESTFLAGS) ./test/schedulers/

.PHONY: kueue
kueue: ## Build Kueue's controller manager (sigs.k8s.io/kueue/cmd/kueue, pinned by hack/kueue/go.mod) into bin/kueue (cold: ~10 min on 2 busy cores).
	hack/build-kueue.sh

.PHONY: kubeflow-operator
kubeflow-operator: ## Build the Kubeflow Spark Operator v2.5.2 (pinned by hack/kubeflow/go.mod) into bin/kubeflow-spark-operator, for make bench-kubeflow (cold: ~10 min on 2 busy cores).
	hack/build-kubeflow.sh

.PHONY: bench-kubeflow
bench-kubeflow: tools kubeflow-operator ## Ours against Kubeflow's operator v2.5.2 with spark-submit (PyPI Spark 3.5.3), back to back on the same kwok set-up (40 apps at once; ~15 min); rows and ratios go to docs/benchmarks.md.
	go run ./hack/bench -n 40 -rate 0 -kubeflow bin/kubeflow-spark-operator -timeout 40m -out docs/benchmarks.md $(BENCH_FLAGS)

.PHONY: e2e-kueue
e2e-kueue: tools kueue ## The operator under the real Kueue v0.17.0: admission, preemption and re-admission, executor counts, quota (test/kueue, docs/kueue.md).
	KUEUE_E2E=1 KUBEBUILDER_ASSETS=$(BIN) go test -count=1 -timeout 20m -v $(GOTESTFLAGS) ./test/kueue/

.PHONY: conformance
conformance: tools ## Compare our submitter with the real spark-submit 3.5/4.0 (Spark from PyPI into .cache/spark, once; JDK 17; ~3 min).
	SPARK_CONFORMANCE=1 KUBEBUILDER_ASSETS=$(BIN) go test -count=1 -timeout 30m $(GOTESTFLAGS) ./test/conformance/
