# roster — build, test and demo targets. `make test` is the project's test command; CI runs it.

KEYCLOAK_VERSION ?= 26.7.3
# The three Keycloak versions CodeMie installations run on; `make test-matrix` tests each.
KEYCLOAK_MATRIX  ?= 24.0.5 25.0.6 $(KEYCLOAK_VERSION)
export KEYCLOAK_VERSION

GO        ?= go
KC        := scripts/keycloak.sh
GOTEST    := $(GO) test -count=1 -timeout 45m

.PHONY: screenshots all build vet test test-unit release release-check test-matrix fuzz bench update-golden keycloak-fetch keycloak-up keycloak-down demo clean

all: build

build:
	$(GO) build -o bin/roster ./cmd/roster

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi

# test: build, vet, unit tests and acceptance tests against a real Keycloak. The server is the one
# `make keycloak-up` started, or KEYCLOAK_URL, or a temporary one started and stopped here.
# ROSTER_ACCEPTANCE=require turns "no Keycloak" into a failure instead of a skip.
#
# The access page's tests run in headless Chromium: scripts/chromium.sh finds it, or installs
# Debian's package chromium, and ROSTER_BROWSER carries its path to the tests. Where it can do
# neither (no root, no apt-get), those tests skip, saying so, except in CI (CI set), where they
# fail.
BROWSER := ROSTER_BROWSER=$${ROSTER_BROWSER:-$$(scripts/chromium.sh || true)}

test: build vet
	$(BROWSER) $(KC) run -- env ROSTER_ACCEPTANCE=require $(GOTEST) ./...
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory release-check

# fuzz: a short run of the loader's fuzz target, seeded from the corpus of bad inputs. Minimising
# a find is capped, or one find can stall the run for a minute. The budget is a number of
# executions, not a duration: on Go 1.26 a duration budget can end in a spurious "context
# deadline exceeded" failure when it expires under load (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 150000x
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzLoad -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s ./internal/schema

# test-unit: tests that need no server (acceptance tests skip, saying so).
test-unit:
	$(GOTEST) ./...

test-matrix:
	@set -e; for v in $(KEYCLOAK_MATRIX); do \
		echo "== Keycloak $$v"; $(MAKE) --no-print-directory test KEYCLOAK_VERSION=$$v; done

# bench: the benchmarks against a real Keycloak (not part of make test): seeds realms of
# BENCH_USERS users, measures the built binary and writes the figures to docs/benchmarks.md.
BENCH_USERS ?= 1000,5000,10000
bench: build
	$(KC) run -- env ROSTER_BIN=$(CURDIR)/bin/roster ROSTER_BENCH_USERS=$(BENCH_USERS) \
		ROSTER_BENCH_DOC=$(CURDIR)/docs/benchmarks.md \
		$(GO) test -count=1 -timeout 90m -run '^$$' -bench . -benchtime 3x ./internal/bench/

# Packages whose tests compare output with golden files and take -update.
GOLDEN_PKGS := ./internal/schema ./internal/plan ./internal/plan/render

# update-golden rewrites golden files and script expectations from current output; review the diff.
update-golden:
	$(if $(GOLDEN_PKGS),$(GOTEST) $(GOLDEN_PKGS) -update)
	ROSTER_UPDATE_SCRIPTS=1 $(KC) run -- $(GOTEST) ./internal/cli/

# release: the release of the commit checked out, into dist/: an archive per target (linux, darwin
# and windows on amd64 and arm64), a CycloneDX bill of materials for each, and SHA256SUMS. The
# bytes depend on the commit alone (scripts/release.sh says how); TARGETS=linux/amd64 limits it.
release:
	scripts/release.sh

# release-check: two builds of HEAD give identical archives and bills of materials, and roster
# version names the commit and its date.
release-check:
	scripts/release-check.sh

# screenshots regenerates docs/access-page.png (the access page of examples/codemie-prod.yaml) and
# docs/pr-comment.png (a pull-request comment as GitHub shows it), in headless Chromium.
screenshots:
	$(BROWSER) $(GO) run ./internal/screenshots -out docs

keycloak-fetch:
	$(KC) fetch

keycloak-up:
	@$(KC) up

keycloak-down:
	@$(KC) down

demo: build
	scripts/demo.sh

clean:
	rm -rf bin dist
