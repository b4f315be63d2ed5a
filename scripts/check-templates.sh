#!/usr/bin/env bash
# Checks the provider template, the example templates, the request events and
# the CDK example. Offline once the tools are installed (.venv from
# requirements-dev.txt; examples/cdk/node_modules from `npm ci`, run here only
# when missing or older than package-lock.json).
#
# Run from the repository root:  bash scripts/check-templates.sh
# Prints one line per check and ends with "templates: N passed, M failed".
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python
LOGDIR=$(mktemp -d)
trap 'rm -rf "$LOGDIR"' EXIT

export SAM_CLI_TELEMETRY=0
export CDK_DISABLE_VERSION_CHECK=1
export CDK_DISABLE_CLI_TELEMETRY=true
export NO_UPDATE_NOTIFIER=1
export npm_config_update_notifier=false
export npm_config_fund=false
export npm_config_audit=false

passed=0
failed=0
n=0

# check NAME CMD... : runs CMD quietly, prints one line, shows the log on failure.
check() {
  local name=$1
  shift
  n=$((n + 1))
  local log=$LOGDIR/$n.log
  if "$@" >"$log" 2>&1; then
    passed=$((passed + 1))
    printf 'ok   %s\n' "$name"
  else
    failed=$((failed + 1))
    printf 'FAIL %s\n' "$name"
    grep -v 'Unknown .* config "nodedir"' "$log" | tail -n 40 | sed 's/^/     | /'
  fi
}

for tool in cfn-lint sam python; do
  if [[ ! -x $VENV/bin/$tool ]]; then
    echo "missing $VENV/bin/$tool: install requirements-dev.txt into $VENV first" >&2
    exit 2
  fi
done

templates=(template.yaml examples/*.yaml)

# 1. cfn-lint on the provider and the plain CloudFormation examples.
for t in "${templates[@]}"; do
  check "cfn-lint $t" "$VENV/bin/cfn-lint" -- "$t"
done

# 2. SAM's own validation (with its cfn-lint rules) on the same files.
for t in "${templates[@]}"; do
  check "sam validate --lint $t" "$VENV/bin/sam" validate --lint --region us-east-1 -t "$t"
done

# 3. Least privilege: no wildcard actions, no Resource '*', and the provider
#    role evaluated for several parameter sets.
check "IAM policies least-privilege (check_policy.py)" "$PY" scripts/check_policy.py "${templates[@]}"

# 4. Request events: valid CloudFormation custom-resource requests.
check_events() {
  "$PY" - events/*.json <<'PY'
import json, re, sys
from urllib.parse import urlsplit

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SOURCES = {"ParameterName", "Parameters", "ParametersPath", "FunctionName", "StackName"}
problems = []
for path in sys.argv[1:]:
    def bad(msg):
        problems.append(f"{path}: {msg}")
    ev = json.load(open(path))
    # ServiceToken is left out: tooling sends events without the top-level one.
    for key in ("RequestType", "ResponseURL", "StackId", "RequestId",
                "LogicalResourceId", "ResourceType", "ResourceProperties"):
        if key not in ev:
            bad(f"missing {key}")
    rtype = ev.get("RequestType")
    if rtype not in ("Create", "Update", "Delete"):
        bad(f"RequestType {rtype!r}")
    # A Delete without PhysicalResourceId (a Create that never answered) is a
    # real shape: the provider must still answer it.
    if rtype == "Update" and not ev.get("PhysicalResourceId"):
        bad("Update without PhysicalResourceId")
    if rtype == "Create" and "PhysicalResourceId" in ev:
        bad("Create with a PhysicalResourceId")
    if (rtype == "Update") != ("OldResourceProperties" in ev):
        bad("OldResourceProperties must be present exactly on Update")
    if ev.get("ResourceType") != "Custom::CrossRegionParam":
        bad("ResourceType is not Custom::CrossRegionParam")
    if not UUID.match(ev.get("RequestId", "")):
        bad("RequestId is not a UUID")
    url = urlsplit(ev.get("ResponseURL", ""))
    if url.scheme != "http" or url.hostname not in ("127.0.0.1", "localhost"):
        bad("ResponseURL must stay on loopback so local runs never reach AWS")
    for field in ("ResourceProperties", "OldResourceProperties"):
        props = ev.get(field)
        if props is None:
            continue
        if "ServiceToken" in ev and props.get("ServiceToken") != ev["ServiceToken"]:
            bad(f"{field}.ServiceToken differs from ServiceToken")
        if not props.get("Region"):
            bad(f"{field} without Region")
        if not SOURCES & set(props) and rtype != "Delete":
            bad(f"{field} names no source")
        def strings_only(v):
            if isinstance(v, dict):
                return all(strings_only(x) for x in v.values())
            if isinstance(v, list):
                return all(strings_only(x) for x in v)
            return isinstance(v, str)
        for k, v in props.items():
            # Old properties may hold lists and maps a template once had.
            if field == "OldResourceProperties":
                ok = strings_only(v)
            else:
                ok = isinstance(v, str) or (isinstance(v, dict) and all(isinstance(x, str) for x in v.values()))
            if not ok:
                bad(f"{field}.{k} is not a string (CloudFormation sends strings)")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"{len(sys.argv) - 1} events checked")
PY
}
check "events/*.json are CloudFormation requests" check_events

# 5. The CDK library (cdk/) and the example that uses it: one npm workspace at
#    the root (package-lock.json), installed only when needed.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=1  # jsii 5.9 still runs on Node 20
npm_install() {
  if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}
cdk_jsii() (cd cdk && npm run --silent build)
# The unit tests synthesize but never deploy: without the packaged provider
# binary they use a placeholder that `npm pack` refuses (cdk/scripts/provider-binary.js).
cdk_tests() (cd cdk && node scripts/provider-binary.js placeholder && npm test --silent)
cdk_compat() { bash scripts/cdk-compat.sh; }
# The package can never be packed around the placeholder (make cdk-package
# stages the real arm64 bootstrap first).
cdk_pack_refuses_placeholder() (
  cd cdk
  if head -c 4 assets/provider/bootstrap | grep -q ELF; then
    echo "a real provider binary is staged: nothing to refuse"
    exit 0
  fi
  if npm pack --dry-run >pack.log 2>&1; then
    cat pack.log; rm -f pack.log
    echo "npm pack accepted the placeholder"
    exit 1
  fi
  grep -q 'not an ELF binary' pack.log
  rm -f pack.log
)
cdk_typecheck() (cd examples/cdk && npx --no-install tsc --noEmit)
cdk_synth() (
  cd examples/cdk
  rm -rf cdk.out
  # deployId fixed so the synthesized templates are reproducible.
  npx --no-install cdk synth --quiet --no-notices -o cdk.out -c deployId=check
)
check "npm workspace npm ci (if needed)" npm_install
check "cdk/ jsii compile" cdk_jsii
check "cdk/ library tests (node --test, aws-cdk-lib/assertions)" cdk_tests
check "cdk/ library tests on the lowest supported aws-cdk-lib" cdk_compat
check "cdk/ npm pack refuses a package without the arm64 provider" cdk_pack_refuses_placeholder
check "examples/cdk tsc --noEmit" cdk_typecheck
check "examples/cdk cdk synth" cdk_synth
synth_templates=(examples/cdk/cdk.out/*.template.json)
# W3005: CDK adds a DependsOn on the function's role that a GetAtt already implies.
check "cfn-lint on synthesized CDK templates" "$VENV/bin/cfn-lint" --ignore-checks W3005 -- "${synth_templates[@]}"

# 5b. `crp plan` on the fresh synth output: it plans the same resources as the
#     trimmed copy tests/plan.rs uses (tests/fixtures/cdk-assembly), with the
#     same properties and environments. With moto (CRP_TEST_MOTO_URL, set by
#     scripts/test.sh) the crp binary also plans the real cdk.out.
check_plan_fixture() {
  "$PY" - <<'PY'
import json, os, subprocess, sys
from pathlib import Path

def crp_resources(root):
    root = Path(root)
    manifest = json.loads((root / "manifest.json").read_text())
    found = {}
    for name, art in manifest["artifacts"].items():
        if art["type"] != "aws:cloudformation:stack":
            continue
        tpl = json.loads((root / art["properties"]["templateFile"]).read_text())
        for lid, res in tpl["Resources"].items():
            if res["Type"] == "Custom::CrossRegionParam":
                props = {k: v for k, v in res["Properties"].items() if k != "Refresh"}
                found[(name, lid)] = (art["environment"], props)
    return found

real = crp_resources("examples/cdk/cdk.out")
fixture = crp_resources("tests/fixtures/cdk-assembly")
if real != fixture:
    print("tests/fixtures/cdk-assembly no longer matches the synthesized cdk.out:")
    print(" synth:  ", json.dumps({"/".join(k): v for k, v in real.items()}, sort_keys=True))
    print(" fixture:", json.dumps({"/".join(k): v for k, v in fixture.items()}, sort_keys=True))
    sys.exit(1)

moto = os.environ.get("CRP_TEST_MOTO_URL")
if not moto:
    print(f"{len(real)} resources match the fixture (no CRP_TEST_MOTO_URL: crp plan not run)")
    sys.exit(0)
subprocess.run(["cargo", "build", "--quiet", "--locked", "--bin", "crp"], check=True)
env = dict(os.environ, AWS_ENDPOINT_URL=moto, AWS_ACCESS_KEY_ID="test",
           AWS_SECRET_ACCESS_KEY="test", AWS_REGION="ap-northeast-1")
run = subprocess.run(["target/debug/crp", "plan", "--json", "examples/cdk/cdk.out"],
                     env=env, capture_output=True, text=True)
if run.returncode not in (0, 1):
    print(f"crp plan exited {run.returncode}: {run.stderr}")
    sys.exit(1)
rows = json.loads(run.stdout)
planned = sorted((r["stack"], r["logicalId"]) for r in rows)
if planned != sorted(real):
    print(f"crp plan listed {planned}, the synth holds {sorted(real)}")
    sys.exit(1)
for r in rows:
    if r["status"] not in ("ok", "FAILED") or not r["reason"]:
        print(f"unexpected row {r}")
        sys.exit(1)
print(f"crp plan examples/cdk/cdk.out: {len(rows)} resources, as in the fixture")
PY
}
check "crp plan on the synthesized cdk.out matches tests/fixtures/cdk-assembly" check_plan_fixture

# 6. No export deadlock possible: nothing exported but the SAM provider's own
#    ARN, nothing imported but that ARN (and nothing at all by the CDK app, whose
#    stacks carry their own provider), no CDK cross-region export machinery.
check_no_exports() {
  "$PY" - "$@" <<'PY'
import json, re, sys
from pathlib import Path
from cfnlint.decode import decode

ALLOWED_IMPORT = "CrossRegionParam-ServiceToken"
FORBIDDEN = re.compile(r"cdk-exports|ExportsWriter|ExportsReader|CrossRegionExport", re.I)
problems = []

def walk(node, path, found):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Fn::ImportValue":
                found.append((path, v))
            walk(v, f"{path}/{k}", found)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{path}/{i}", found)

for name in sys.argv[1:]:
    p = Path(name)
    tpl, errs = decode(str(p))
    if errs or tpl is None:
        problems.append(f"{p}: cannot parse")
        continue
    outputs = tpl.get("Outputs") or {}
    for key, out in outputs.items():
        if "Export" in out:
            # The provider's own ARN is the one export allowed: it never changes.
            if p.name == "template.yaml" and key == "ServiceToken":
                continue
            problems.append(f"{p}: output {key} has an Export")
    imports = []
    walk(tpl, "", imports)
    synthesized = "cdk.out" in p.parts
    for where, value in imports:
        # The plain CloudFormation examples import the SAM provider's ARN (it
        # never changes); the CDK app imports nothing at all.
        if synthesized or value != ALLOWED_IMPORT:
            problems.append(f"{p}: Fn::ImportValue {value!r} at {where}")
    resources = tpl.get("Resources") or {}
    if synthesized and any(r.get("Type") == "Custom::CrossRegionParam" for r in resources.values()):
        functions = {k: r for k, r in resources.items() if r.get("Type") == "AWS::Lambda::Function"}
        providers = [k for k, r in functions.items()
                     if r["Properties"].get("Runtime") == "provided.al2023"
                     and r["Properties"].get("Architectures") == ["arm64"]
                     and r["Properties"].get("Handler") == "bootstrap"]
        if len(providers) != 1 or len(functions) != 1:
            problems.append(f"{p}: {len(functions)} Lambda functions, {len(providers)} arm64 providers; want exactly one provider")
        for lid, r in resources.items():
            if r.get("Type") == "Custom::CrossRegionParam":
                token = r["Properties"].get("ServiceToken")
                if token != {"Fn::GetAtt": [providers[0] if providers else "?", "Arn"]}:
                    problems.append(f"{p}: {lid} ServiceToken {token!r} is not the stack's provider")
    for lid, res in (tpl.get("Resources") or {}).items():
        if FORBIDDEN.search(lid) or FORBIDDEN.search(str(res.get("Type", ""))):
            problems.append(f"{p}: resource {lid} ({res.get('Type')}) is CDK export machinery")

manifest = Path("examples/cdk/cdk.out/manifest.json")
if manifest.exists():
    m = json.loads(manifest.read_text())
    stacks = {k: v for k, v in m["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}
    for k in stacks:
        if FORBIDDEN.search(k):
            problems.append(f"cdk.out: stack {k} is CDK export machinery")
    want = {"EdgeStack": "us-east-1", "DomainStack": "us-east-1", "ClientAppStack": "ap-northeast-1"}
    for k, region in want.items():
        env = stacks.get(k, {}).get("environment", "")
        if env != f"aws://123456789012/{region}":
            problems.append(f"cdk.out: stack {k} environment {env!r}, want {region}")
    extra = set(stacks) - set(want)
    if extra:
        problems.append(f"cdk.out: unexpected stacks {sorted(extra)}")
    app = json.loads(Path("examples/cdk/cdk.out/ClientAppStack.template.json").read_text())
    crp = [k for k, r in app["Resources"].items() if r["Type"] == "Custom::CrossRegionParam"]
    if len(crp) < 2:
        problems.append("ClientAppStack: expected Custom::CrossRegionParam for the edge version and the domain outputs")
    assoc = json.dumps([r["Properties"]["DistributionConfig"]["DefaultCacheBehavior"].get("LambdaFunctionAssociations")
                        for r in app["Resources"].values() if r["Type"] == "AWS::CloudFront::Distribution"])
    edge = [k for k in crp if "FunctionName" in app["Resources"][k]["Properties"]]
    if len(edge) != 1 or f'"Fn::GetAtt": ["{edge[0]}", "VersionArn"]' not in assoc:
        problems.append("ClientAppStack: distribution does not use the edge version resource's VersionArn")
else:
    problems.append("examples/cdk/cdk.out/manifest.json missing (synth failed?)")

if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"{len(sys.argv) - 1} templates free of exports")
PY
}
check "no exports/imports but the ServiceToken, no cdk-exports stacks" \
  check_no_exports "${templates[@]}" "${synth_templates[@]}"

echo "templates: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
