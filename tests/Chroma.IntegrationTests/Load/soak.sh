#!/usr/bin/env bash
# Soak test: N concurrent ChromaClients log 128-d records to a standalone Chroma server process on
# loopback for a fixed time, then report records/s, server RSS (idle, start, max, end), server CPU,
# p50/p99 batch ack latency (the chroma.client.batch.ack_latency histogram) and errors (must be 0).
#
# Usage (from the repository root):
#   tests/Chroma.IntegrationTests/Load/soak.sh [seconds=300] [clients=8]
# The CI runs the same test with the defaults of the test itself (8 clients x 20 s).
set -euo pipefail

seconds="${1:-300}"
clients="${2:-8}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"

dotnet build "$root/tests/Chroma.IntegrationTests" -c Release --nologo -v quiet
CHROMA_SOAK_SECONDS="$seconds" CHROMA_SOAK_CLIENTS="$clients" \
  dotnet test "$root/tests/Chroma.IntegrationTests" -c Release --no-build -s "$root/tests/tiers.runsettings" \
    --filter "FullyQualifiedName~Load.SoakTests" \
    --logger "console;verbosity=detailed" | grep -E "soak:|Passed|Failed|Expected|But was" | awk '!seen[$0]++'
