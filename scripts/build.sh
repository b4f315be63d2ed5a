#!/usr/bin/env bash
# Builds the Lambda package without Docker: the arm64 `bootstrap`, zipped, via
# cargo-lambda (which cross-compiles with Zig). Prints the zip's size.
# `sam build` runs the same `cargo lambda build --release --arm64` in the same
# target/ directory, so whichever runs second reuses the other's build.
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs (or refreshes) the pinned build tools when requirements-build.txt changed.
stamp=.venv-build/.requirements-build.sha
want=$(sha256sum requirements-build.txt | cut -d' ' -f1)
if [ ! -x .venv-build/bin/python ]; then
  python3 -m venv .venv-build
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "build: installing build tools (requirements-build.txt)"
  .venv-build/bin/pip install --quiet --disable-pip-version-check -r requirements-build.txt
  echo "$want" > "$stamp"
fi
rustup target add aarch64-unknown-linux-gnu >/dev/null
export PATH="$PWD/.venv-build/bin:$PATH"

# The same flags as `sam build` (which cannot pass feature flags), so either
# reuses the other's build: both read [package.metadata.lambda.build] in
# Cargo.toml, which builds the Lambda without the `cli` feature (clap, the YAML
# reader, SSO and credential_process are compiled for `crp` only).
cargo lambda build --release --arm64 --output-format zip --bin cross-region-param
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
zip="$target_dir/lambda/cross-region-param/bootstrap.zip"
echo "built $zip ($(stat -c %s "$zip") bytes)"
