#!/usr/bin/env bash
# `make bench`: the release binary beside aws-cdk-lib's own
# Custom::CrossRegionStringParameterReader handler, on the same moto: first
# across an emulated cross-region network (TLS relays 145 ms away, timelines
# of every connection and call), then on loopback (start-up cost), plus scale
# figures (benches/provider.rs). Installs the pinned CDK handler
# (benches/cdk/package-lock.json) into .tools/bench-cdk, never committed;
# starts moto on a free loopback port and stops it however the run ends.
#
#   BENCH_PAIRS=20 make bench      # more loopback pairs (default 12)
#   BENCH_XR_PAIRS=15 make bench   # more cross-region pairs (default 9; 0 skips them)
#   BENCH_RTT_MS=80 make bench     # another distance to the source region (default 145)
#   BENCH_LOOPBACK=0 make bench    # cross-region figures only
#   BENCH_CDK=0 make bench         # ours only, no node/npm needed
#   make bench-chart               # also refresh the committed docs/benchmarks.svg
#
# The tables and the chart go under cargo's target directory (bench/), so a
# run leaves the work tree clean; CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

if [ "${BENCH_CDK:-1}" != 0 ]; then
  command -v node >/dev/null && command -v npm >/dev/null || {
    echo "bench: node and npm are needed for CDK's side (or run with BENCH_CDK=0)" >&2
    exit 1
  }
  dest=.tools/bench-cdk
  want=$(sha256sum benches/cdk/package-lock.json | cut -d' ' -f1)
  if [ "$(cat "$dest/.lock.sha" 2>/dev/null)" != "$want" ] || [ ! -d "$dest/node_modules/aws-cdk-lib" ]; then
    echo "bench: installing aws-cdk-lib 2.276.0's handler into $dest (benches/cdk/package-lock.json)"
    mkdir -p "$dest"
    cp benches/cdk/package.json benches/cdk/package-lock.json "$dest/"
    (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$dest/.lock.sha"
  fi
  # Laid out as CDK's CustomResourceProvider deploys it: the entry point as
  # __entrypoint__.js beside the reader's index.js.
  dist="$dest/node_modules/aws-cdk-lib/custom-resource-handlers/dist"
  mkdir -p "$dest/handler"
  cp "$dist/core/nodejs-entrypoint-handler/index.js" "$dest/handler/__entrypoint__.js"
  cp "$dist/aws-cloudfront/edge-function/index.js" "$dest/handler/index.js"
  export BENCH_CDK_HANDLER="$PWD/$dest/handler"
fi

# moto from the project's one moto starter, which runs the rest of this script
# under it and stops moto however the run ends.
if [ -z "${CRP_TEST_MOTO_URL:-}" ]; then
  exec .venv/bin/python scripts/demo/with_local_aws.py --bare bash scripts/bench.sh "$@"
fi
# What is measured is the Lambda binary exactly as it ships: release profile,
# no `cli` feature. The harness itself is built in the dev profile, which it
# shares with `make test` (a release build of it would compile the whole SDK a
# second time, with the dev-dependencies' features).
echo "rustc: $(rustc -V)"
cargo build --locked --release --no-default-features --bin cross-region-param
# Where cargo put it: target/, or CARGO_TARGET_DIR, or a cargo config's build.target-dir.
target_dir=$(cargo metadata --format-version 1 --no-deps | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export BENCH_CHART="${BENCH_CHART:-$target_dir/bench/benchmarks.svg}"
mkdir -p "$(dirname "$BENCH_CHART")"
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
  BENCH_OURS_BIN="$target_dir/release/cross-region-param" \
  cargo bench --locked --profile dev --bench provider
echo "bench: chart in $BENCH_CHART (\`make bench-chart\` refreshes the committed docs/benchmarks.svg)"
