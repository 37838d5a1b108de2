#!/bin/sh
# Entry point of the local PostgreSQL image that prove-compose.sh builds when no registry is reachable (the official
# postgres image takes its place anywhere else). Same contract as the official image for what compose.yaml uses:
# POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB; the cluster lives in /var/lib/postgresql/data (a volume).
set -eu
BIN=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
DATA=/var/lib/postgresql/data
mkdir -p "$DATA" /run/postgresql
chown -R postgres:postgres "$DATA" /run/postgresql
chmod 700 "$DATA"
if [ ! -s "$DATA/PG_VERSION" ]; then
  printf '%s' "$POSTGRES_PASSWORD" > /tmp/pwfile
  chown postgres /tmp/pwfile
  su postgres -s /bin/sh -c "$BIN/initdb -D $DATA -U $POSTGRES_USER --pwfile=/tmp/pwfile --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --no-locale"
  rm -f /tmp/pwfile
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$DATA/pg_hba.conf"
  su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DATA -o '-c listen_addresses=' -w start"
  su postgres -s /bin/sh -c "$BIN/psql -U $POSTGRES_USER -d postgres -c 'CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\"'"
  su postgres -s /bin/sh -c "$BIN/pg_ctl -D $DATA -m fast -w stop"
fi
exec su postgres -s /bin/sh -c "exec $BIN/postgres -D $DATA -c listen_addresses='*'"
