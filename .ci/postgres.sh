#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests, on 127.0.0.1 and a free port, in a temp
# folder (data, socket and log), trusted local logins, nothing kept afterwards.
#
#   eval "$(.ci/postgres.sh start)"      # prints the two exports below and starts it
#   pytest                                # the PostgreSQL tests find it through the URL
#   .ci/postgres.sh stop "$TRENDWATCH_TEST_POSTGRES_DIR"
#
# start prints `export TRENDWATCH_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:PORT/postgres`
# and `export TRENDWATCH_TEST_POSTGRES_DIR=...` (what stop removes). initdb refuses to run
# as root: as root, the cluster belongs to the `postgres` user (Debian's package makes it).
# The binaries are Debian's (/usr/lib/postgresql/<version>/bin), or $PG_BIN.
set -euo pipefail

pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then
        echo "$PG_BIN"
        return 0
    fi
    local dir
    dir=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
        echo ".ci/postgres.sh: no PostgreSQL found under /usr/lib/postgresql; install" \
            "Debian's 'postgresql' (or set PG_BIN)." >&2
        return 1
    fi
    echo "$dir"
}

# run "$@" as the cluster's owner: ourselves, or `postgres` when we are root
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local bin dir port
    bin=$(pg_bin)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/trendwatch-pg.XXXXXX")
    chmod 0700 "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        return 1
    }
    port=$(free_port)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null || {
        cat "$dir/postgres.log" >&2
        rm -rf "$dir"
        return 1
    }
    echo "export TRENDWATCH_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/postgres"
    echo "export TRENDWATCH_TEST_POSTGRES_DIR=$dir"
}

stop() {
    local dir=${1:-${TRENDWATCH_TEST_POSTGRES_DIR:-}}
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
        echo ".ci/postgres.sh stop: give the folder that start printed" >&2
        return 1
    fi
    case "$dir" in
        */trendwatch-pg.*) ;;
        *)
            echo ".ci/postgres.sh stop: $dir is not a folder of this script" >&2
            return 1
            ;;
    esac
    if [ -d "$dir/data" ]; then
        as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *)
        echo "usage: .ci/postgres.sh start | stop DIR" >&2
        exit 2
        ;;
esac
