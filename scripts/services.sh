#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis for the test suite (no systemd needed).
#
#   scripts/services.sh start DIR   start both on free loopback ports; writes DIR/env (DATABASE_URL, REDIS_URL,
#                                   HUASHEN_SERVICES_DIR) and DIR/redis-ctl, DIR/pg-ctl (start|stop one again)
#   scripts/services.sh stop DIR    stop both and delete DIR
#
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` account (created if missing).
set -euo pipefail

action=${1:?usage: services.sh start|stop DIR}
dir=${2:?usage: services.sh start|stop DIR}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
    for candidate in /usr/local/bin /usr/lib/postgresql/*/bin; do
        [ -x "$candidate/pg_ctl" ] && { echo "$candidate"; return; }
    done
    command -v pg_ctl >/dev/null && { dirname "$(command -v pg_ctl)"; return; }
    echo "PostgreSQL server binaries (initdb, pg_ctl) not found — install them with: sudo apt-get install postgresql" >&2
    exit 1
}

start() {
    command -v redis-server >/dev/null || { echo "redis-server not found — sudo apt-get install redis-server" >&2; exit 1; }
    local bin; bin=$(pg_bin)
    stop quietly
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    mkdir -p "$dir/pg" "$dir/pgsock" "$dir/pglog" "$dir/redis"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pg" "$dir/pgsock" "$dir/pglog"
    chmod 700 "$dir/pg"
    local pg_port redis_port
    pg_port=$(free_port)
    redis_port=$(free_port)
    as_postgres "$bin/initdb" -D "$dir/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_postgres "$bin/pg_ctl" -D "$dir/pg" -w -l "$dir/pglog/pg.log" -o \
        "-p $pg_port -k $dir/pgsock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$dir/pglog/pg.log" >&2; exit 1; }
    # As a deployment runs it (docs/deploy.md, docker-compose.yml): the append-only file, so a restart
    # keeps the queues; tests of restarts must see what users would. The fault tests stop and start both
    # servers again with DIR/redis-ctl and DIR/pg-ctl.
    cat >"$dir/redis-ctl" <<CTL
#!/usr/bin/env bash
# start|stop this Redis (same port, same append-only file)
set -eu
case "\$1" in
    start) redis-server --bind 127.0.0.1 --port $redis_port --save '' --appendonly yes --appendfsync everysec \\
               --maxmemory-policy noeviction --daemonize yes \\
               --pidfile $dir/redis/redis.pid --logfile $dir/redis/redis.log --dir $dir/redis
           for _ in \$(seq 50); do redis-cli -p $redis_port ping >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1 ;;
    stop) redis-cli -p $redis_port shutdown nosave >/dev/null 2>&1 || true
          while redis-cli -p $redis_port ping >/dev/null 2>&1; do sleep 0.05; done ;;
esac
CTL
    cat >"$dir/pg-ctl" <<CTL
#!/usr/bin/env bash
# start|stop this PostgreSQL (same port, same data)
set -eu
run() { if [ "\$(id -u)" -eq 0 ]; then runuser -u postgres -- "\$@"; else "\$@"; fi; }
case "\$1" in
    start) run $bin/pg_ctl -D $dir/pg -w -l $dir/pglog/pg.log -o "-p $pg_port -k $dir/pgsock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null ;;
    stop) run $bin/pg_ctl -D $dir/pg -m fast -w stop >/dev/null ;;
esac
CTL
    chmod +x "$dir/redis-ctl" "$dir/pg-ctl"
    "$dir/redis-ctl" start || { cat "$dir/redis/redis.log" >&2; exit 1; }
    psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE huashen" >/dev/null
    cat >"$dir/env" <<ENV
export DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/huashen
export REDIS_URL=redis://127.0.0.1:$redis_port/0
export HUASHEN_SERVICES_DIR=$dir
ENV
    echo "services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($dir)"
}

stop() {
    [ -d "$dir" ] || return 0
    if [ -f "$dir/redis/redis.pid" ]; then
        kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true
    fi
    if [ -f "$dir/pg/postmaster.pid" ]; then
        as_postgres "$(pg_bin)/pg_ctl" -D "$dir/pg" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    [ "${1:-}" = quietly ] || echo "services stopped"
}

case "$action" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: services.sh start|stop DIR" >&2; exit 2 ;;
esac
