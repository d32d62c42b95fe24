# Console targets (docs/cli.md, "console"). Included by the root Makefile.
#
#   make console-shots   screenshots of every view into docs/console/ (needs Chromium)

.PHONY: console-shots

console-shots: ## screenshots of the console's views into docs/console/ (plays a story on the sandbox; needs chromium)
	$(GO) test -count=1 -run '^TestScreenshots$$' ./shared/cli/console -v -console.shots=$(CURDIR)/docs/console
