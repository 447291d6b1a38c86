#!/usr/bin/env bash
# The whole suite: lint, unit and integration tests on SQLite, then the whole suite (browser
# journeys included) on real PostgreSQL.
# Installs Debian's postgresql, redis-server and chromium when missing (needs root, as in CI).
# The PostgreSQL run has a throw-away Redis beside the throw-away PostgreSQL (cache, sessions,
# rate limits, replay protection, and the broker of the real Celery worker and beat).
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
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
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

# axe-core for the browser tests' checks of every page (tests/browser/package.json, pinned by
# its package-lock.json; node_modules is git-ignored). Debian's nodejs and npm when npm is missing.
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      echo "== installing nodejs npm from Debian"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
      echo "missing: npm; install it (sudo apt-get install nodejs npm)" >&2
      exit 1
    fi
  fi
  echo "== installing axe-core for the browser tests (npm ci)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi
# The browser journeys run once, in the PostgreSQL leg (the production stack), in Persian on a
# phone and in English on a desktop. The SQLite leg (the embedded demo's database) runs every
# other test; PANJEREH_SQLITE_MARKERS widens or narrows it ("" runs everything on SQLite too).
sqlite_markers="${PANJEREH_SQLITE_MARKERS-not browser}"

echo "== lint (ruff; import-linter: the dependency order of docs/architecture.md)"
$BIN/ruff check src tests benchmarks
$BIN/ruff format --check src tests benchmarks
$BIN/lint-imports

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

echo "== suite on SQLite (unit and integration; the browser journeys run on PostgreSQL below)"
unset DATABASE_URL
if [ -n "$sqlite_markers" ]; then
  $BIN/pytest -q -p no:cacheprovider -m "$sqlite_markers" "$@"
else
  $BIN/pytest -q -p no:cacheprovider "$@"
fi

echo "== suite on PostgreSQL"
pgdir=$(mktemp -d /tmp/panjereh-pg.XXXXXX)
pgport=${PANJEREH_TEST_PGPORT:-55432}
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; fi
run_pg "$pg_bin/initdb" -D "$pgdir/data" -U panjereh --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
run_pg "$pg_bin/pg_ctl" -D "$pgdir/data" -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" -l "$pgdir/log" -w start >/dev/null
redisdir=$(mktemp -d /tmp/panjereh-redis.XXXXXX)
redisport=${PANJEREH_TEST_REDISPORT:-$($BIN/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
cleanup() {
  if [ -s "$redisdir/pid" ]; then kill "$(cat "$redisdir/pid")" 2>/dev/null || true; fi
  run_pg "$pg_bin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$pgdir" "$redisdir"
}
trap cleanup EXIT
# A throw-away Redis on loopback: nothing saved to disk, gone with the run.
redis-server --bind 127.0.0.1 --port "$redisport" --save "" --appendonly no \
  --dir "$redisdir" --pidfile "$redisdir/pid" --logfile "$redisdir/log" --daemonize yes
for _ in $(seq 50); do
  redis-cli -h 127.0.0.1 -p "$redisport" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$redisport" ping >/dev/null
export DATABASE_URL="postgres://panjereh@127.0.0.1:$pgport/panjereh"
# The cache (and sessions) in Redis database 0, Celery's broker in database 1: the tests clear
# the cache, which must not empty the worker's queue.
export REDIS_URL="redis://127.0.0.1:$redisport/0"
export CELERY_BROKER_URL="redis://127.0.0.1:$redisport/1"
$BIN/pytest -q -p no:cacheprovider "$@"
