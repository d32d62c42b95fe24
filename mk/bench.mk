# Evidence targets (BENCHMARKS.md, RELIABILITY.md). Included by the root Makefile.
#
#   make bench                   performance against baselines measured in the same run
#                                (BENCH_BEFORE=<deployer binary>: also measure an earlier deployer's push to UpdateService)
#   make chaos [SEED=n]          the reliability suite at full size (strict: known gaps fail),
#                                canary and linear services with flipping alarms included
#                                (PROGRESSIVE=false leaves them out)
#   make fuzz-smoke              each fuzz target for FUZZTIME executions (default 20000x)
SEED ?= 0
EVENTS ?= 5000
SERVICES ?= 100
PROGRESSIVE ?= true
GATES ?= true
# A count, not a duration: Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a -fuzztime duration ends mid-exec
# (golang/go#75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 20000x
BENCH_DIR := $(DIST)/bench
BENCH_COUNT ?= 5

.PHONY: bench chaos fuzz-smoke

chaos: ## reliability suite: 5,000 seeded events over 100 services with 10% faults, invariants table (SEED=n replays)
	$(GO) test -count=1 -timeout 30m -run '^TestChaos$$' ./tools/chaos -v \
	  -chaos.seed=$(SEED) -chaos.events=$(EVENTS) -chaos.services=$(SERVICES) -chaos.progressive=$(PROGRESSIVE) -chaos.gates=$(GATES) -chaos.strict

fuzz-smoke: ## run every fuzz target for FUZZTIME (default 20000x executions) against its testdata corpus
	@set -e; for t in ./events:FuzzDecodeImageAction ./events:FuzzKind ./shared/spec/manifest:FuzzParse ./shared/spec/taskdef:FuzzRenderVars ./shared/spec/taskdef:FuzzExecMatchesTextTemplate ./shared/spec/taskdef:FuzzRenderBounded ./shared/spec/taskdef:FuzzRenderPrivileges; do \
	  pkg=$${t%%:*}; fn=$${t##*:}; \
	  if grep -qs "func $$fn(" $$pkg/*_test.go; then \
	    echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) $$pkg; \
	  fi; \
	done

bench: tools ## performance: cold start, size, RSS, per-event cost, API economy, burst, CLI vs script (ratios vs baselines)
	@mkdir -p $(BENCH_DIR)/deployer $(BENCH_DIR)/hello
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(BENCH_DIR)/deployer/bootstrap ./functions/deployer
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(BENCH_DIR)/hello/bootstrap ./tools/bench/hello
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -tags lambda.norpc -trimpath -o $(BENCH_DIR)/deployer/bootstrap.syms ./functions/deployer
	@for fn in $(FUNCTIONS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(BENCH_DIR)/arm64/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done
	$(GO) build -o $(BENCH_DIR)/deckhand ./cmd/deckhand
	$(GO) run ./tools/bench/cmd/benchrun -dir $(BENCH_DIR) -functions "$(FUNCTIONS)" $(if $(BENCH_BEFORE),-before $(BENCH_BEFORE))
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) ./tools/bench/eventcost
	$(GO) test -run '^$$' -bench 'Render' -benchmem -count $(BENCH_COUNT) ./shared/spec/taskdef
	$(GO) test -run '^$$' -bench 'BindingsFor|Parse' -benchmem -count $(BENCH_COUNT) ./shared/spec/manifest
	$(GO) test -run '^$$' -bench 'Synth' -benchtime 3x -count 1 ./infra
