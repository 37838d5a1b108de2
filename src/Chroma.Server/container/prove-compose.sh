#!/usr/bin/env bash
# Proves compose.yaml (PostgreSQL + two Chroma replicas) on a machine without a container registry:
#   1. the private Docker engine and local base images of prove-container.sh (run that first, or this runs its
#      steps 1-3 through CHROMA_PROOF_KEEP_IMAGES=1),
#   2. a local PostgreSQL image (Debian 12 minbase + Debian's postgresql + postgres-entrypoint.sh),
#   3. docker-compose up --build: waits until PostgreSQL and both replicas are healthy,
#   4. imports 60 records through replica 1 and reads them through replica 2 (one store),
#   5. SIGKILLs replica 1, imports 60 more through replica 2, starts replica 1 again: it serves all 120,
#   6. docker-compose down -v (containers, volumes, the server image).
# Usage: sudo src/Chroma.Server/container/prove-compose.sh
# Needs `docker-compose` (Debian's docker-compose 1.29) or `docker compose`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE="$ROOT/src/Chroma.Server/container"
CACHE=${CHROMA_CONTAINER_CACHE:-/var/tmp/chroma-container}
SOCKET="$CACHE/docker.sock"
export DOCKER_HOST="unix://$SOCKET" DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
export CHROMA_SDK_IMAGE=chroma-local/dotnet-sdk:10.0 CHROMA_RUNTIME_IMAGE=chroma-local/aspnet:10.0 CHROMA_NUGET_AUDIT=false
export CHROMA_POSTGRES_IMAGE=chroma-local/postgres:15 CHROMA_SERVER_IMAGE=chroma-server:compose-proof
export CHROMA_POSTGRES_PASSWORD="proof-$$"
PROJECT=chroma-compose-proof
STARTED_DOCKERD=""

step() { printf '\n=== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
compose() { "${COMPOSE[@]}" -f "$HERE/compose.yaml" -p "$PROJECT" "$@"; }

cleanup() {
  step "cleanup"
  compose down -v --rmi local >/dev/null 2>&1 && echo "compose project removed" || true
  docker rmi "$CHROMA_SERVER_IMAGE" >/dev/null 2>&1 || true
  if [ -n "$STARTED_DOCKERD" ]; then kill "$STARTED_DOCKERD" 2>/dev/null && echo "stopped dockerd (pid $STARTED_DOCKERD)" || true; fi
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "run as root"
step "1. Docker engine and base images"
if ! docker info >/dev/null 2>&1; then
  dockerd --data-root "$CACHE/docker" --exec-root "$CACHE/exec" --host "$DOCKER_HOST" --pidfile "$CACHE/dockerd.pid" >"$CACHE/dockerd.log" 2>&1 &
  STARTED_DOCKERD=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not start; see $CACHE/dockerd.log"
fi
for image in "$CHROMA_SDK_IMAGE" "$CHROMA_RUNTIME_IMAGE"; do
  docker image inspect "$image" >/dev/null 2>&1 || fail "$image is missing: run prove-container.sh first (it builds and keeps the base images)"
done

step "2. local PostgreSQL image"
if ! docker image inspect "$CHROMA_POSTGRES_IMAGE" >/dev/null 2>&1; then
  [ -x "$CACHE/rootfs/bin/sh" ] || fail "no Debian root file system in $CACHE/rootfs: run prove-container.sh first"
  WORK=$(mktemp -d "$CACHE/pg.XXXXXX")
  cp -a "$CACHE/rootfs" "$WORK/pg"
  cp /etc/resolv.conf "$WORK/pg/etc/resolv.conf"
  mount -t proc proc "$WORK/pg/proc"
  chroot "$WORK/pg" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null && apt-get clean' \
    || { umount "$WORK/pg/proc"; fail "installing postgresql into the image failed"; }
  umount "$WORK/pg/proc"
  install -m 755 "$HERE/postgres-entrypoint.sh" "$WORK/pg/usr/local/bin/postgres-entrypoint.sh"
  tar -C "$WORK/pg" -c . | docker import \
    --change 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]' --change 'EXPOSE 5432' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$CHROMA_POSTGRES_IMAGE" >/dev/null
  rm -rf "$WORK"
fi

step "3. compose up (PostgreSQL + 2 replicas)"
compose config -q
compose up -d --build 2>&1 | grep -Ev '^\s*$' | tail -n 20
wait_healthy() {
  local id; id=$(compose ps -q "$1")
  for _ in $(seq 1 180); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || echo missing)
    [ "$status" = healthy ] && { echo "$1: $status"; return 0; }
    sleep 1
  done
  compose logs --tail 30 "$1"
  fail "$1 did not become healthy (last: $status)"
}
wait_healthy postgres; wait_healthy chroma-1; wait_healthy chroma-2

step "4. write through replica 1, read through replica 2"
dotnet build "$ROOT/src/Chroma.Server.Tool/Chroma.Server.Tool.csproj" -c Release -v q -nologo >/dev/null
CLI=(dotnet "$ROOT/src/Chroma.Server.Tool/bin/Release/net10.0/Chroma.Server.Tool.dll")
ONE=http://127.0.0.1:${CHROMA_PORT_1:-50061}; TWO=http://127.0.0.1:${CHROMA_PORT_2:-50062}
RECORDS=$(mktemp); trap 'rm -f "$RECORDS"; cleanup' EXIT
records() { : > "$RECORDS"; for i in $(seq "$1" "$2"); do printf '{"dataset":"training","label":"%d","embedding":[%d,1,0.5,-1]}\n' $((i % 2)) "$i" >> "$RECORDS"; done; }
total() { "${CLI[@]}" sets --endpoint "$1" --json | grep -o '"totalRecords":[0-9]*' | head -n 1 | cut -d: -f2; }
records 0 59
"${CLI[@]}" import --endpoint "$ONE" --set compose/1/fc --in "$RECORDS" --json
[ "$(total "$TWO")" = 60 ] || fail "replica 2 does not see the 60 records written through replica 1"
echo "replica 2 sees 60 records"

step "5. SIGKILL replica 1, write through replica 2, start replica 1 again"
compose kill -s SIGKILL chroma-1
records 60 119
"${CLI[@]}" import --endpoint "$TWO" --set compose/1/fc --in "$RECORDS" --json
compose start chroma-1
wait_healthy chroma-1
[ "$(total "$ONE")" = 120 ] || fail "replica 1 does not serve all 120 records after its restart"
echo "replica 1 serves 120 records after SIGKILL and restart"

echo
echo "COMPOSE PROOF PASSED"
