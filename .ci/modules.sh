#!/usr/bin/env bash
# Module checks that need the tree served as a module proxy:
#
#   .ci/modules.sh tidy      every module: no replace, our modules required at release versions,
#                            go.mod/go.sum tidy, go.work up to date
#   .ci/modules.sh fix       rewrite go.work, go.mod and go.sum files to what `tidy` wants
#   .ci/modules.sh install   a user's `go get`: consumer modules outside the repository,
#                            GOFLAGS=-mod=mod, no replace, no workspace, build each
#                            published module and go install its commands
#   .ci/modules.sh snippets  every ```go block of README.md and docs/*.md compiled against the tree
#   .ci/modules.sh release-check   before tagging sub-modules (CONTRIBUTING, "Releasing")
#   .ci/modules.sh get DIR ARGS...   `go get ARGS` in module DIR (plain `go get` in a
#                            sub-module fails before our required version is published), then fix
#
# Our modules come from a file proxy written from the work tree
# (.ci/modproxy.go); third-party modules from the local module cache, then
# the real proxy. A throw-away GOMODCACHE keeps tree-built zips out of the
# developer's cache (a version served from the tree must never be mistaken
# for the published one).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cmd="${1:-}"

tmp="$(mktemp -d)"
cleanup() {
  chmod -R u+w "$tmp" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The tool is built once, outside the workspace (it needs only the standard library).
GOWORK=off go build -o "$tmp/modproxy" .ci/modproxy.go
GOWORK=off go build -o "$tmp/snippets" .ci/snippets.go
modproxy() { "$tmp/modproxy" "$@"; }
modules=$(modproxy modules)
ourpath=$(awk '/^module /{print $2; exit}' go.mod)

# proxy_env sets up the file proxy and the environment of a user outside the repository.
proxy_env() {
  modproxy serve -o "$tmp/proxy" > "$tmp/versions" 2> "$tmp/serve.log" || { cat "$tmp/serve.log"; return 1; }
  grep "not published yet" "$tmp/serve.log" || true
  local cache
  cache="$(go env GOMODCACHE)/cache/download"
  export GOPROXY="file://$tmp/proxy,file://$cache,$(go env GOPROXY)"
  export GONOSUMDB="$ourpath" GOWORK=off GOFLAGS="-mod=mod -trimpath" GOMODCACHE="$tmp/modcache"
  # -trimpath: builds do not depend on the throw-away cache's path, so a second run reuses them
  # Versions of ours served from the tree: their go.sum lines hash the tree, not a
  # published zip, so the tidy check leaves them out.
  modproxy unpublished > "$tmp/unpublished"
}

# ungrep_ours drops go.sum lines of our unpublished versions from stdin.
ungrep_ours() {
  local pat='^$'
  while read -r p v; do pat="$pat|^${p//./\\.} ${v//./\\.}(/go\\.mod)? "; done < "$tmp/unpublished"
  grep -Ev "$pat" || true
}

tidy() {
  local fix="${1:-}" bad=0
  modproxy work > "$tmp/go.work"
  if ! cmp -s "$tmp/go.work" go.work; then
    if [ -n "$fix" ]; then cp "$tmp/go.work" go.work; else
      echo "go.work is stale (make work):"; diff go.work "$tmp/go.work" || true; bad=1
    fi
  fi
  proxy_env
  local p v
  while read -r p v; do
    if ! [[ "$v" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
      echo "a module requires $p at $v: require a release version of ours (the next one to tag, see CONTRIBUTING, Releasing)"; bad=1
    fi
  done < <(modproxy required)
  for m in $modules; do
    if grep -qE '^replace([[:space:](]|$)' "$m/go.mod"; then
      echo "$m/go.mod has a replace directive: whoever requires the module ignores it"; bad=1
    fi
    local t="$tmp/tidy"; rm -rf "$t" && mkdir -p "$t"
    touch "$m/go.sum"; cp "$m/go.mod" "$t/before.mod"; cp "$m/go.sum" "$t/before.sum"
    if ! (cd "$m" && go mod tidy); then echo "$m: go mod tidy failed"; bad=1; continue; fi
    cp "$m/go.mod" "$t/after.mod"; ungrep_ours < "$m/go.sum" > "$t/after.sum"
    if [ -n "$fix" ]; then
      cp "$t/after.sum" "$m/go.sum"
    else
      cp "$t/before.mod" "$m/go.mod"; cp "$t/before.sum" "$m/go.sum"
      ungrep_ours < "$t/before.sum" > "$t/before.cmp"
      if ! { diff -u "$t/before.mod" "$t/after.mod"; diff -u "$t/before.cmp" "$t/after.sum"; } > "$t/diff"; then
        echo "$m: go.mod/go.sum not tidy (make tidy):"; sed "s#$t/##" "$t/diff"; bad=1
      fi
    fi
    [ -s "$m/go.sum" ] || rm -f "$m/go.sum"
  done
  [ "$bad" = 0 ] && echo "modules tidy, no replace, go.work up to date: $(echo $modules | tr '\n' ' ')"
  return "$bad"
}

# quiet runs a go command, printing its output only if it fails.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then echo "$out"; return 1; fi
}

install() {
  proxy_env
  local published p v c main
  published=$(modproxy published)
  # A user of one module: go get it alone, so that the root resolves to the
  # version a sub-module requires (the published one once tagged); build its
  # packages and go install its commands.
  for p in $published; do
    v=$(awk -v p="$p" '$1 == p {print $2}' "$tmp/versions")
    c="$tmp/consumer-${p##*/}"
    mkdir -p "$c"
    (cd "$c" && go mod init example.com/consumer >/dev/null 2>&1 &&
      quiet go get "$p@$v" &&
      go build "$p/..." &&
      for main in $(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' "$p/..."); do
        GOBIN="$tmp/bin" go install "$main@$v"
      done &&
      echo "go get $p@$v: builds, with $(go list -m -f '{{.Path}}@{{.Version}}' "$ourpath")") ||
      { echo "FAIL: go get $p@$v"; return 1; }
  done
  # The README's install before the first tag: a clone next to the user's
  # module and a replace to it (the tree stands for the clone), then go mod tidy.
  c="$tmp/consumer-clone"
  mkdir -p "$c"
  (cd "$c" && go mod init example.com/consumer >/dev/null 2>&1 &&
    go mod edit -replace "$ourpath=$root" &&
    printf 'package main\n\nimport (\n\t"net/http"\n\n\t"%s"\n)\n\nfunc main() { _ = &http.Client{Transport: &llmretry.Transport{}} }\n' "$ourpath" > main.go &&
    quiet go mod tidy && go build ./... &&
    echo "README's install from a clone (replace, go mod tidy): builds") ||
    { echo "FAIL: the README's install from a clone"; return 1; }
  # All of them at once, at the tree's version.
  c="$tmp/consumer-all"
  mkdir -p "$c"
  (cd "$c" && go mod init example.com/consumer >/dev/null 2>&1 &&
    quiet go get $(for p in $published; do awk -v p="$p" '$1 == p {print $1 "@" $2}' "$tmp/versions"; done) &&
    go build $(for p in $published; do echo "$p/..."; done) &&
    echo "go get of all published modules together: builds" &&
    # The snippets of README.md and docs/ that need no SDK (the SDK ones are
    # built by `snippets`, against the versions integration/ tests), as a user
    # pastes them.
    (cd "$root" && "$tmp/snippets" -o "$c" README.md docs/*.md 2>/dev/null) &&
    rm -rf $(grep -lE '"github.com/(openai|anthropics|sashabaranov)/' snippet*/*/snippet.go | xargs -r -n1 dirname) &&
    quiet go mod tidy && go vet ./... &&
    echo "README and docs: $(ls -d snippet*/line* | wc -l) snippets without an SDK build as a user's module") ||
    { echo "FAIL: go get of all modules"; return 1; }
}

# snippets compiles every ```go block of README.md and docs/*.md against the tree: a
# throw-away module added to the repository's workspace, so the SDKs resolve
# to the versions integration/ tests.
snippets() {
  local c="$tmp/readme"
  mkdir -p "$c"
  printf 'module example.com/readme\n\ngo %s\n' "$(awk '/^go /{print $2; exit}' go.work)" > "$c/go.mod"
  sed -e "s#^\t\.\(/[^ ]*\)\?\$#\t$root\1#" -e "s#=> \./\(.*\)\$#=> $root/\1#" go.work > "$tmp/go.work"
  GOWORK="$tmp/go.work" go work use "$c"
  "$tmp/snippets" -o "$c" README.md docs/*.md
  (cd "$c" && GOWORK="$tmp/go.work" go build -race ./... && GOWORK="$tmp/go.work" go vet -race ./...) &&  # -race: reuses the test builds
    echo "README and docs: $(ls -d "$c"/snippet*/line* | wc -l) snippets build and vet"
}

# release_check is run before tagging sub-modules: built as a user would, from
# the real proxy only, each published sub-module needs nothing unpublished and
# its go.sum holds every hash it needs.
release_check() {
  local bad=0 p m missing published
  missing=$(modproxy unpublished)
  published=$(modproxy published)
  if [ -n "$missing" ]; then
    echo "required but not published yet (tag and push them first):"; echo "$missing"; bad=1
  fi
  for m in $modules; do
    [ "$m" = . ] && continue
    p=$(awk '/^module /{print $2; exit}' "$m/go.mod")
    echo "$published" | grep -qx "$p" || continue
    (cd "$m" && GOWORK=off GOFLAGS=-mod=readonly go build ./... && GOWORK=off go mod verify) ||
      { echo "$m: does not build from the published modules alone"; bad=1; }
  done
  [ "$bad" = 0 ] && echo "ready to tag"
  return "$bad"
}

case "$cmd" in
  tidy) tidy ;;
  fix) tidy fix ;;
  install) install ;;
  snippets) snippets ;;
  release-check) release_check ;;
  get) shift; dir="${1:?usage: $0 get MODULE-DIR go-get-args...}"; shift
       proxy_env; (cd "$dir" && go get "$@"); tidy fix ;;
  *) echo "usage: $0 tidy|fix|install" >&2; exit 2 ;;
esac
