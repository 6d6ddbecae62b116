# roster — build, test and demo targets. `make test` is the project's test command; CI runs it.

DEFAULT_KEYCLOAK := 26.7.3
KEYCLOAK_VERSION ?= $(DEFAULT_KEYCLOAK)
# The older majors CodeMie installations run on, each at its newest patch release in the Maven
# repository (24.0.6 and 25.0.7 do not exist): `make test-versions` runs the acceptance core on
# them, `make test-matrix` the whole suite.
KEYCLOAK_OLDER   ?= 24.0.5 25.0.6
KEYCLOAK_MATRIX  ?= $(KEYCLOAK_OLDER) $(KEYCLOAK_VERSION)
export KEYCLOAK_VERSION
# TOPOLOGY is what keycloak-up and keycloak-down start and stop: dev (one start-dev node) or
# cluster (PostgreSQL, two production-mode nodes, HAProxy; see scripts/cluster.sh).
TOPOLOGY ?= dev

GO        ?= go
KC        := scripts/keycloak.sh
GOTEST    := $(GO) test -race -count=1 -timeout 45m

.PHONY: screenshots all build vet test test-unit test-cluster test-versions release release-check test-matrix fuzz bench update-golden record-fixtures keycloak-fetch keycloak-up keycloak-down demo clean

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

# ROSTER_BIN lets internal/bench's TestSmallRealm take the benchmarks' code once through a realm of
# 30 users; the benchmarks themselves run only in make bench.
test: build vet
	$(BROWSER) TOPOLOGY=dev $(KC) run -- env ROSTER_ACCEPTANCE=require ROSTER_BIN=$(CURDIR)/bin/roster $(GOTEST) ./...
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory release-check
	$(if $(CLUSTER_OK),$(MAKE) --no-print-directory test-cluster,@echo "make test: no cluster suite on Keycloak $(KEYCLOAK_VERSION): the cluster topology needs 26 or newer")
	$(if $(NEWEST),$(MAKE) --no-print-directory test-versions,@echo "make test: the acceptance core on $(KEYCLOAK_OLDER) runs only with the default Keycloak ($(DEFAULT_KEYCLOAK))")

# test-cluster: the cluster suite through HAProxy in front of two Keycloak nodes on PostgreSQL —
# the cluster `make keycloak-up TOPOLOGY=cluster` started, or a temporary one. The scenarios that
# kill a node run last, in their own go test: the cluster has one node left after them.
CLUSTER_TESTS := ^(TestCluster.*|TestFaultsConverge|TestCrashRecovery|TestConcurrentApplies|TestReadBackCatchesDroppedAttributes|TestLock.*)$$
CLUSTER_PKGS  := ./internal/scenario/ ./internal/apply/ ./internal/keycloak/
# NEWEST: make test on the default Keycloak also runs the acceptance core on the older majors, so
# that make test stays the one entry point; make test KEYCLOAK_VERSION=... (and test-matrix) does not.
NEWEST        := $(if $(filter $(DEFAULT_KEYCLOAK),$(KEYCLOAK_VERSION)),yes)
CLUSTER_OK    := $(shell [ "$(firstword $(subst ., ,$(KEYCLOAK_VERSION)))" -ge 26 ] 2>/dev/null && echo yes)
test-cluster: build
	TOPOLOGY=cluster $(KC) run -- env ROSTER_ACCEPTANCE=require ROSTER_CLUSTER=require sh -c '\
		$(GOTEST) -run "$(CLUSTER_TESTS)" $(CLUSTER_PKGS) && \
		$(GOTEST) -run "^TestNodeKilled" ./internal/scenario/'

# test-versions: the acceptance core — both logins, plan/apply/idempotence, export round trip,
# prerequisites, token claims — against each of KEYCLOAK_OLDER (the whole suite runs on
# KEYCLOAK_VERSION in `make test`), each on a temporary server, which keeps the tests' realms
# (KEYCLOAK_KEEP_REALMS: deleting one while other tests run makes these versions answer 500 to
# the master administrator's requests). .ci/run runs it after `make test`.
ACCEPTANCE_CORE := ^(TestSmoke|TestCodeMieReadingMatchesKeycloakTokens|TestLoginFailures|TestReadLive|TestReadPrerequisites|TestSecondApplyWritesNothing|TestReadBackCatchesDroppedAttributes|TestTokenMappers|TestTokenClaims|TestIdentityProvider|TestHostileValuesRoundTrip)$$
CORE_SCRIPTS    := ^TestScripts$$/^(apply_converge|export_roundtrip|plan_create|plan_token_mappers)$$
test-versions: build
	@set -e; for v in $(KEYCLOAK_OLDER); do echo "== Keycloak $$v: acceptance core"; \
		KEYCLOAK_VERSION=$$v TOPOLOGY=dev $(KC) run -- env ROSTER_ACCEPTANCE=require KEYCLOAK_KEEP_REALMS=1 sh -c '\
		$(GOTEST) -run "$(ACCEPTANCE_CORE)" ./internal/keycloak/ ./internal/apply/ ./internal/scenario/ && \
		$(GOTEST) -run "$(CORE_SCRIPTS)" ./internal/cli/'; done

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
# BENCH_USERS users (each once, shared by the benchmarks of the run), creates and updates users
# at the same sizes (in realms of their own), measures the built binary
# and writes the figures, with the growth from one size to the next, to docs/benchmarks.md.
# docs/benchmarks.md says how long it takes.
# Then the same against the cluster topology (BENCH_CLUSTER_USERS users; TOPOLOGY=cluster), for
# its own section of the document.
# The development server keeps its database in memory (H2 dev-mem) in Keycloak's default heap of
# 512 MB, which a realm of 100,000 users exhausts (Keycloak 26.7.3 ended with OutOfMemoryError
# while it was listed), and the benchmarks hold two such realms at once (the seeded one, and the
# one the update benchmark changes): the server make bench starts gets BENCH_HEAP. A server already running
# (make keycloak-up) keeps its own; start it with JAVA_OPTS_KC_HEAP=-Xmx$(BENCH_HEAP) to bench
# 100,000 users on it.
# Keycloak's users cache holds 10,000 users unless told otherwise; past that every listing of a
# realm reads its users from the database again (docs/troubleshooting.md). The servers make bench
# starts get a cache of BENCH_USERS_CACHE users, as a deployment of that size should.
BENCH_USERS ?= 1000,10000,100000
BENCH_HEAP  ?= 6g
BENCH_USERS_CACHE ?= 250000
BENCH_CLUSTER_USERS ?= 10000
BENCH_ENV = env ROSTER_BIN=$(CURDIR)/bin/roster ROSTER_BENCH_DOC=$(CURDIR)/docs/benchmarks.md
BENCH_SERVER = JAVA_OPTS_KC_HEAP="-Xms64m -Xmx$(BENCH_HEAP)" KC_CACHE_EMBEDDED_USERS_MAX_COUNT=$(BENCH_USERS_CACHE)
bench: build
	TOPOLOGY=dev $(BENCH_SERVER) $(KC) run -- $(BENCH_ENV) ROSTER_BENCH_USERS=$(BENCH_USERS) \
		ROSTER_BENCH_CREATE_USERS=$(BENCH_USERS) ROSTER_BENCH_UPDATE_USERS=$(BENCH_USERS) \
		$(GO) test -count=1 -timeout 3h -run '^$$' -bench '^Benchmark(Plan|ApplyConverged|Export|AccessVerify|Validate|ApplyCreate|ApplyUpdate)$$' -benchtime 3x ./internal/bench/
	TOPOLOGY=cluster $(BENCH_SERVER) $(KC) run -- $(BENCH_ENV) ROSTER_BENCH_USERS=$(BENCH_CLUSTER_USERS) \
		$(GO) test -count=1 -timeout 90m -run '^$$' -bench '^Benchmark(Plan|ApplyConverged|ApplyCreate|ApplyUpdate)$$' -benchtime 3x ./internal/bench/

# Packages whose tests compare output with golden files and take -update.
GOLDEN_PKGS := ./internal/schema ./internal/plan ./internal/plan/render

# update-golden rewrites golden files and script expectations from current output; review the diff.
update-golden:
	$(if $(GOLDEN_PKGS),$(GOTEST) $(GOLDEN_PKGS) -update)
	ROSTER_UPDATE_SCRIPTS=1 $(KC) run -- $(GOTEST) ./internal/cli/

# record-fixtures: record the Keycloak answers the adapter's offline tests replay
# (internal/keycloak/testdata/fixtures) from a real server; `make test` compares them with it.
record-fixtures:
	TOPOLOGY=dev $(KC) run -- env ROSTER_RECORD_FIXTURES=1 ROSTER_ACCEPTANCE=require $(GOTEST) -run '^TestAdapterContract$$' ./internal/keycloak/

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
	@TOPOLOGY=$(TOPOLOGY) $(KC) up

keycloak-down:
	@TOPOLOGY=$(TOPOLOGY) $(KC) down

demo: build
	scripts/demo.sh

clean:
	rm -rf bin dist
