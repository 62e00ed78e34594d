#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on loopback, when PostgreSQL is installed
# and FOCUSQA_TEST_POSTGRES_URL is not already set; otherwise just run the command (the
# PostgreSQL variants of the store and app tests are then not collected).
set -euo pipefail

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -n "${FOCUSQA_TEST_POSTGRES_URL:-}" || -z "$pgbin" || ! -x "$pgbin/initdb" ]]; then
    [[ -z "$pgbin" ]] && echo "with-postgres: PostgreSQL is not installed: the PostgreSQL test variants are not run"
    exec "$@"
fi

as_owner=()
pgdata=$(mktemp -d /tmp/focusqa-pg.XXXXXX)
if [[ $(id -u) -eq 0 ]]; then          # initdb refuses to run as root: the server runs as postgres
    chown postgres "$pgdata"
    as_owner=(runuser -u postgres --)
fi
port=$((55000 + RANDOM % 1000))
"${as_owner[@]}" "$pgbin/initdb" -D "$pgdata" -A trust -U postgres >/dev/null
"${as_owner[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdata" start >/dev/null
stop() { "${as_owner[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pgdata"; }
trap stop EXIT
"${as_owner[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres focusqa_test
export FOCUSQA_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/focusqa_test"
"$@"
