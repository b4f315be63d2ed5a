#!/usr/bin/env bash
# Prints speed and memory figures (`make bench`): starts moto like the tests do,
# then runs the release-profile benchmark in benches/provider.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >target/moto-bench.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null && break
  sleep 0.2
done
CRP_TEST_MOTO_URL="http://127.0.0.1:$port" cargo bench --bench provider
