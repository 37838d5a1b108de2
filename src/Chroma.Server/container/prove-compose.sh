#!/usr/bin/env bash
# Proves compose.yaml (PostgreSQL + two Chroma replicas) on a machine without a container registry:
#   1. a private Docker engine (own socket, data root and exec root under $CACHE; the host's engine is not touched)
#      and local base images (local-images.sh: debootstrapped Debian 12 + this machine's .NET, the server's NuGet
#      packages baked into the SDK image for an offline build, Debian's PostgreSQL with postgres-entrypoint.sh),
#   2. docker-compose up --build: waits until PostgreSQL and both replicas are healthy,
#   3. imports 60 records through replica 1 and reads them through replica 2 (gRPC and Studio's web port: one store),
#   4. SIGKILLs replica 1, imports 60 more through replica 2, starts replica 1 again: it serves all 120,
#   5. docker-compose down -v: containers, network, volumes and the server image go; the engine this script started stops.
# Usage: sudo src/Chroma.Server/container/prove-compose.sh [--purge]
#   --purge also removes the local base images (they are kept in $CACHE/docker otherwise, so a rerun skips them).
# Environment: CHROMA_CONTAINER_CACHE (default /var/tmp/chroma-container: engine data, debootstrapped root file system),
#   CHROMA_PROOF_KEEP_IMAGES=1 keeps the server image and its build layers too (a rerun rebuilds only what changed),
#   CHROMA_PORT_1/2 (default 50061/50062) and CHROMA_WEB_PORT_1/2 (default 50071/50072) on 127.0.0.1.
# Needs `docker-compose` (Debian's docker-compose 1.29) or `docker compose`, dockerd, and debootstrap on a first run
# (installs Debian's docker.io, debootstrap and docker-compose when one is missing).
#
# Runs seen (date, command, timings, result): container/README.md. Passed 2026-12-02 08:18 UTC.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE="$ROOT/src/Chroma.Server/container"
CACHE=${CHROMA_CONTAINER_CACHE:-/var/tmp/chroma-container}
PURGE=${1:-}
SOCKET="$CACHE/docker.sock"
export DOCKER_HOST="unix://$SOCKET" DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
# shellcheck source=local-images.sh
. "$HERE/local-images.sh"
export CHROMA_SDK_IMAGE=$LOCAL_SDK_IMAGE CHROMA_RUNTIME_IMAGE=$LOCAL_RUNTIME_IMAGE CHROMA_NUGET_AUDIT=false
export CHROMA_POSTGRES_IMAGE=$LOCAL_POSTGRES_IMAGE CHROMA_SERVER_IMAGE=chroma-server:compose-proof
export CHROMA_POSTGRES_PASSWORD="proof-$$"
export CHROMA_PORT_1=${CHROMA_PORT_1:-50061} CHROMA_PORT_2=${CHROMA_PORT_2:-50062}
export CHROMA_WEB_PORT_1=${CHROMA_WEB_PORT_1:-50071} CHROMA_WEB_PORT_2=${CHROMA_WEB_PORT_2:-50072}
PROJECT=chroma-compose-proof
STARTED_DOCKERD=""
RECORDS=""
BEGAN=$SECONDS
STEP_BEGAN=$SECONDS

step() { printf '\n=== [%4ds, previous step %ds] %s\n' $((SECONDS - BEGAN)) $((SECONDS - STEP_BEGAN)) "$*"; STEP_BEGAN=$SECONDS; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
compose() { "${COMPOSE[@]}" -f "$HERE/compose.yaml" -p "$PROJECT" "$@"; }

cleanup() {
  local rc=$?
  step "cleanup"
  [ -z "$RECORDS" ] || rm -f "$RECORDS"
  if docker info >/dev/null 2>&1; then
    [ "$rc" -eq 0 ] || compose logs --tail 40 2>/dev/null || true
    compose down -v --remove-orphans 2>&1 | grep -Ev '^\s*$' || true
    if [ "${CHROMA_PROOF_KEEP_IMAGES:-}" != 1 ]; then
      docker rmi "$CHROMA_SERVER_IMAGE" >/dev/null 2>&1 && echo "removed image $CHROMA_SERVER_IMAGE" || true
      docker image prune -f >/dev/null 2>&1 || true
    fi
    if [ "$PURGE" = "--purge" ]; then
      docker rmi "$LOCAL_SDK_IMAGE" "$LOCAL_SDK_BASE" "$LOCAL_RUNTIME_IMAGE" "$LOCAL_POSTGRES_IMAGE" >/dev/null 2>&1 && echo "removed base images" || true
    fi
    echo "left behind: $(docker ps -aq | wc -l) containers, $(docker volume ls -q | wc -l) volumes, images: $(docker images --format '{{.Repository}}:{{.Tag}}' | tr '\n' ' ')"
  fi
  stop_private_engine || rc=1
  exit "$rc"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "run as root (it starts a Docker engine and builds root file systems)"

step "0. the chroma-server CLI on this machine (the client of the proof)"
# CHROMA_PROOF_CLI_BUILT=1 reuses the CLI already built (Release) instead of building it again.
[ "${CHROMA_PROOF_CLI_BUILT:-}" = 1 ] && [ -f "$ROOT/src/Chroma.Server.Tool/bin/Release/net10.0/Chroma.Server.Tool.dll" ] \
  || dotnet build "$ROOT/src/Chroma.Server.Tool/Chroma.Server.Tool.csproj" -c Release -v q -nologo >/dev/null || fail "building the CLI failed"
# Calls may take long on a loaded machine (replicas building their indexes, the import's commits): 120 s each.
cli() { dotnet "$ROOT/src/Chroma.Server.Tool/bin/Release/net10.0/Chroma.Server.Tool.dll" "$@" --timeout 120; }
CLI=(cli)

step "1. private Docker engine and local base images (no registry)"
# What a bare Debian 12 machine lacks: the engine, debootstrap and a compose front end (Debian's docker-compose 1.29).
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null || ! "${COMPOSE[@]}" version >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap docker-compose >/dev/null
  if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi
fi
start_private_engine
docker version --format 'engine {{.Server.Version}} at '"$DOCKER_HOST"
ensure_dotnet_base_images
ensure_offline_sdk_image "$ROOT"
ensure_postgres_image "$HERE"
docker images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep chroma-local

step "2. compose build, compose up (PostgreSQL + 2 replicas)"
compose config -q
compose build 2>&1 | grep -E '^Step|Successfully|error|warn|ERROR' || true
docker image inspect "$CHROMA_SERVER_IMAGE" --format "server image $CHROMA_SERVER_IMAGE: {{.Size}} bytes" || fail "the server image was not built"
echo "built in $((SECONDS - STEP_BEGAN)) s"
UP_BEGAN=$SECONDS
compose up -d 2>&1 | grep -Ev '^\s*$' || true
wait_healthy() {
  local id status=missing
  id=$(compose ps -q "$1")
  for _ in $(seq 1 180); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || echo missing)
    [ "$status" = healthy ] && { echo "$1: $status $((SECONDS - UP_BEGAN)) s after $2"; return 0; }
    sleep 1
  done
  compose logs --tail 30 "$1"
  fail "$1 did not become healthy (last: $status)"
}
wait_healthy postgres 'compose up'; wait_healthy chroma-1 'compose up'; wait_healthy chroma-2 'compose up'
compose ps

step "3. write through replica 1, read through replica 2"
ONE=http://127.0.0.1:$CHROMA_PORT_1; TWO=http://127.0.0.1:$CHROMA_PORT_2
RECORDS=$(mktemp)
# Record i: a fixed id and timestamp (a re-import is a duplicate, not new content), input URI proof/i, and a direction of its own (the last component is 1).
records() {
  : > "$RECORDS"
  for i in $(seq "$1" "$2"); do
    printf '{"id":"0192f5c0-0000-7000-8000-%012d","timestampUnixMs":1796000000000,"dataset":"training","inputUri":"proof/%d","label":"%d","embedding":[%d,%d,%d,1]}\n' \
      "$i" "$i" $((i % 2)) $((i % 7)) $((i % 11)) $((i % 13)) >> "$RECORDS"
  done
}
# The input URI of the nearest training record to record $2's vector, asked of endpoint $1.
nearest() {
  local i=$2
  "${CLI[@]}" neighbours --endpoint "$1" --set compose/1/fc --vector "$((i % 7)),$((i % 11)),$((i % 13)),1" --k 1 --json | jq -r '.neighbors[0].record.inputUri'
}
total() { "${CLI[@]}" sets --endpoint "$1" --json | grep -o '"totalRecords":[0-9]*' | head -n 1 | cut -d: -f2; }
"${CLI[@]}" health --endpoint "$ONE"; "${CLI[@]}" health --endpoint "$TWO"
records 0 59
"${CLI[@]}" import --endpoint "$ONE" --set compose/1/fc --in "$RECORDS" --json
seen=$(total "$TWO")
[ "$seen" = 60 ] || fail "replica 2 sees ${seen:-no} records instead of the 60 written through replica 1"
echo "replica 2 sees 60 records"
# Read-your-writes across replicas: the nearest neighbour of record 42's vector, asked of replica 2, is record 42.
found=$(nearest "$TWO" 42)
[ "$found" = proof/42 ] || fail "replica 2's nearest neighbour of record 42 is ${found:-nothing}"
echo "replica 2's index holds the records written through replica 1 (nearest neighbour of record 42: $found)"
# Studio on each replica's published web port (Chroma__Web__Port): the page, and the set with its 60 records.
for port in "$CHROMA_WEB_PORT_1" "$CHROMA_WEB_PORT_2"; do
  page=$(curl -fsS "http://127.0.0.1:$port/") || fail "Studio does not answer on 127.0.0.1:$port"
  grep -qi '<html' <<<"$page" || fail "Studio on 127.0.0.1:$port did not send its page"
  sets=$(curl -fsS "http://127.0.0.1:$port/api/sets") || fail "Studio's /api/sets does not answer on 127.0.0.1:$port"
  jq -e '.[] | select(.setId == "compose/1/fc") | .total == 60' <<<"$sets" >/dev/null || fail "Studio on 127.0.0.1:$port does not show the 60 records: $sets"
  echo "Studio on 127.0.0.1:$port shows the set with 60 records"
done

step "4. SIGKILL replica 1, write through replica 2, start replica 1 again"
compose kill -s SIGKILL chroma-1 2>&1 | grep -Ev '^\s*$' || true
docker inspect -f 'replica 1 after SIGKILL: status={{.State.Status}} exit={{.State.ExitCode}}' "$(compose ps -q chroma-1)"
records 60 119
"${CLI[@]}" import --endpoint "$TWO" --set compose/1/fc --in "$RECORDS" --json
UP_BEGAN=$SECONDS
compose start chroma-1 2>&1 | grep -Ev '^\s*$' || true
wait_healthy chroma-1 'compose start'
seen=$(total "$ONE")
[ "$seen" = 120 ] || fail "replica 1 serves ${seen:-no} records after its restart instead of 120"
found=$(nearest "$ONE" 101)
[ "$found" = proof/101 ] || fail "replica 1's nearest neighbour of record 101 (written while it was down) is ${found:-nothing}"
exported=$("${CLI[@]}" export --endpoint "$ONE" --set compose/1/fc --format jsonl | wc -l)
[ "$exported" -eq 120 ] || fail "replica 1 exported $exported records instead of 120"
echo "replica 1 serves 120 records after SIGKILL and restart (export: $exported, nearest neighbour of record 101: $found)"
# Exactly once across replicas: the second 60, imported again through replica 1, are all duplicates.
again=$("${CLI[@]}" import --endpoint "$ONE" --set compose/1/fc --in "$RECORDS" --json) || true
echo "$again"
echo "$again" | jq -e '.accepted == 0 and .duplicates == 60' >/dev/null || fail "re-importing the second 60 through replica 1 stored records again"
[ "$(total "$TWO")" = 120 ] || fail "replica 2 does not hold exactly 120 records after the re-import"

echo
echo "COMPOSE PROOF PASSED in $((SECONDS - BEGAN)) s"
