#!/usr/bin/env bash
# Proves the Chroma server image on a machine without a container registry:
#   1. starts a private Docker engine (installs docker.io and debootstrap if missing),
#   2. builds local base images (local-images.sh: a minimal Debian 12 root file system plus this machine's .NET,
#      the server's NuGet packages baked into the SDK image),
#   3. builds src/Chroma.Server/Dockerfile with them (multi-stage, offline restore),
#   4. runs the image with a data volume, waits for HEALTHCHECK = healthy, answers the gRPC
#      health check and queries from the host (the chroma-server CLI), imports records, and runs a
#      new console project that installs the packed Chroma package from a local folder against it,
#   5. restarts the container and checks the records are still there,
#   6. removes the container, the volume and the image (base images stay cached; --purge drops them).
# Usage: sudo src/Chroma.Server/container/prove-container.sh [--purge]
# Environment: CHROMA_CONTAINER_CACHE (default /var/tmp/chroma-container), CHROMA_PROOF_PORT (default 50151).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE="$ROOT/src/Chroma.Server/container"
CACHE=${CHROMA_CONTAINER_CACHE:-/var/tmp/chroma-container}
PORT=${CHROMA_PROOF_PORT:-50151}
PURGE=${1:-}
SOCKET="$CACHE/docker.sock"
export DOCKER_HOST="unix://$SOCKET" DOCKER_BUILDKIT=0
# shellcheck source=local-images.sh
. "$HERE/local-images.sh"
IMAGE=chroma-server:proof
CONTAINER=chroma-proof
VOLUME=chroma-proof-data
STARTED_DOCKERD=""

step() { printf '\n=== %s\n' "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local rc=$?
  step "cleanup"
  if docker info >/dev/null 2>&1; then
    if docker container inspect "$CONTAINER" >/dev/null 2>&1; then docker rm -f "$CONTAINER" >/dev/null && echo "removed container $CONTAINER"; fi
    if docker volume inspect "$VOLUME" >/dev/null 2>&1; then docker volume rm "$VOLUME" >/dev/null && echo "removed volume $VOLUME"; fi
    if docker image inspect "$IMAGE" >/dev/null 2>&1; then docker rmi "$IMAGE" >/dev/null && echo "removed image $IMAGE"; fi
    if [ "$PURGE" = "--purge" ]; then
      docker rmi "$LOCAL_SDK_IMAGE" "$LOCAL_SDK_BASE" "$LOCAL_RUNTIME_IMAGE" >/dev/null 2>&1 && echo "removed base images" || true
    fi
  fi
  rm -rf "${STAGE:-}" "${PROOF_TMP:-}"
  stop_private_engine || rc=1
  exit "$rc"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "run as root (it starts a Docker engine and builds root file systems)"

step "1. Docker engine"
if ! docker info >/dev/null 2>&1 && { ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; }; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi
# A private engine: its own data, exec root and socket, so nothing of the host's setup is touched.
start_private_engine
docker version --format 'engine {{.Server.Version}} at '"$DOCKER_HOST"

step "2. local base images (no registry) and offline NuGet packages"
# The packages the server needs are restored on this machine and baked into the SDK image, so the build inside the
# container never needs the network (local-images.sh; the images stay cached in $CACHE/docker between runs).
ensure_dotnet_base_images
ensure_offline_sdk_image "$ROOT"
docker images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep chroma-local
echo "SDK image $LOCAL_SDK_IMAGE has $(docker run --rm "$LOCAL_SDK_IMAGE" sh -c 'ls /root/.nuget/packages | wc -l') packages"

step "3. build context"
# Only what the Dockerfile copies.
STAGE=$(mktemp -d "$CACHE/stage.XXXXXX")
cp "$ROOT"/{global.json,nuget.config,Directory.Build.props,Directory.Build.targets,Directory.Packages.props,.dockerignore} "$STAGE/"
cp -r "$ROOT/protos" "$STAGE/"
mkdir -p "$STAGE/src"
(cd "$ROOT/src" && tar --exclude=bin --exclude=obj -c Chroma Chroma.Server Chroma.Cli Chroma.Server.Tool) | tar -C "$STAGE/src" -x

step "4. docker build -f src/Chroma.Server/Dockerfile"
docker build -f "$STAGE/src/Chroma.Server/Dockerfile" \
  --build-arg SDK_IMAGE="$LOCAL_SDK_IMAGE" --build-arg RUNTIME_IMAGE="$LOCAL_RUNTIME_IMAGE" --build-arg NUGET_AUDIT=false -t "$IMAGE" "$STAGE" \
  2>&1 | grep -E '^Step|Successfully|error|warn' || true
docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "the image was not built"
docker image inspect "$IMAGE" --format 'image {{.Id}}: user={{.Config.User}} volumes={{json .Config.Volumes}} ports={{json .Config.ExposedPorts}} healthcheck={{json .Config.Healthcheck.Test}}'

step "5. run with a data volume"
docker volume create "$VOLUME" >/dev/null
docker run -d --name "$CONTAINER" -p "127.0.0.1:$PORT:50051" -v "$VOLUME:/data" \
  --health-interval 2s --health-start-period 5s "$IMAGE" >/dev/null
wait_healthy() {
  for _ in $(seq 1 90); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$CONTAINER")
    [ "$status" = healthy ] && { echo "container health: $status"; return 0; }
    [ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] || break
    sleep 1
  done
  docker logs "$CONTAINER" | tail -20
  fail "the container did not become healthy (last status: ${status:-unknown})"
}
wait_healthy
docker exec "$CONTAINER" sh -c 'echo "inside: uid=$(id -u) user=$(id -un)"; ls -ld /data'

step "6. from the host: gRPC health check, import, queries"
dotnet build "$ROOT/src/Chroma.Server.Tool/Chroma.Server.Tool.csproj" -c Release -v q -nologo >/dev/null
CLI=(dotnet "$ROOT/src/Chroma.Server.Tool/bin/Release/net10.0/Chroma.Server.Tool.dll")
ENDPOINT="http://127.0.0.1:$PORT"
"${CLI[@]}" health --endpoint "$ENDPOINT"
RECORDS="$CACHE/proof-records.jsonl"
: > "$RECORDS"
for i in $(seq 0 59); do
  dataset=training; [ $((i % 3)) -eq 0 ] && dataset=production
  printf '{"dataset":"%s","label":"%d","embedding":[%d,%d.5,0.25,-1]}\n' "$dataset" $((i % 2)) "$i" $((i % 7)) >> "$RECORDS"
done
"${CLI[@]}" import --endpoint "$ENDPOINT" --set proof/1/fc --in "$RECORDS" --json
"${CLI[@]}" sets --endpoint "$ENDPOINT"
before=$("${CLI[@]}" sets --endpoint "$ENDPOINT" --json)
echo "$before"
echo "$before" | grep -q '"totalRecords":60' || fail "expected 60 records before the restart"
"${CLI[@]}" neighbours --endpoint "$ENDPOINT" --set proof/1/fc --vector 10,3.5,0.25,-1 --k 3

step "6b. the packed Chroma package, installed into a new console project, logs to the container"
PKG_VERSION="0.0.0-container-proof.$$"
PROOF_TMP=$(mktemp -d "$CACHE/consumer.XXXXXX")
CONSUMER="$PROOF_TMP/consumer"
dotnet pack "$ROOT/src/Chroma/Chroma.csproj" -c Release -o "$PROOF_TMP/packages" -p:Version="$PKG_VERSION" -v q -nologo >/dev/null
mkdir -p "$CONSUMER"
cat > "$CONSUMER/nuget.config" <<NUGET
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$PROOF_TMP/packages" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
NUGET
cat > "$CONSUMER/Consumer.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings><NuGetAudit>false</NuGetAudit></PropertyGroup>
  <ItemGroup><PackageReference Include="Chroma" Version="$PKG_VERSION" /></ItemGroup>
</Project>
CSPROJ
cat > "$CONSUMER/Program.cs" <<'PROGRAM'
using Chroma;
await using var client = new ChromaClient(new Uri(args[0]));
var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("packaged", "1", "fc", 4));
for (var i = 0; i < 40; i++) set.LogTraining([i, 1, 2, 3], label: (i % 2).ToString());
await client.FlushAsync().WaitAsync(TimeSpan.FromSeconds(60));
var info = (await client.ListSetsAsync()).Single(s => s.SetId == set.Descriptor.Id);
Console.WriteLine($"packaged client: exported {client.Statistics.Exported}, server holds {info.TotalRecords}");
return info.TotalRecords == 40 ? 0 : 1;
PROGRAM
(cd "$CONSUMER" && dotnet run -c Release -- "$ENDPOINT") || fail "the packaged client could not log to the container"

step "7. restart the container: the records persist in the volume"
docker restart "$CONTAINER" >/dev/null
sleep 1
wait_healthy
after=$("${CLI[@]}" sets --endpoint "$ENDPOINT" --json)
echo "$after"
echo "$after" | grep -q '"totalRecords":60' || fail "expected 60 records after the restart"
exported=$("${CLI[@]}" export --endpoint "$ENDPOINT" --set proof/1/fc --format jsonl | wc -l)
echo "exported after restart: $exported records"
[ "$exported" -eq 60 ] || fail "expected 60 exported records"
docker logs "$CONTAINER" 2>&1 | grep -m2 'listening' || true

echo
echo "CONTAINER PROOF PASSED"
