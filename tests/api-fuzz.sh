#!/usr/bin/env bash
# Fuzzes the running API against its own OpenAPI document with schemathesis: starts
# `tovor serve` on a fresh SQLite data dir (127.0.0.1, a free port), makes a company
# and fuzzes every route with that company's token and every check schemathesis has
# (all are on by default; `tests/schemathesis.toml` turns one off for one operation and
# says why). Any finding (a 5xx, an undocumented status or content type, a valid request
# refused, an invalid one accepted, ...) fails the script.
#
#   tests/api-fuzz.sh                  # from the workspace root
#   TOVOR_FUZZ_EXAMPLES=50 tests/api-fuzz.sh
#   TOVOR_BIN=target/debug/tovor tests/api-fuzz.sh   # skip the build
#
# Needs python3 with pip (schemathesis is installed when missing) and cargo.
set -euo pipefail

cd "$(dirname "$0")/.."
examples="${TOVOR_FUZZ_EXAMPLES:-20}"
config="$PWD/tests/schemathesis.toml"

if ! command -v schemathesis >/dev/null 2>&1; then
    python3 -m pip install --quiet 'schemathesis>=4,<5'
fi

# The test build's features (the whole workspace), so this reuses `cargo test`'s build
# instead of compiling wasmtime again with another feature set.
if [ -z "${TOVOR_BIN:-}" ]; then
    cargo test --workspace --features tovor/demo --no-run --quiet
fi
tovor="${TOVOR_BIN:-${CARGO_TARGET_DIR:-target}/debug/tovor}"

data="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:${port}"
admin="fuzz-admin-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
plugins="${data}/plugins"
mkdir -p "$plugins"
if [ -d target/plugins ]; then
    cp -r target/plugins/. "$plugins/"
fi

TOVOR_ADMIN_TOKEN="$admin" "$tovor" serve --listen "127.0.0.1:${port}" --data-dir "$data" \
    --plugins "$plugins" >"${data}/serve.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    if curl -fsS "${base}/healthz" >/dev/null 2>&1; then break; fi
    sleep 0.2
done
curl -fsS "${base}/healthz" >/dev/null

token="$(curl -fsS -X POST "${base}/api/v1/companies" -H "Authorization: Bearer ${admin}" \
    -H 'Content-Type: application/json' -d '{"name": "Fuzz d.o.o."}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

status=0
# Run from the scratch dir: schemathesis keeps its cache of findings in the cwd.
cd "$data"
fuzz() {
    schemathesis --config-file "$config" run "${base}/api/v1/openapi.json" \
        --url "$base" \
        --max-examples "$examples" \
        --generation-allow-x00 false \
        --seed "${TOVOR_FUZZ_SEED:-1}" \
        --no-color "$@" || status=$?
}
# 1. Every route with the company's token. Left out: revoking a token, since a
# company may revoke its own and the rest of the run would then only see 401 (the
# operator run below covers it); the operator-only routes answer this token 403,
# as documented, and are fuzzed in the operator run.
fuzz --header "Authorization: Bearer ${token}" \
    --exclude-path '/api/v1/companies/{id}/tokens/{token_id}/revoke'
# 2. The operator's routes with the admin token (companies, tokens, people who sign in,
# plugin reloads). Left out: `/api/v1/plugins`, as
# `POST` installs whatever plugin it is sent into the service's plugin directory
# (its `GET` takes any token and was fuzzed above).
fuzz --header "Authorization: Bearer ${admin}" \
    --include-path-regex '^/api/v1/(companies|plugins/|users)'
if [ "$status" -ne 0 ]; then
    echo "--- tovor serve log (last 50 lines) ---"
    tail -n 50 "${data}/serve.log"
fi
exit "$status"
