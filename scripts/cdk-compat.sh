#!/usr/bin/env bash
# The CDK library's tests against the lowest aws-cdk-lib and constructs that
# cdk/package.json's peerDependencies admit (pinned by scripts/cdk-compat's lock
# file, installed into .tools/cdk-compat on first use). Runs the compiled
# library and tests (cdk/lib, cdk/test-build: build and test cdk/ first) from a
# copy beside that install, so that they load the old aws-cdk-lib.
set -euo pipefail
cd "$(dirname "$0")/.."

pins=scripts/cdk-compat
dest=.tools/cdk-compat
lowest=$(node -p 'require("./scripts/cdk-compat/package.json").dependencies["aws-cdk-lib"]')
peer=$(node -p 'require("./cdk/package.json").peerDependencies["aws-cdk-lib"]')
if [[ $peer != "^$lowest" ]]; then
  echo "cdk/package.json admits aws-cdk-lib $peer, but the compatibility run pins $lowest" >&2
  exit 1
fi

mkdir -p "$dest"
if ! cmp -s "$pins/package-lock.json" "$dest/package-lock.json" || [[ ! -d $dest/node_modules/aws-cdk-lib ]]; then
  cp "$pins/package.json" "$pins/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
fi
rm -rf "$dest/pkg"
mkdir -p "$dest/pkg"
cp -r cdk/lib cdk/assets cdk/test-build "$dest/pkg/"
version=$(node -p "require('./$dest/node_modules/aws-cdk-lib/package.json').version")
echo "aws-cdk-lib $version"
(cd "$dest/pkg" && node --test test-build/)
