#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian 12 machine (run as
# root: the two Docker engines, Compose v2, the local images, the Node
# packages), then runs `npm test` against Docker 20.10 and against 26.1.
# Engines this script started are stopped at the end. Exits non-zero when
# any run fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/engines.sh install
# Stop at the end only the engines this run starts; ones already running stay up.
started=()
for engine in d20 d26; do
  bash .ci/engines.sh running "$engine" || started+=("$engine")
done
bash .ci/engines.sh start
if [ ${#started[@]} -gt 0 ]; then
  trap 'bash .ci/engines.sh stop "${started[@]}"' EXIT
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi

status=0
for engine in d20 d26; do
  export DOCKER_HOST=unix:///var/lib/mount-core-engines/$engine.sock
  bash .ci/images.sh
  echo "== npm test against $engine ($(docker version --format '{{.Server.Version}}, API {{.Server.APIVersion}}'))"
  npm test || status=1
done
exit $status
