#!/usr/bin/env bash
# Start (or reuse) a throw-away PostgreSQL on 127.0.0.1:${PGPORT:-5433} for the tests.
# Prints the URL to use as VISAVIS_TEST_PG_URL. Needs the Debian postgresql package.
set -euo pipefail
PGPORT=${PGPORT:-5433}
PGDIR=${PGDIR:-/tmp/visavis-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/pg_ctl" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then install -d -o postgres -g postgres "$PGDIR"; else mkdir -p "$PGDIR"; fi
if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
  as_pg "$BIN/initdb" -D "$PGDIR/data" -A trust -U visavis >/dev/null
fi
if ! as_pg "$BIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
  as_pg "$BIN/pg_ctl" -D "$PGDIR/data" -w -l "$PGDIR/log" \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
fi
echo "postgresql+asyncpg://visavis@127.0.0.1:$PGPORT/postgres"
