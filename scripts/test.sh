#!/usr/bin/env bash
# The whole suite: lint, unit and browser tests on SQLite, then the suite on real PostgreSQL.
# Installs Debian's postgresql and chromium when missing (needs root, as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PANJEREH_MODE=test
# Keep what the suite generates (keys, SQLite files, outboxes) out of the work tree.
export PANJEREH_VAR="${PANJEREH_VAR:-$(mktemp -d /tmp/panjereh-test-var.XXXXXX)}"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] || need_apt+=(postgresql)
command -v msgfmt >/dev/null 2>&1 || need_apt+=(gettext)
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing ${need_apt[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  else
    echo "missing: ${need_apt[*]}; install them (sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

echo "== lint (ruff)"
$BIN/ruff check src tests benchmarks
$BIN/ruff format --check src tests benchmarks

echo "== migrations are complete"
$BIN/panjereh makemigrations --check --dry-run >/dev/null

echo "== OpenAPI schema generates, validates, and docs/openapi.yaml is current"
openapi_tmp=$(mktemp --suffix=.yaml)
$BIN/panjereh spectacular --validate --fail-on-warn --file "$openapi_tmp"
if ! diff -q docs/openapi.yaml "$openapi_tmp" >/dev/null; then
  echo "docs/openapi.yaml is out of date: run 'make openapi' and commit it" >&2
  diff -u docs/openapi.yaml "$openapi_tmp" | head -40 >&2
  exit 1
fi
rm -f "$openapi_tmp"

echo "== suite on SQLite (unit, integration, browser)"
unset DATABASE_URL
$BIN/pytest -q -p no:cacheprovider "$@"

echo "== suite on PostgreSQL"
pgdir=$(mktemp -d /tmp/panjereh-pg.XXXXXX)
pgport=${PANJEREH_TEST_PGPORT:-55432}
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; fi
run_pg "$pg_bin/initdb" -D "$pgdir/data" -U panjereh --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$pgdir/data" -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" -l "$pgdir/log" -w start >/dev/null
cleanup() { run_pg "$pg_bin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
trap cleanup EXIT
export DATABASE_URL="postgres://panjereh@127.0.0.1:$pgport/panjereh"
$BIN/pytest -q -p no:cacheprovider "$@"
