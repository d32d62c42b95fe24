# Make targets are Deckhand's interface: README, CI and people run these.
SHELL := /bin/bash
GO ?= go
GOARCH ?= arm64
FUNCTIONS := deployer runner tracker reconciler
DIST := dist

.PHONY: all build test lint demo bench chaos synth deploy clean help
all: lint test

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## one static linux/$(GOARCH) dist/<fn>/bootstrap per function
	@for fn in $(FUNCTIONS); do \
	  if [ -d functions/$$fn ]; then \
	    CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" \
	      -o $(DIST)/$$fn/bootstrap ./functions/$$fn || exit 1; \
	    echo "built $(DIST)/$$fn/bootstrap (linux/$(GOARCH))"; \
	  fi; \
	done

demo: ## the whole product end to end on the local AWS sandbox
	$(GO) run ./cmd/deckhand demo

test: ## all tests, with the race detector
	$(GO) test -race -count=1 ./...

lint: ## go vet + staticcheck (pinned through the tool directive in go.mod)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

clean:
	rm -rf $(DIST) cdk.out

-include mk/*.mk
