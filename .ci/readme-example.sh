#!/usr/bin/env bash
# Builds the README's 30-second example as a user would: its own module,
# requiring llmretry (this checkout), nothing else.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
awk '/^## 30-second example/{f=1} f&&/^```go$/{p=1;next} p&&/^```$/{exit} p' "$root/README.md" > "$dir/main.go"
grep -q 'package main' "$dir/main.go" || { echo "README: no 30-second example found"; exit 1; }
cd "$dir"
cat > go.mod <<MOD
module readmeexample

go 1.22

require github.com/llmretry/llmretry v0.0.0-00010101000000-000000000000

replace github.com/llmretry/llmretry => $root
MOD
go mod tidy >/dev/null 2>&1
go vet . && go build -o /dev/null . && echo "README example builds"
