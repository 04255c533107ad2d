#!/usr/bin/env bash
# Module checks that need the tree served as a module proxy:
#
#   .ci/modules.sh tidy      every module: no replace, go.mod/go.sum tidy, go.work up to date
#   .ci/modules.sh fix       rewrite go.work, go.mod and go.sum files to what `tidy` wants
#   .ci/modules.sh install   a user's `go get`: consumer modules outside the repository,
#                            GOFLAGS=-mod=mod, no replace, no workspace, build the
#                            sub-modules and every README snippet
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

modules=$(go run .ci/modproxy.go modules)
ourpath=$(awk '/^module /{print $2; exit}' go.mod)

# proxy_env sets up the file proxy and the environment of a user outside the repository.
proxy_env() {
  go run .ci/modproxy.go serve -o "$tmp/proxy" > "$tmp/versions"
  local cache
  cache="$(go env GOMODCACHE)/cache/download"
  export GOPROXY="file://$tmp/proxy,file://$cache,$(go env GOPROXY)"
  export GONOSUMDB="$ourpath" GOWORK=off GOFLAGS=-mod=mod GOMODCACHE="$tmp/modcache"
  # Versions of ours served from the tree: their go.sum lines hash the tree, not a
  # published zip, so the tidy check leaves them out.
  go run .ci/modproxy.go unpublished > "$tmp/unpublished"
}

# ungrep_ours drops go.sum lines of our unpublished versions from stdin.
ungrep_ours() {
  local pat='^$'
  while read -r p v; do pat="$pat|^${p//./\\.} ${v//./\\.}(/go\\.mod)? "; done < "$tmp/unpublished"
  grep -Ev "$pat" || true
}

tidy() {
  local fix="${1:-}" bad=0
  go run .ci/modproxy.go work > "$tmp/go.work"
  if ! cmp -s "$tmp/go.work" go.work; then
    if [ -n "$fix" ]; then cp "$tmp/go.work" go.work; else
      echo "go.work is stale (make work):"; diff go.work "$tmp/go.work" || true; bad=1
    fi
  fi
  proxy_env
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

install() {
  proxy_env
  cat "$tmp/versions"
  local p v
  # A user of one sub-module: go get it alone, so that the root resolves to the
  # version the sub-module requires (the published one once tagged), and build it.
  while read -r p v; do
    [ "$p" = "$ourpath" ] && continue
    local c="$tmp/consumer-${p##*/}"
    mkdir -p "$c" && (cd "$c" && go mod init example.com/consumer >/dev/null 2>&1 &&
      go get "$p@$v" >/dev/null &&
      go build "$p/..." &&
      for main in $(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' "$p/..."); do
        GOBIN="$tmp/bin" go install "$main@$v"
      done &&
      echo "go get $p@$v: builds with $(go list -m -f '{{.Path}}@{{.Version}}' "$ourpath")")
  done < "$tmp/versions"
  # Every README snippet, compiled against the tree's modules as a user gets them.
  local c="$tmp/consumer-readme"
  mkdir -p "$c" && cd "$c" && go mod init example.com/readme >/dev/null 2>&1
  go get $(while read -r p v; do echo "$p@$v"; done < "$tmp/versions") >/dev/null
  go run "$root/.ci/snippets.go" -o "$c" "$root/README.md"
  go mod tidy >/dev/null
  go vet ./... && go build ./... && echo "README: $(ls -d "$c"/snippet* | wc -l) snippets build and vet as pasted"
}

case "$cmd" in
  tidy) tidy ;;
  fix) tidy fix ;;
  install) install ;;
  *) echo "usage: $0 tidy|fix|install" >&2; exit 2 ;;
esac
