#!/usr/bin/env bash
# Builds the Lambda package without Docker: the arm64 `bootstrap`, zipped, via
# cargo-lambda (which cross-compiles with Zig). Prints the zip's size.
# `sam build` uses the same tools: run it with .venv-build/bin on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv-build/bin/cargo-lambda ]; then
  python3 -m venv .venv-build
  .venv-build/bin/pip install --quiet --disable-pip-version-check -r requirements-build.txt
fi
rustup target add aarch64-unknown-linux-gnu >/dev/null
export PATH="$PWD/.venv-build/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-lambda}"

# --no-default-features: the Lambda does not need the `cli` feature (clap, for `crp`).
cargo lambda build --release --arm64 --output-format zip --no-default-features --bin cross-region-param
zip="$CARGO_TARGET_DIR/lambda/cross-region-param/bootstrap.zip"
echo "built $zip ($(stat -c %s "$zip") bytes)"
