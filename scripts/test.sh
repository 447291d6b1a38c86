#!/usr/bin/env bash
# The whole suite: lint, then the unit and integration tests on SQLite and the whole suite
# (browser journeys included) on real PostgreSQL, the two legs side by side (see "Tests" in
# docs/operations.md).
# Installs Debian's postgresql, redis-server and chromium when missing (needs root, as in CI).
# The PostgreSQL run has a throw-away Redis beside the throw-away PostgreSQL (cache, sessions,
# rate limits, replay protection, and the broker of the real Celery worker and beat).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PANJEREH_MODE=test
# Keep what the suite generates (keys, SQLite files, outboxes) out of the work tree.
export PANJEREH_VAR="${PANJEREH_VAR:-$(mktemp -d /tmp/panjereh-test-var.XXXXXX)}"
# Python's bytecode caches, and pytest's of the rewritten test modules, in the git-ignored
# __pycache__ folders: with PYTHONDONTWRITEBYTECODE set, each part's collection and each process
# the tests start compiled the sources again (collection 26 s of CPU instead of 7 s).
unset PYTHONDONTWRITEBYTECODE

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

# axe-core for the browser tests' checks of every page and Lighthouse for the phone pages'
# scores (tests/browser/package.json, pinned by its package-lock.json; node_modules is
# git-ignored). Debian's nodejs and npm when npm is missing.
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ] ||
  [ ! -f tests/browser/node_modules/lighthouse/cli/index.js ]; then
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
  echo "== installing axe-core and Lighthouse for the browser tests (npm ci)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi
# The browser journeys run once, in the PostgreSQL leg (the production stack), in Persian on a
# phone and in English on a desktop. The SQLite leg (the embedded demo's database) runs every
# other test; PANJEREH_SQLITE_MARKERS widens or narrows it ("" runs everything on SQLite too).
sqlite_markers="${PANJEREH_SQLITE_MARKERS-not browser}"
# The legs run side by side (CI has two cores): the suite is cut into parts, each a pytest
# process of its own with its own test database, Redis databases and PANJEREH_VAR (the processes
# the tests start bind ephemeral ports), and PANJEREH_TEST_JOBS lanes (2) take the parts in turn:
# the SQLite leg, the PostgreSQL leg's browser journeys, and the rest of the PostgreSQL leg cut
# into PANJEREH_TEST_PG_SHARDS parts (2) by test module (tests/conftest.py). The PostgreSQL test
# databases are copies of one migrated template (panjereh.conf.settings_test).
jobs="${PANJEREH_TEST_JOBS:-2}"
shards="${PANJEREH_TEST_PG_SHARDS:-2}"

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

echo "== a throw-away PostgreSQL and Redis for the PostgreSQL leg"
pgdir=$(mktemp -d /tmp/panjereh-pg.XXXXXX)
pgport=${PANJEREH_TEST_PGPORT:-55432}
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; fi
redisdir=$(mktemp -d /tmp/panjereh-redis.XXXXXX)
logs=$(mktemp -d /tmp/panjereh-test-logs.XXXXXX)
lanes=()
cleanup() {
  # An interrupted run: the lanes' pytest processes first (SIGINT: pytest stops the processes
  # its fixtures started), then the servers.
  for pid in "${lanes[@]}"; do kill -INT -- "-$pid" 2>/dev/null || true; done
  for pid in "${lanes[@]}"; do
    for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  if [ -s "$redisdir/pid" ]; then kill "$(cat "$redisdir/pid")" 2>/dev/null || true; fi
  run_pg "$pg_bin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$pgdir" "$redisdir" "$logs"
}
trap cleanup EXIT
# A signal ends the script at once (a wait for the lanes included), through cleanup().
trap 'exit 130' INT
trap 'exit 143' TERM
run_pg "$pg_bin/initdb" -D "$pgdir/data" -U panjereh --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# max_connections: the parts run side by side on this one server, and the concurrency tests
# (200 people booking the last 50 places, each with its own connection) need a connection each.
run_pg "$pg_bin/pg_ctl" -D "$pgdir/data" -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500" -l "$pgdir/log" -w start >/dev/null
redisport=${PANJEREH_TEST_REDISPORT:-$($BIN/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
# A throw-away Redis on loopback: nothing saved to disk, gone with the run.
redis-server --bind 127.0.0.1 --port "$redisport" --save "" --appendonly no \
  --dir "$redisdir" --pidfile "$redisdir/pid" --logfile "$redisdir/log" --daemonize yes
for _ in $(seq 50); do
  redis-cli -h 127.0.0.1 -p "$redisport" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$redisport" ping >/dev/null

sqlite_part() {
  local markers=()
  [ -z "$sqlite_markers" ] || markers=(-m "$sqlite_markers")
  mkdir -p "$PANJEREH_VAR/sqlite"
  env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL PANJEREH_VAR="$PANJEREH_VAR/sqlite" \
    $BIN/pytest -q -p no:cacheprovider "${markers[@]}" "$@"
}

# The template the PostgreSQL parts copy their test database from: migrated once, first thing
# in the first lane (the SQLite leg starts meanwhile in the other).
make_template() {
  local rc=0
  echo "== PostgreSQL: the template test database (migrations)"
  mkdir -p "$PANJEREH_VAR/pg-template"
  { run_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pgport" -U panjereh panjereh_template &&
    DATABASE_URL="postgres://panjereh@127.0.0.1:$pgport/panjereh_template" \
      PANJEREH_VAR="$PANJEREH_VAR/pg-template" $BIN/panjereh migrate -v0; } \
    >"$logs/template.log" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then touch "$logs/template.ok"; else
    flock "$logs/summary" bash -c 'printf "%s\t0\t%s\n" "$1" "$2" >>"$3"; cat "$4"' _ \
      "$rc" "PostgreSQL: the template database" "$logs/summary" "$logs/template.log"
    touch "$logs/template.failed"
  fi
}

# pg_part NAME CACHE_DB BROKER_DB PYTEST_ARGS...: a test database of its own on the throw-away
# PostgreSQL (test_panjereh_NAME, a copy of the template), the cache (and sessions) in one Redis
# database, Celery's broker in another (the tests clear the cache, which must not empty the
# worker's queue).
pg_part() {
  local name=$1 cache_db=$2 broker_db=$3
  shift 3
  while [ ! -e "$logs/template.ok" ]; do
    [ ! -e "$logs/template.failed" ] || return 1
    sleep 1
  done
  mkdir -p "$PANJEREH_VAR/pg-$name"
  DATABASE_URL="postgres://panjereh@127.0.0.1:$pgport/panjereh_$name" \
    PANJEREH_TEST_DB_TEMPLATE=panjereh_template \
    REDIS_URL="redis://127.0.0.1:$redisport/$cache_db" \
    CELERY_BROKER_URL="redis://127.0.0.1:$redisport/$broker_db" \
    PANJEREH_VAR="$PANJEREH_VAR/pg-$name" \
    $BIN/pytest -q -p no:cacheprovider "$@"
}

# run_part KEY LABEL COMMAND...: the command's output kept in a file of its own and shown whole
# when it ends (the lanes' outputs never mix); its exit status and seconds kept for the summary.
run_part() {
  local key=$1 label=$2 start=$SECONDS rc=0
  shift 2
  echo "== $label: started"
  "$@" >"$logs/$key.log" 2>&1 || rc=$?
  flock "$logs/summary" bash -c 'printf "%s\t%s\t%s\n" "$2" "$3" "$1" >>"$5"
    echo "== $1: exit $2 after $3 s"; cat "$4"' _ \
    "$label" "$rc" "$((SECONDS - start))" "$logs/$key.log" "$logs/summary"
}

# The parts, longest first. A -m of the caller's would take the place of the split's markers:
# then the PostgreSQL leg is one part.
split=1
for arg in "$@"; do case "$arg" in -m*) split=0 ;; esac; done
parts=(sqlite)
if [ "$split" = 1 ]; then
  parts+=(pg-browser)
  for k in $(seq "$shards"); do parts+=("pg-$k"); done
else
  parts+=(pg)
fi

run_one() {
  local part=$1
  shift
  case "$part" in
    sqlite) run_part sqlite "SQLite leg" sqlite_part "$@" ;;
    pg) run_part pg "PostgreSQL leg" pg_part main 0 1 "$@" ;;
    pg-browser)
      run_part pg-browser "PostgreSQL leg: the browser journeys" \
        pg_part browser 0 1 -m browser "$@"
      ;;
    pg-*)
      local k=${part#pg-}
      PANJEREH_TEST_SHARD="$k/$shards" run_part "$part" \
        "PostgreSQL leg: the rest, part $k of $shards" \
        pg_part "part$k" $((2 * k)) $((2 * k + 1)) -m "not browser" "$@"
      ;;
  esac
}

# A lane takes the next part not taken yet until none is left.
lane() {
  local first=$1 i
  shift
  [ "$first" = 0 ] || make_template
  while :; do
    i=$(flock "$logs/queue" bash -c 'i=$(cat "$1"); echo $((i + 1)) >"$1"; echo "$i"' _ "$logs/queue")
    [ "$i" -lt "${#parts[@]}" ] || return 0
    run_one "${parts[$i]}" "$@"
  done
}

echo "== the suite: ${parts[*]} (PostgreSQL template first), $jobs at a time"
suite_start=$SECONDS
touch "$logs/summary"
echo 0 >"$logs/queue"
if [ "$jobs" -ge 2 ]; then
  set -m # each lane a process group of its own: cleanup() can interrupt it
  lane 1 "$@" &
  lanes+=($!)
  for _ in $(seq 2 "$jobs"); do
    lane 0 "$@" &
    lanes+=($!)
  done
  set +m
  for pid in "${lanes[@]}"; do wait "$pid" || true; done
  lanes=()
else
  lane 1 "$@"
fi

echo "== summary: the suite took $((SECONDS - suite_start)) s, the whole run $SECONDS s"
failed=0
ran=0
while IFS=$'\t' read -r rc seconds label; do
  # pytest's exit 5 is "no test selected" in that part (a run given paths of one kind only).
  case "$rc" in
    0) verdict=passed ran=1 ;;
    5) verdict="no test selected" ;;
    *) verdict="FAILED (exit $rc)" failed=1 ;;
  esac
  printf '   %-46s %6s s  %s\n' "$label" "$seconds" "$verdict"
done <"$logs/summary"
if [ "$failed" = 1 ] || [ "$ran" = 0 ]; then
  exit 1
fi
