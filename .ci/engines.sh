#!/usr/bin/env bash
# Installs and starts the two Docker engines the tests run against, without a
# bridge or iptables so that no private-range address exists on the machine:
#   engine 20.10 (API 1.41) from Debian bookworm, socket $ENGINE_DIR/d20.sock
#   engine 26.1  (API 1.45) from Debian trixie,   socket $ENGINE_DIR/d26.sock
# plus Compose v2 from trixie as a docker CLI plugin. Every step skips what is
# already in place, so the script can run again on the same machine.
#
# Usage: engines.sh install | start | stop [d20] [d26] | running NAME
set -euo pipefail

ENGINE_DIR=${ENGINE_DIR:-/var/lib/mount-core-engines}
TRIXIE_DIR=$ENGINE_DIR/trixie
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

log() { printf '[engines] %s\n' "$*" >&2; }

mirror_uri() {
  # The same Debian mirror the machine already uses, read from its sources.
  local uri
  uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1 || true)
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { log "cannot find the Debian mirror in /etc/apt"; exit 1; }
  printf '%s' "$uri"
}

install_bookworm() {
  if command -v dockerd >/dev/null && [ -x /bin/busybox ] && command -v runc >/dev/null; then
    log "bookworm docker.io and busybox-static already installed"
    return
  fi
  log "installing docker.io and busybox-static from bookworm"
  apt-get update -qq
  # policy-rc.d keeps the package scripts from starting a system-wide daemon.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io busybox-static >/dev/null
  rm -f /usr/sbin/policy-rc.d
}

install_trixie() {
  if [ -x "$TRIXIE_DIR/root/usr/sbin/dockerd" ] && [ -x "$PLUGIN_DIR/docker-compose" ]; then
    log "trixie engine and compose plugin already extracted"
    return
  fi
  log "downloading docker.io, containerd and docker-compose from trixie"
  mkdir -p "$TRIXIE_DIR/lists/partial" "$TRIXIE_DIR/debs" "$TRIXIE_DIR/root"
  printf 'deb %s trixie main\n' "$(mirror_uri)" > "$TRIXIE_DIR/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$TRIXIE_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$TRIXIE_DIR/lists" -o Debug::NoLocking=1)
  apt-get "${opts[@]}" update -qq
  (cd "$TRIXIE_DIR/debs" && apt-get "${opts[@]}" download docker.io containerd docker-compose >/dev/null)
  local deb
  for deb in "$TRIXIE_DIR"/debs/*.deb; do
    dpkg -x "$deb" "$TRIXIE_DIR/root"
  done
  mkdir -p "$PLUGIN_DIR"
  cp "$TRIXIE_DIR/root/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN_DIR/docker-compose"
  chmod +x "$PLUGIN_DIR/docker-compose"
}

wait_for() {
  local sock=$1 i
  for i in $(seq 1 100); do
    if docker -H "unix://$sock" version >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  log "engine at $sock did not respond within 20 s; its log:"
  tail -n 40 "$ENGINE_DIR/$(basename "$sock" .sock).log" >&2 || true
  return 1
}

start_one() {
  local name=$1; shift
  local sock=$ENGINE_DIR/$name.sock pid=$ENGINE_DIR/$name.pid
  if [ -S "$sock" ] && docker -H "unix://$sock" version >/dev/null 2>&1; then
    log "$name already running at $sock"
    return
  fi
  mkdir -p "$ENGINE_DIR/$name-data" "$ENGINE_DIR/$name-exec"
  rm -f "$sock" "$pid"
  log "starting $name at $sock"
  # setsid detaches the daemon from the caller's process group, so a test runner
  # that kills its group does not take the engine with it.
  setsid "$@" --host "unix://$sock" --bridge=none --iptables=false --ip6tables=false \
    --data-root "$ENGINE_DIR/$name-data" --exec-root "$ENGINE_DIR/$name-exec" \
    --pidfile "$pid" >"$ENGINE_DIR/$name.log" 2>&1 < /dev/null &
  wait_for "$sock"
}

start() {
  start_one d20 dockerd
  local root=$TRIXIE_DIR/root
  # trixie's dockerd with its own containerd and shim, but bookworm's runc.
  mkdir -p "$ENGINE_DIR/d26-bin"
  ln -sf /usr/sbin/runc "$ENGINE_DIR/d26-bin/runc"
  PATH="$ENGINE_DIR/d26-bin:$root/usr/bin:$root/usr/sbin:$root/usr/libexec/docker:$PATH" \
    start_one d26 "$root/usr/sbin/dockerd"
}

running() {
  [ -S "$ENGINE_DIR/$1.sock" ] && docker -H "unix://$ENGINE_DIR/$1.sock" version >/dev/null 2>&1
}

stop() {
  local name p
  local names=("$@")
  [ ${#names[@]} -gt 0 ] || names=(d20 d26)
  for name in "${names[@]}"; do
    p=$ENGINE_DIR/$name.pid
    if [ -f "$p" ] && kill -0 "$(cat "$p")" 2>/dev/null; then
      log "stopping $name"
      kill "$(cat "$p")"
      for _ in $(seq 1 100); do kill -0 "$(cat "$p")" 2>/dev/null || break; sleep 0.2; done
    fi
  done
}

case "${1:-}" in
  install) install_bookworm; install_trixie ;;
  start) start ;;
  stop) shift; stop "$@" ;;
  running) running "$2" ;;
  *) echo "usage: $0 install|start|stop [d20] [d26]|running NAME" >&2; exit 2 ;;
esac
