#!/usr/bin/env bash
# Everything CI runs, in every module (`make test` runs this; so does .ci/run).
# Needs Go and redis-server (on PATH; the redislimit tests start their own).
#
#   FUZZTIME=10s      how long each fuzz target runs (0 skips fuzzing)
#   GO_NEWEST=go1.27.4  also run the core's tests under this toolchain
#                     (downloaded from the module proxy; empty skips it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fuzztime="${FUZZTIME:-10s}"
go_newest="${GO_NEWEST-go1.27.4}"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
t0=$SECONDS
step() { echo; echo "== [$((SECONDS - t0)) s] $*"; }
# failures prints a go test -v log without the lines of tests that passed.
failures() {
  grep -vE '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- PASS|--- SKIP)' "$1" | grep -vE '^\s*$' | tail -400
}

modules=$(GOWORK=off go run .ci/modproxy.go modules)
echo "$(go version); modules: $(echo $modules | tr '\n' ' ')"

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go.mod, go.sum and go.work tidy in every module, no replace"
bash .ci/modules.sh tidy

step "go vet, every module (with -race, so that go test -race reuses its builds)"
for m in $modules; do (cd "$m" && go vet -race ./...); done   # -race: the test builds below reuse the compiled packages
go vet .ci/modproxy.go && go vet .ci/snippets.go && go vet .ci/apilist.go

step "exported API of each published module as recorded in api/*.txt (record a deliberate change: make api)"
go run .ci/apilist.go   # after go vet -race: it reads the export data of those builds

step "core: go test -race ./...   (the chaos suite's summary below)"
if ! go test -race -count=1 -v ./... > "$logs/core" 2>&1; then
  failures "$logs/core"; exit 1
fi
grep -E '^(chaos|ok |FAIL)' "$logs/core"

if [ -n "$go_newest" ]; then
  step "core under the newest Go ($go_newest, from the module proxy): go test -short ./..."
  # -short: the chaos suite (about a minute, longer under load) ran above, under -race.
  GOTOOLCHAIN="$go_newest" go test -short -count=1 ./...
fi

if [ "$fuzztime" != 0 ]; then
  # Under the newest Go when there is one: go1.26's fuzz coordinator may
  # report its own -fuzztime deadline as a failure ("context deadline
  # exceeded", no failing input written; go.dev/issue/75804, fixed in go1.27).
  fuzz_toolchain="${go_newest:-local}"
  step "fuzz targets, $fuzztime each (GOTOOLCHAIN=$fuzz_toolchain)"
  for target in $(go test -list '^Fuzz' . | grep '^Fuzz'); do
    # The whole log when a target fails (a crasher lands in testdata/fuzz;
    # a worker that hung or died says so only in the log).
    if ! GOTOOLCHAIN="$fuzz_toolchain" go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s . >"$logs/fuzz" 2>&1; then
      tail -40 "$logs/fuzz"
      exit 1
    fi
    tail -1 "$logs/fuzz"
  done
fi

for m in $modules; do
  [ "$m" = . ] && continue
  step "$m module: go test -race ./..."
  log="$logs/${m//\//_}"   # a module dir may be nested (cmd/llmretry-demo)
  (cd "$m" && go test -race -count=1 -v ./... > "$log" 2>&1) || { failures "$log"; exit 1; }
  grep -E '^(\s+\S+_test.go:[0-9]+: |--- (PASS|SKIP)|ok |FAIL)' "$log" | grep -v '^--- PASS' || true
done

step "bench module: a short run of the llmretry scenarios (a smoke test; figures come from the full run)"
(cd bench && go run -race . -only llmretry -n 200 -styles openai,retry-after,bare,anthropic)   # -race: reuses the vet build

step "README: its two commands, as written (the demo, then the core's tests: \`go test ./...\`)"
# The ```sh block after each <!-- ci:run NAME --> line of README.md (readme_test.go
# checks that they are there and one line each), run from the root as a newcomer
# runs them. GOFLAGS=-count=1: a cached test result must not stand in for a run.
readme_cmds=$(awk '/^<!-- ci:run /{want=1; next} want && /^```sh$/{code=1; next} code && /^```$/{code=0; want=0; next} code' README.md)
[ -n "$readme_cmds" ] || { echo "README.md has no <!-- ci:run --> command"; exit 1; }
while IFS= read -r cmd; do
  echo "\$ $cmd"
  t1=$SECONDS
  GOFLAGS="-count=1 ${GOFLAGS:-}" bash -c "$cmd" < /dev/null > "$logs/readme" 2>&1 || { cat "$logs/readme"; exit 1; }
  tail -n 3 "$logs/readme"; echo "($((SECONDS - t1)) s)"
done <<< "$readme_cmds"

step "README and docs/: every go block compiles"
bash .ci/modules.sh snippets

step "go get works: consumer modules outside the repository, the tree served as a module proxy"
bash .ci/modules.sh install

step "done in $((SECONDS - t0)) s"
