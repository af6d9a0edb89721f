# mtls-operator: every set-up step a fresh machine needs goes through this file.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CLUSTER_DIR ?= $(CURDIR)/.cluster
GROUND := test/ground

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## install the Node dependencies from the lockfile

.PHONY: tools
tools: ## build or find the test ground (kube-apiserver, etcd, helm, OpenBao, iptables, Redis)
	$(GROUND)/build-tools.sh all
	$(GROUND)/install-openbao.sh
	$(GROUND)/install-debian.sh

.PHONY: build
build: deps ## compile TypeScript into dist/
	npx tsc -p tsconfig.build.json

.PHONY: cluster-up
cluster-up: ## start the local control plane; writes .cluster/kubeconfig, env and bin/
	$(GROUND)/cluster-up.sh $(CLUSTER_DIR)

.PHONY: cluster-down
cluster-down: ## stop every process of the local control plane
	$(GROUND)/cluster-down.sh $(CLUSTER_DIR)

.PHONY: cluster-status
cluster-status: ## tell whether the local control plane answers
	$(GROUND)/cluster-status.sh $(CLUSTER_DIR)

.PHONY: run
run: build ## run the operator against the local control plane (make cluster-up first)
	@test -f $(CLUSTER_DIR)/env || { echo "no control plane: run make cluster-up first" >&2; exit 1; }
	. $(CLUSTER_DIR)/env && kubectl apply -f crds/ && node bin/mtls-operator.js --probe-port 0

.PHONY: lint
lint: deps ## ESLint and Prettier (width 100)
	npx eslint .
	npx prettier --check .

.PHONY: typecheck
typecheck: deps ## TypeScript in strict mode, tests included
	npx tsc -p tsconfig.json --noEmit

.PHONY: test-unit
test-unit: deps build ## unit tests (no servers; the kubectl-mtls tests run the compiled bin)
	npx jest --selectProjects unit

.PHONY: test-integration
test-integration: deps tools build ## integration tests against a real apiserver and OpenBao
	npx jest --selectProjects integration --runInBand

.PHONY: test
test: lint typecheck test-unit test-integration ## everything CI runs

.PHONY: demo
demo: deps tools build ## the whole flow on a local control plane
	test/demo/run.sh

.PHONY: bench-tools
bench-tools: ## the proxies the sidecar is compared with: ghostunnel, nginx and stunnel4
	$(GROUND)/build-tools.sh ghostunnel
	@if ! command -v nginx >/dev/null || ! command -v stunnel4 >/dev/null; then \
	  apt-get update && apt-get install -y nginx-light stunnel4; \
	fi

.PHONY: bench
bench: deps tools bench-tools build ## speed and memory figures; the last line is one JSON object
	bench/run.sh

.PHONY: chart-lint
chart-lint: ## helm lint the chart, strict, with its default values and each values file of ci/
	$(GROUND)/build-tools.sh helm
	. $(GROUND)/versions.sh && helm="$$MTLS_CACHE_DIR/helm-$$HELM_VERSION/bin/helm" && \
	  for values in "" charts/mtls-operator/ci/*-values.yaml; do \
	    "$$helm" lint --strict charts/mtls-operator $${values:+--values "$$values"} || exit 1; \
	  done

.PHONY: images
images: ## build the operator and sidecar images with docker (needs a Docker engine)
	docker build -f images/Dockerfile --target operator \
	  -t ghcr.io/mtls-operator/mtls-operator:$$(node -p 'require("./package.json").version') .
	docker build -f images/Dockerfile --target sidecar \
	  -t ghcr.io/mtls-operator/mtls-sidecar:$$(node -p 'require("./package.json").version') .

.PHONY: clean
clean: cluster-down ## remove build output and local state
	rm -rf dist .testground
