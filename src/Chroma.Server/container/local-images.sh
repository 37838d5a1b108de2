# Sourced by prove-compose.sh: a private Docker engine and the local base images it builds without a registry.
# Expects CACHE, DOCKER_HOST (unix://$CACHE/docker.sock), step() and fail() from the caller; sets STARTED_DOCKERD.
# Images (kept between runs in $CACHE/docker; `docker rmi` them, or delete $CACHE, to start over):
#   chroma-local/aspnet:10.0           Debian 12 minbase + this machine's .NET and ASP.NET Core shared runtimes + user app (1654)
#   chroma-local/dotnet-sdk-base:10.0  the same + this machine's whole .NET SDK
#   chroma-local/dotnet-sdk:10.0       the SDK base + the NuGet packages src/Chroma.Server.Tool restores to (offline builds),
#                                      rebuilt when the package pins or project files change (label chroma.packages)
#   chroma-local/postgres:15           Debian 12 minbase + Debian's postgresql + postgres-entrypoint.sh

LOCAL_SDK_BASE=chroma-local/dotnet-sdk-base:10.0
LOCAL_SDK_IMAGE=chroma-local/dotnet-sdk:10.0
LOCAL_RUNTIME_IMAGE=chroma-local/aspnet:10.0
LOCAL_POSTGRES_IMAGE=chroma-local/postgres:15

# Starts a private engine (own data root, exec root and socket) unless one already answers on DOCKER_HOST.
start_private_engine() {
  mkdir -p "$CACHE"
  docker info >/dev/null 2>&1 && return 0
  dockerd --data-root "$CACHE/docker" --exec-root "$CACHE/exec" --host "$DOCKER_HOST" \
    --pidfile "$CACHE/dockerd.pid" >"$CACHE/dockerd.log" 2>&1 &
  STARTED_DOCKERD=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not start; see $CACHE/dockerd.log"
}

# Stops the engine started above and waits until it (and the containerd it runs) has exited.
stop_private_engine() {
  [ -n "${STARTED_DOCKERD:-}" ] || return 0
  kill "$STARTED_DOCKERD" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$STARTED_DOCKERD" 2>/dev/null || break; sleep 1; done
  if kill -0 "$STARTED_DOCKERD" 2>/dev/null; then echo "dockerd (pid $STARTED_DOCKERD) still running after 60 s" >&2; return 1; fi
  echo "stopped the dockerd this script started (pid $STARTED_DOCKERD)"
}

# Debian 12 minbase root file system, made once with debootstrap.
ensure_rootfs() {
  [ -x "$CACHE/rootfs/bin/sh" ] && return 0
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  debootstrap --variant=minbase --include=libicu72,libssl3,ca-certificates bookworm "$CACHE/rootfs" http://deb.debian.org/debian \
    >"$CACHE/debootstrap.log" 2>&1 || fail "debootstrap failed; see $CACHE/debootstrap.log"
}

# Runtime and SDK base images from the root file system and this machine's .NET.
ensure_dotnet_base_images() {
  docker image inspect "$LOCAL_RUNTIME_IMAGE" >/dev/null 2>&1 && docker image inspect "$LOCAL_SDK_BASE" >/dev/null 2>&1 && return 0
  ensure_rootfs
  local dotnet_home work
  dotnet_home=$(dirname "$(readlink -f "$(command -v dotnet)")")
  work=$(mktemp -d "$CACHE/work.XXXXXX")
  cp -a "$CACHE/rootfs" "$work/runtime"
  mkdir -p "$work/runtime/usr/share/dotnet"
  cp -a "$dotnet_home/dotnet" "$dotnet_home/host" "$dotnet_home/shared" "$work/runtime/usr/share/dotnet/"
  ln -sf /usr/share/dotnet/dotnet "$work/runtime/usr/bin/dotnet"
  chroot "$work/runtime" sh -c 'getent passwd app >/dev/null || { groupadd -g 1654 app && useradd -u 1654 -g app -m -s /usr/sbin/nologin app; }'
  if ! docker image inspect "$LOCAL_RUNTIME_IMAGE" >/dev/null 2>&1; then
    tar -C "$work/runtime" -c . | docker import \
      --change 'ENV DOTNET_ROOT=/usr/share/dotnet' --change 'ENV APP_UID=1654' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$LOCAL_RUNTIME_IMAGE" >/dev/null
  fi
  cp -a "$dotnet_home/." "$work/runtime/usr/share/dotnet/"
  tar -C "$work/runtime" -c . | docker import \
    --change 'ENV DOTNET_ROOT=/usr/share/dotnet' --change 'ENV DOTNET_CLI_TELEMETRY_OPTOUT=1' --change 'ENV DOTNET_NOLOGO=1' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$LOCAL_SDK_BASE" >/dev/null
  rm -rf "$work"
}

# The SDK image with the server's NuGet packages baked in, so `docker build` restores without a network.
# $1: repository root.
ensure_offline_sdk_image() {
  local root=$1 stage hash
  hash=$(cd "$root" && cat global.json nuget.config Directory.Build.props Directory.Build.targets Directory.Packages.props \
    src/Chroma/Chroma.csproj src/Chroma.Server/Chroma.Server.csproj src/Chroma.Cli/Chroma.Cli.csproj \
    src/Chroma.Server.Tool/Chroma.Server.Tool.csproj | sha256sum | cut -c1-16)
  if [ "$(docker image inspect -f '{{index .Config.Labels "chroma.packages"}}' "$LOCAL_SDK_IMAGE" 2>/dev/null)" = "$hash" ]; then
    return 0
  fi
  stage=$(mktemp -d "$CACHE/stage.XXXXXX")
  mkdir -p "$stage/restore/src"
  cp "$root"/{global.json,nuget.config,Directory.Build.props,Directory.Build.targets,Directory.Packages.props} "$stage/restore/"
  cp -r "$root/protos" "$stage/restore/"
  (cd "$root/src" && tar --exclude=bin --exclude=obj -c Chroma Chroma.Server Chroma.Cli Chroma.Server.Tool) | tar -C "$stage/restore/src" -x
  dotnet restore "$stage/restore/src/Chroma.Server.Tool/Chroma.Server.Tool.csproj" --packages "$stage/sdk/packages" -v q \
    || { rm -rf "$stage"; fail "restoring the server's packages on this machine failed"; }
  printf 'FROM %s\nCOPY packages /root/.nuget/packages\nLABEL chroma.packages=%s\n' "$LOCAL_SDK_BASE" "$hash" > "$stage/sdk/Dockerfile"
  docker build -q -t "$LOCAL_SDK_IMAGE" "$stage/sdk" >/dev/null || { rm -rf "$stage"; fail "building $LOCAL_SDK_IMAGE failed"; }
  rm -rf "$stage"
}

# PostgreSQL from Debian's package on the same root file system; the entry point gives it the official image's contract.
# $1: the folder holding postgres-entrypoint.sh.
ensure_postgres_image() {
  local here=$1 work
  docker image inspect "$LOCAL_POSTGRES_IMAGE" >/dev/null 2>&1 && return 0
  ensure_rootfs
  work=$(mktemp -d "$CACHE/pg.XXXXXX")
  cp -a "$CACHE/rootfs" "$work/pg"
  cp /etc/resolv.conf "$work/pg/etc/resolv.conf"
  # No service may start inside the chroot (the package's postinst would start a cluster on the host's port 5432).
  printf '#!/bin/sh\nexit 101\n' > "$work/pg/usr/sbin/policy-rc.d" && chmod 755 "$work/pg/usr/sbin/policy-rc.d"
  mount -t proc proc "$work/pg/proc"
  if ! chroot "$work/pg" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null && apt-get clean'; then
    umount "$work/pg/proc"; rm -rf "$work"; fail "installing postgresql into the image failed"
  fi
  umount "$work/pg/proc"
  # The package's own cluster (15/main) is not used: the entry point makes one in the volume.
  rm -rf "$work/pg/usr/sbin/policy-rc.d" "$work/pg/var/lib/postgresql/"* "$work/pg/etc/postgresql/"* "$work/pg/var/lib/apt/lists/"*
  : > "$work/pg/etc/resolv.conf"
  install -m 755 "$here/postgres-entrypoint.sh" "$work/pg/usr/local/bin/postgres-entrypoint.sh"
  tar -C "$work/pg" -c . | docker import \
    --change 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]' --change 'EXPOSE 5432' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$LOCAL_POSTGRES_IMAGE" >/dev/null
  rm -rf "$work"
}
