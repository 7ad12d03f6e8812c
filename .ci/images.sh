#!/usr/bin/env bash
# Makes the local images the tests use, without a registry, in the engine that
# DOCKER_HOST names:
#   local/busybox:test  busybox-static with its applet links, CMD sleep 3600
#   local/node:20       this machine's node binary, the libraries it links and
#                       busybox for a shell; the base of the product's image
# Skips an image that is already there.
set -euo pipefail
: "${DOCKER_HOST:?set DOCKER_HOST to the socket of the engine, for example unix:///var/run/docker.sock}"

log() { printf '[images] %s\n' "$*" >&2; }
have() { docker image inspect "$1" >/dev/null 2>&1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

busybox_root() {
  local root=$1 applet
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in sh ash sleep cat ls echo mkdir rm touch test true false env id wget stat kill ps grep head tail wc; do
    ln -sf busybox "$root/bin/$applet"
  done
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
}

if have local/busybox:test; then
  log "local/busybox:test already present"
else
  log "making local/busybox:test"
  busybox_root "$work/busybox"
  tar -C "$work/busybox" -c . | docker import -c 'CMD ["/bin/sleep","3600"]' - local/busybox:test >/dev/null
fi

if have local/node:20; then
  log "local/node:20 already present"
else
  log "making local/node:20 from $(command -v node) ($(node --version))"
  root=$work/node
  busybox_root "$root"
  mkdir -p "$root/usr/bin"
  cp "$(readlink -f "$(command -v node)")" "$root/usr/bin/node"
  # Copy each library the binary links, and the dynamic loader, to the same path.
  ldd "$(command -v node)" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}' | sort -u |
    while read -r lib; do
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/bin:/bin' -c 'CMD ["/usr/bin/node"]' - local/node:20 >/dev/null
fi
