#!/usr/bin/env bash
# Builds and tests Chroma for .NET with nothing but the .NET SDK installed; changes nothing outside this folder.
#
#   ./build.sh test          build, then the fast tier and the TorchSharp tier (what the README documents)
#   ./build.sh test all      build, then every tier: fast, torch, fuzz, soak, crash, packaging, browser, postgres
#   ./build.sh test <tier>   build, then one tier (fast, torch, fuzz, soak, crash, packaging, browser, postgres)
#   ./build.sh native        only prepare the project-local C++ runtime for TorchSharp (see below)
#
# Tiers are NUnit categories ([Category("soak")], ...); "fast" is every test without one of them. Results go to
# artifacts/test-results/<tier>/*.trx; the last line is "N passed, N failed, N skipped" over every assembly run,
# and the exit code is non-zero when anything failed.
#
# TorchSharp 0.107's native library needs GLIBCXX_3.4.32 (libstdc++ from GCC 13+). Where the system's libstdc++
# is older (Debian 12 has GLIBCXX_3.4.30), Debian 13's libstdc++6 cannot simply be put on LD_LIBRARY_PATH: it needs
# glibc 2.38 (Debian 12 has 2.36). So the torch tier runs under a project-local runtime instead: Debian 13's
# libc6, libgcc-s1 and libstdc++6, downloaded with apt into artifacts/native (apt's own state there too, nothing
# installed, no apt source added), and a copy of the `dotnet` host whose ELF interpreter and RPATH point at them.
# Only processes started through that host use it; the rest of the machine is untouched.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# dotnet test starts one test host per assembly at once; on a loaded two-core machine the largest host once took over
# the default 90 s to answer the runner's handshake, and the tier was aborted with no test failed. Give it 5 minutes.
export VSTEST_CONNECTION_TIMEOUT=${VSTEST_CONNECTION_TIMEOUT:-300}

ALL_TIERS=(fast torch fuzz soak crash packaging browser postgres)
SLOW_CATEGORIES=(torch fuzz soak crash packaging browser postgres)
NATIVE="$ROOT/artifacts/native"
RESULTS="$ROOT/artifacts/test-results"
DOTNET=${DOTNET:-dotnet}

log() { printf '\n==> %s\n' "$*"; }

system_has_glibcxx_3_4_32() {
  local lib
  lib=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
  [ -n "$lib" ] && grep -q 'GLIBCXX_3\.4\.32' "$lib"
}

# Prints the dotnet host the torch tier runs under: the system's when its libstdc++ is new enough, else the
# project-local one (prepared on first use).
torch_dotnet() {
  if system_has_glibcxx_3_4_32; then
    echo "$DOTNET"
    return
  fi
  prepare_native >&2
  echo "$NATIVE/dotnet/dotnet"
}

prepare_native() {
  local sysroot="$NATIVE/trixie" host="$NATIVE/dotnet"
  if [ -x "$host/dotnet" ] && "$host/dotnet" --version >/dev/null 2>&1; then
    log "project-local C++ runtime ready ($sysroot)"
    return
  fi
  if [ "$(uname -m)" != x86_64 ] || ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    echo "error: TorchSharp needs libstdc++ with GLIBCXX_3.4.32 (GCC 13+). This script can fetch one only on" >&2
    echo "x86-64 Debian/Ubuntu (apt-get, dpkg-deb); install a newer libstdc++6 or run the torch tier elsewhere." >&2
    return 1
  fi
  log "fetching Debian 13 libc6, libgcc-s1, libstdc++6 and patchelf into $NATIVE (nothing is installed)"
  local apt="$NATIVE/apt"
  rm -rf "$apt" "$sysroot" "$host"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$apt/empty" "$sysroot" "$host"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$apt/sources.list"
  : >"$apt/status"
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/empty"
    -o "Dir::Etc::Preferences=$apt/empty/none" -o "Dir::Etc::PreferencesParts=$apt/empty"
    -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status" -o "Dir::Cache=$apt/cache"
    -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" -qq)
  apt-get "${opts[@]}" update
  (cd "$apt/debs" && apt-get "${opts[@]}" download libc6 libgcc-s1 libstdc++6 patchelf)
  local deb
  for deb in "$apt/debs"/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
  local lib="$sysroot/usr/lib/x86_64-linux-gnu"
  local loader="$lib/ld-linux-x86-64.so.2"

  # A dotnet root next to the system's: the same sdk/, shared/, host/... (symlinks) and a patched copy of the host.
  local real
  real=$(dirname "$(readlink -f "$(command -v "$DOTNET")")")
  local entry
  for entry in "$real"/*; do
    [ "$(basename "$entry")" = dotnet ] || ln -s "$entry" "$host/"
  done
  cp "$real/dotnet" "$host/dotnet"
  chmod u+w "$host/dotnet"
  # patchelf is Debian 13's too, so it runs under the same loader and libraries.
  "$loader" --library-path "$lib" "$sysroot/usr/bin/patchelf" \
    --set-interpreter "$loader" --force-rpath --set-rpath "$lib" "$host/dotnet"
  "$host/dotnet" --version >/dev/null
  log "project-local C++ runtime ready: $(cd "$apt/debs" && echo *.deb)"
}

build() {
  log "restore and build (Release)"
  "$DOTNET" build Chroma.Sdk.sln -c Release
}

# run_tier <tier>: one dotnet test over the solution with the tier's category filter. Under the project-local host the
# torch tier runs vstest.console directly: `dotnet test` would start the test host through the system's dotnet.
run_tier() {
  local tier=$1 filter
  case "$tier" in
    fast)
      filter=$(printf 'TestCategory!=%s&' "${SLOW_CATEGORIES[@]}")
      filter=${filter%&}
      ;;
    *) filter="TestCategory=$tier" ;;
  esac
  local out="$RESULTS/$tier"
  rm -rf "$out"
  mkdir -p "$out"
  log "tier $tier ($filter)"
  local started=$SECONDS rc=0 host="$DOTNET"
  if [ "$tier" = torch ] && ! host=$(torch_dotnet); then
    echo "tier torch: no C++ runtime with GLIBCXX_3.4.32 could be prepared" >&2
    echo 1 >"$out/exit-code"
    return
  fi
  if [ "$host" = "$DOTNET" ]; then
    "$DOTNET" test Chroma.Sdk.sln -c Release --no-build --settings tests/tiers.runsettings --filter "$filter" \
      --logger trx --results-directory "$out" || rc=$?
  else
    local sdk
    sdk="$(dirname "$(readlink -f "$(command -v "$DOTNET")")")/sdk/$("$DOTNET" --version)"
    "$host" exec "$sdk/vstest.console.dll" tests/Chroma.TorchSharp.Tests/bin/Release/net10.0/Chroma.TorchSharp.Tests.dll \
      --settings:tests/tiers.runsettings "--TestCaseFilter:$filter" --logger:trx "--ResultsDirectory:$out" || rc=$?
  fi
  echo "tier $tier: $((SECONDS - started)) s, exit code $rc"
  echo "$rc" >"$out/exit-code"
}

# Sums the TRX counters of every tier run. A tier whose assemblies ran no test writes no TRX; that is not a failure.
summarize() {
  local passed=0 failed=0 skipped=0 files=0 trx counters
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  while IFS= read -r -d '' trx; do
    files=$((files + 1))
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    local total executed
    total=$(get total); executed=$(get executed)
    passed=$((passed + $(get passed)))
    failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
    skipped=$((skipped + total - executed))
  done < <(find "$RESULTS" -name '*.trx' -print0)
  local code
  for code in "$RESULTS"/*/exit-code; do
    [ -e "$code" ] || continue
    if [ "$(cat "$code")" -ne 0 ] && [ "$failed" -eq 0 ]; then
      echo "dotnet test failed in $(basename "$(dirname "$code")") without a failed test in its results" >&2
      failed=1
    fi
  done
  if [ "$files" -eq 0 ]; then
    echo "no test results were written" >&2
    failed=$((failed + 1))
  fi
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
}

command -v "$DOTNET" >/dev/null || { echo "the .NET SDK 10 is required (https://dot.net)" >&2; exit 1; }
case "${1:-test}" in
  native) prepare_native ;;
  test)
    case "${2:-default}" in
      default) tiers=(fast torch) ;;
      all) tiers=("${ALL_TIERS[@]}") ;;
      *) tiers=("$2") ;;
    esac
    build
    rm -rf "$RESULTS"
    for tier in "${tiers[@]}"; do run_tier "$tier"; done
    summarize
    ;;
  *) echo "usage: ./build.sh [test [all|fast|torch|fuzz|soak|crash|packaging|browser|postgres] | native]" >&2; exit 2 ;;
esac
