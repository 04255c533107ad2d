# make test runs everything CI runs (.ci/test.sh), in every module.
# Needs redis-server on PATH (apt-get install redis-server); .ci/run installs it.

FUZZTIME ?= 30s
FUZZ ?= $(shell go test -list '^Fuzz' . | grep '^Fuzz')

.PHONY: test test-core tidy work api fuzz bench stress release-check

test:
	bash .ci/test.sh

# The core module's tests only: the quick loop.
test-core:
	go test -race ./...

# Rewrite go.work, go.mod and go.sum of every module to what CI checks.
tidy:
	bash .ci/modules.sh fix

work:
	GOWORK=off go run .ci/modproxy.go work > go.work.new && mv go.work.new go.work

# Record the exported API of every published module in api/*.txt, which CI
# compares with the code: a change to the API is then deliberate and visible
# in review (commit api/ with it).
api:
	go run .ci/apilist.go -w

# Each fuzz target for FUZZTIME, with a short minimization (a long one can
# take minutes on a failing input and adds nothing to the report).
fuzz:
	@for t in $(FUZZ); do \
		go test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s . || exit 1; \
	done

bench:
	go test -run '^$$' -bench . -benchmem -count 10 . | tee bench.out
	cd redislimit && go test -run '^$$' -bench Limiter -benchmem -count 10 .
	cd redislimit && go test -run '^$$' -bench SharedLimit -benchtime 1x -count 5 .
	cd bench && go run .

# The timing-sensitive tests, 20 times in a row, under -race.
stress:
	go test -race -count=20 -run 'Chaos|Pacing|Buckets|MemoryLimiter|Budget' .
	cd redislimit && go test -race -count=20 .

# Before tagging a sub-module: every module it requires is published and its
# go.sum has their real hashes (see CONTRIBUTING, "Releasing").
release-check:
	bash .ci/modules.sh release-check
