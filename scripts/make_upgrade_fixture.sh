#!/usr/bin/env bash
# Makes tests/fixtures/<name>.sql: a plain pg_dump (INSERT statements, loadable without
# psql) of a database seeded through the API of a `zerodb` binary of an earlier release,
# for the upgrade tests (tests/e2e/upgrade.rs).
#   scripts/make_upgrade_fixture.sh path/to/old/zerodb release-0211d1b
set -euo pipefail
bin=$1
name=$2
out="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/$name.sql"
dir=$(mktemp -d)
port=18431
pgport=18432
bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | tail -n 1 || command -v initdb)")
# A throwaway cluster of our own, trusted on loopback, so that pg_dump can reach it.
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
chmod 777 "$dir"
run_pg "$bindir/initdb" -D "$dir/pg" -U zerodb -A trust -E UTF8 --no-locale >/dev/null
run_pg "$bindir/pg_ctl" -D "$dir/pg" -o "-p $pgport -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" -w -l "$dir/pg.log" start >/dev/null
"$bindir/createdb" -h 127.0.0.1 -p $pgport -U zerodb zerodb
export DATABASE_URL=postgres://zerodb@127.0.0.1:$pgport/zerodb
export ZERODB__AUTH__JWT_SECRET=fixture-secret-fixture-secret-fixture-secret
export ZERODB__SERVER__PORT=$port ZERODB__DATA_DIR=$dir/data ZERODB__LOG__LEVEL=warn
"$bin" serve &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; run_pg "$bindir/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null; rm -rf "$dir"' EXIT
B=http://127.0.0.1:$port/api/v1
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.3; done
json() { curl -sf -X "$1" "$B$2" -H "Authorization: Bearer ${TOKEN:-}" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
json POST /auth/register '{"email": "ada@example.com", "password": "correct horse battery"}' >/dev/null
TOKEN=$(json POST /auth/login '{"email": "ada@example.com", "password": "correct horse battery"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
P=$(json POST /projects '{"project_name": "legacy"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["project_id"])')
json POST /projects/$P/database >/dev/null
json POST /projects/$P/database/vectors/upsert-batch '{"vectors": [
  {"vector_id": "0193e4a0-0000-7000-8000-000000000001", "vector_embedding": [1, 0, 0], "document": "the quick brown fox", "vector_metadata": {"n": 1}},
  {"vector_id": "0193e4a0-0000-7000-8000-000000000002", "vector_embedding": [0, 1, 0], "document": "a lazy dog sleeps", "vector_metadata": {"n": 2}},
  {"vector_id": "0193e4a0-0000-7000-8000-000000000003", "vector_embedding": [0, 0, 1], "vector_metadata": {"n": 3}, "source": "s3"},
  {"vector_id": "0193e4a0-0000-7000-8000-000000000004", "namespace": "docs", "vector_embedding": [0.5, 0.5], "document": "rockets reach orbit"},
  {"vector_id": "0193e4a0-0000-7000-8000-000000000005", "namespace": "docs", "vector_embedding": [0.5, -0.5], "document": "gone soon"}]}' >/dev/null
json DELETE /projects/$P/database/vectors/0193e4a0-0000-7000-8000-000000000005 >/dev/null
for text in "The customer prefers invoices by email" "Deploys happen on Tuesdays"; do
  json POST /projects/$P/database/memory/store "{\"agent_id\": \"0193e4a0-0000-7000-8000-0000000000aa\", \"session_id\": \"0193e4a0-0000-7000-8000-0000000000bb\", \"role\": \"user\", \"content\": \"$text\"}" >/dev/null
done
kill $server; wait $server 2>/dev/null || true
# psql's meta-commands (\restrict) are left out: the test runs the statements without psql.
"$bindir/pg_dump" --inserts --no-owner --no-privileges -h 127.0.0.1 -p $pgport -U zerodb zerodb \
    | grep -v '^\\' > "$out" || true
[ -s "$out" ] || { echo "pg_dump wrote nothing" >&2; exit 1; }
echo "wrote $out (project $P)"
