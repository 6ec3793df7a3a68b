# shellcheck shell=bash
# Services the test suite needs: a real PostgreSQL server on loopback, private to this run.
#
# Sourced by scripts/test.sh (it exports RECLAIM_TEST_POSTGRES_URL and stops the server when
# the calling shell exits). Can also be sourced by hand:  source scripts/test-services.sh
#
# - uses pg_ctl/initdb from PATH or /usr/lib/postgresql/*/bin; when missing, installs Debian's
#   `postgresql` package with apt-get (CI runs as root on a fresh Debian machine);
# - the server refuses to run as root, so as root the data folder belongs to the `postgres`
#   user (created by the package) and the server runs through runuser/su;
# - initdb into a temporary folder, start on a free port on 127.0.0.1 (socket in that folder),
#   create database `reclaim_test`.
# An existing RECLAIM_TEST_POSTGRES_URL is kept as is (a server someone already runs).

_reclaim_pg_main() {
  if [ -n "${RECLAIM_TEST_POSTGRES_URL:-}" ]; then
    echo "test-services: using RECLAIM_TEST_POSTGRES_URL from the environment" >&2
    return 0
  fi

  local bindir=""
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    # /usr/local/bin may hold only symlinks to initdb/pg_ctl: use the folder they point into
    bindir="$(dirname "$(readlink -f "$(command -v initdb)")")"
  else
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  fi
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "test-services: PostgreSQL (initdb/pg_ctl) is missing and installing it needs root: apt-get install postgresql" >&2
      return 1
    fi
    echo "test-services: installing PostgreSQL (apt-get install postgresql)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2 || return 1
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$bindir" ]; then
      echo "test-services: postgresql installed but no /usr/lib/postgresql/*/bin found" >&2
      return 1
    fi
  fi

  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/reclaim-pg.XXXXXX")" || return 1
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres || return 1
    fi
    chown postgres "$dir" || return 1
    chmod 700 "$dir"
    if command -v runuser >/dev/null 2>&1; then
      run=(runuser -u postgres --)
    else
      run=(su postgres -s /bin/sh -c)
    fi
  fi
  _reclaim_pg_run() {
    if [ "${#run[@]}" -eq 0 ]; then
      "$@"
    elif [ "${run[0]}" = "su" ]; then
      "${run[@]}" "$(printf '%q ' "$@")"
    else
      "${run[@]}" "$@"
    fi
  }

  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')" || return 1

  _reclaim_pg_run "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
    echo "test-services: initdb failed, see $dir/initdb.log" >&2; cat "$dir/initdb.log" >&2; return 1; }
  _reclaim_pg_run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >/dev/null || {
    echo "test-services: PostgreSQL did not start, see $dir/server.log" >&2; cat "$dir/server.log" >&2; return 1; }
  local as_user=""
  if [ "${#run[@]}" -gt 0 ]; then
    as_user="runuser -u postgres -- "
    command -v runuser >/dev/null 2>&1 || as_user="su postgres -s /bin/sh -c "
  fi
  if [ "${as_user#su }" != "$as_user" ]; then
    _RECLAIM_PG_STOP="${as_user}$(printf '%q' "$(printf '%q ' "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop)") >/dev/null 2>&1; rm -rf $(printf '%q' "$dir")"
  else
    _RECLAIM_PG_STOP="${as_user}$(printf '%q ' "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop) >/dev/null 2>&1; rm -rf $(printf '%q' "$dir")"
  fi
  "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres reclaim_test || { eval "$_RECLAIM_PG_STOP"; return 1; }

  export RECLAIM_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/reclaim_test"
  export RECLAIM_TEST_POSTGRES_DIR="$dir"
  # stop the server when the sourcing shell exits, keeping any EXIT trap it already had
  local previous
  previous="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")"
  # shellcheck disable=SC2064
  trap "${previous:+$previous; }eval \"\$_RECLAIM_PG_STOP\"" EXIT
  echo "test-services: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (RECLAIM_TEST_POSTGRES_URL)" >&2
}

_reclaim_pg_main || { echo "test-services: could not start PostgreSQL" >&2; return 1 2>/dev/null || exit 1; }
