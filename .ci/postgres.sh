#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries are installed for the PostgreSQL tests (Debian's `postgresql`
# package, version 15 on Debian 12). The tests start and stop their own server: `initdb` into a temp
# folder and `pg_ctl start` on a free 127.0.0.1 port, as the `postgres` user when run as root
# (tests/Shared/TestPostgres.cs). To use a server you started yourself instead, set
# CHROMA_TEST_POSTGRES to a superuser connection string (e.g. Host=127.0.0.1;Port=5432;Username=postgres).
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# apt as root, waiting while another apt or dpkg holds its lock (an unattended upgrade, another install): up to 5 minutes
# of retries instead of failing at once with "Could not get lock".
apt_root() {
  local attempt errors status
  errors=$(mktemp)
  for attempt in $(seq 1 30); do
    status=0
    as_root apt-get -o DPkg::Lock::Timeout=10 "$@" 2>"$errors" || status=$?
    cat "$errors" >&2
    if [ "$status" -eq 0 ]; then rm -f "$errors"; return 0; fi
    if ! grep -qE 'Could not get lock|Unable to lock' "$errors"; then rm -f "$errors"; return "$status"; fi
    printf 'apt is busy (another process holds its lock); retrying in 10 s (%s of 30)\n' "$attempt" >&2
    sleep 10
  done
  rm -f "$errors"
  return 1
}

if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  printf '\n==> PostgreSQL present (%s)\n' "$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"
  exit 0
fi

printf '\n==> installing PostgreSQL (Debian package postgresql) for the PostgreSQL tests\n'
apt_root update -qq
# Only the binaries are needed: the Debian package's own cluster is not used by the tests.
DEBIAN_FRONTEND=noninteractive apt_root install -y -qq postgresql >/dev/null
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "postgresql installed but initdb not found" >&2; exit 1; }
