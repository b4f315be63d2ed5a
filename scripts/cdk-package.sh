#!/usr/bin/env bash
# `make cdk-package`: the CDK library's npm package with the provider inside.
#
# 1. `make build`'s arm64 bootstrap (the binary template.yaml deploys) is staged
#    into cdk/assets/provider/ (cdk/scripts/provider-binary.js refuses anything
#    but an aarch64 ELF executable, and so does npm's prepack).
# 2. jsii compiles the library; `npm pack` writes target/cdk-package/*.tgz.
# 3. An empty directory installs that tarball beside aws-cdk-lib and synthesizes
#    a ten-line app with no Rust toolchain on PATH: the package is complete.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=1
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

bash scripts/build.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# The bootstrap out of the zip template.yaml's function is made of (cargo-lambda
# leaves only the zip), with the mode the zip records.
staging="$target_dir/cdk-package-staging"
rm -rf "$staging"
mkdir -p "$staging"
python3 - "$target_dir/lambda/cross-region-param/bootstrap.zip" "$staging" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    info = z.getinfo("bootstrap")
    path = os.path.join(sys.argv[2], "bootstrap")
    with z.open(info) as src, open(path, "wb") as dst:
        dst.write(src.read())
    os.chmod(path, (info.external_attr >> 16) & 0o777 or 0o755)
PY
node cdk/scripts/provider-binary.js stage "$staging/bootstrap"

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
(cd cdk && npm run --silent build)

out="$target_dir/cdk-package"
rm -rf "$out"
mkdir -p "$out"
(cd cdk && npm pack --pack-destination "$out")
tarball=$(ls "$out"/*.tgz)
echo "package: $tarball ($(stat -c %s "$tarball") bytes)"
tar -tvzf "$tarball" | grep ' package/assets/provider/bootstrap$'

# A fresh app: the tarball, aws-cdk-lib and constructs from the registry, the
# same pins as the example; PATH without cargo, rustc or cargo-lambda.
app=$(mktemp -d)
trap 'rm -rf "$app"' EXIT
cat >"$app/package.json" <<JSON
{ "name": "fresh-app", "private": true,
  "dependencies": { "cdk-cross-region-param": "file:$tarball", "aws-cdk-lib": "2.276.0", "constructs": "10.8.1" } }
JSON
cat >"$app/app.js" <<'JS'
const { App, Stack } = require('aws-cdk-lib');
const cloudfront = require('aws-cdk-lib/aws-cloudfront');
const { EdgeFunctionVersion, CrossRegionParameter } = require('cdk-cross-region-param');
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'App', { env: { account: '123456789012', region: 'ap-northeast-1' } });
const edge = EdgeFunctionVersion.latest(stack, 'Edge', { functionName: 'AuthFunction',
  edgeEventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST });
new CrossRegionParameter(stack, 'PoolId', { region: 'us-east-1', parameterName: '/myapp/pool-id' });
console.log(`synthesized ${app.synth().stacks.length} stack; edge version ${stack.resolve(edge.edgeArn)['Fn::GetAtt'].join('.')}`);
JS
(cd "$app" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
clean_path=/usr/local/bin:/usr/bin:/bin
for tool in cargo rustc cargo-lambda zig; do
  if PATH=$clean_path command -v "$tool" >/dev/null; then
    echo "cdk-package: $tool is on $clean_path; the check needs a PATH without it" >&2
    exit 1
  fi
done
(cd "$app" && env -i HOME="$HOME" PATH="$clean_path" node app.js)
python3 - "$app/cdk.out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
tpl = json.loads((out / "App.template.json").read_text())
fns = [r for r in tpl["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
assert len(fns) == 1, fns
p = fns[0]["Properties"]
assert (p["Runtime"], p["Architectures"], p["Handler"]) == ("provided.al2023", ["arm64"], "bootstrap"), p
assets = [d for d in out.iterdir() if d.name.startswith("asset.")]
boot = [d / "bootstrap" for d in assets if (d / "bootstrap").is_file()]
assert len(boot) == 1, assets
head = boot[0].read_bytes()[:20]
assert head[:4] == b"\x7fELF" and head[18] == 0xB7, "the staged asset is not an aarch64 ELF"
assert boot[0].stat().st_mode & 0o111, "bootstrap lost its executable bit"
print(f"fresh app: 1 provider function (provided.al2023, arm64), asset {boot[0].parent.name}/bootstrap "
      f"({boot[0].stat().st_size} bytes, aarch64 ELF, executable); no Rust toolchain on PATH")
PY
