#!/usr/bin/env python3
"""End to end: the CDK library's synthesized ClientAppStack deploys on moto.

examples/cdk is synthesized with the library (cdk/); its ClientAppStack, with
the provider function the library adds, is created through moto's
CloudFormation in ap-northeast-1, after the CDK CLI itself published the
stack's file assets to moto's S3 (`cdk publish-assets`). moto cannot run
Lambda functions, so the custom resource requests its CloudFormation sends are
answered by the real provider binary under a local Lambda Runtime API
(scripts/demo/), with the environment moto holds for the provider function.
The stack must reach CREATE_COMPLETE (moto's status) with the newest
AuthFunction version in its EdgeFunctionVersionArn output.

What the stack reads is deployed first: the synthesized EdgeStack (plus two
more published versions) and DomainStack in us-east-1, and the CDK bootstrap
resources the templates and the asset publishing need. Resource types moto's
CloudFormation has no model for are probed on moto, and what moto cannot
create is left out of the submitted template, with the list and the reason
printed. Everything runs on loopback; everything started is stopped.

Usage: python scripts/cdk_e2e.py [--check] [--provider-bin PATH]
Exit: 0 all checks passed, 1 a check failed, 2 could not run.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import logging
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo import cfn, moto, runtime  # noqa: E402

ACCOUNT = "123456789012"  # examples/cdk/cdk.json, and moto's default account
EDGE_REGION = "us-east-1"
APP_REGION = "ap-northeast-1"
QUALIFIER = "hnb659fds"
FUNCTION = "AuthFunction"
EXAMPLE = ROOT / "examples/cdk"
PROVIDER_TYPE = "Custom::CrossRegionParam"
NPM_TIMEOUT_S = 900
SYNTH_TIMEOUT_S = 300
PUBLISH_TIMEOUT_S = 180
STATUS_WAIT_S = 30.0


class CouldNotRun(Exception):
    """A step the checks need could not run (exit 2)."""


class Report:
    """The account of the run and the assertion groups."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.groups: dict[str, list[tuple[bool, str]]] = {}
        self.n = 0

    def step(self, title: str) -> None:
        self.n += 1
        print(f"\n[{time.monotonic() - self.start:5.1f}s] {self.n}. {title}", flush=True)

    def say(self, text: str) -> None:
        print(f"    {text}", flush=True)

    def check(self, group: str, ok: bool, what: str) -> bool:
        self.groups.setdefault(group, []).append((ok, what))
        if not ok:
            self.say(f"MISMATCH ({group}): {what}")
        return ok

    def failed(self) -> bool:
        return any(not ok for checks in self.groups.values() for ok, _ in checks)

    def summary(self, check_mode: bool) -> None:
        if check_mode:
            print(f"\n[{time.monotonic() - self.start:5.1f}s] checks")
            for group, checks in self.groups.items():
                bad = [what for ok, what in checks if not ok]
                if bad:
                    print(f"FAIL {group}: " + "; ".join(bad))
                else:
                    print(f"ok   {group}: " + "; ".join(what for _, what in checks))
        total = sum(len(c) for c in self.groups.values())
        failed = sum(1 for c in self.groups.values() for ok, _ in c if not ok)
        if failed:
            print(f"cdk_e2e: {failed} of {total} checks failed")
        else:
            print(f"cdk_e2e: all {total} checks in {len(self.groups)} groups passed")


# --- preparing the workspace -------------------------------------------------

def run(cmd: list[str], cwd: Path, timeout: int, env: dict[str, str] | None = None) -> str:
    """Runs `cmd` in a process group of its own, bounded; its output, or CouldNotRun with its tail.

    The whole group is stopped however the call ends (npx runs the CLI as a
    child of its own).
    """
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    except OSError as e:
        raise CouldNotRun(f"`{' '.join(cmd)}` could not start: {e}") from e
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise CouldNotRun(f"`{' '.join(cmd)}` did not finish within {timeout} s") from e
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.returncode != 0:
        tail = "\n".join((out or "").strip().splitlines()[-30:])
        raise CouldNotRun(f"`{' '.join(cmd)}` (in {cwd}) exited with {proc.returncode}:\n{tail}")
    return out or ""


def node_env(cdk_home: Path | None = None) -> dict[str, str]:
    """The caller's environment without any AWS setting: nothing reaches a real account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(CDK_DISABLE_CLI_TELEMETRY="true", NO_COLOR="1", CI="true")
    if cdk_home is not None:
        cdk_home.mkdir(parents=True, exist_ok=True)
        env["CDK_HOME"] = str(cdk_home)  # the CLI's caches stay in the run's temporary directory
    return env


def prepare(r: Report) -> None:
    """npm packages, the library's build and the provider asset, when missing or stale."""
    marker = ROOT / "node_modules/.package-lock.json"
    lock = ROOT / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        r.say("npm ci at the repository root (node_modules missing or older than package-lock.json)")
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], ROOT, NPM_TIMEOUT_S, node_env())
    built = ROOT / "cdk/lib/index.js"
    sources = list((ROOT / "cdk/src").glob("*.ts"))
    if not built.exists() or any(s.stat().st_mtime > built.stat().st_mtime for s in sources):
        r.say("building the library (npm run build -w cdk: jsii), cdk/lib is missing or older than cdk/src")
        run(["npm", "run", "build", "-w", "cdk"], ROOT, NPM_TIMEOUT_S, node_env())
    if not (ROOT / "cdk/assets/provider/bootstrap").exists():
        r.say("cdk/assets/provider/bootstrap is missing: a placeholder stands in (moto never runs it)")
        run(["node", "cdk/scripts/provider-binary.js", "placeholder"], ROOT, 60, node_env())


def synth(r: Report, out: Path) -> dict[str, dict[str, Any]]:
    run(["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices",
         "-o", str(out), "-c", "deployId=e2e"], EXAMPLE, SYNTH_TIMEOUT_S, node_env(out.parent / "home"))
    templates = {name: json.loads((out / f"{name}.template.json").read_text())
                 for name in ("EdgeStack", "DomainStack", "ClientAppStack")}
    r.say(f"cdk synth -c deployId=e2e -> {', '.join(f'{n}.template.json' for n in templates)}")
    return templates


# --- reading templates ---------------------------------------------------------

def references(node: Any) -> set[str]:
    """Logical ids `node` names with Ref, Fn::GetAtt or Fn::Sub (pseudo parameters left out)."""
    out: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                out.add(v.split(".", 1)[0] if isinstance(v, str) else v[0])
            elif k == "Fn::Sub":
                text = v if isinstance(v, str) else v[0]
                out |= {m.split(".", 1)[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
            out |= references(v)
    elif isinstance(node, list):
        for v in node:
            out |= references(v)
    return {x for x in out if not x.startswith("AWS::")}


def depends_on(resource: dict[str, Any]) -> set[str]:
    d = resource.get("DependsOn") or []
    return {d} if isinstance(d, str) else set(d)


def check_template(r: Report, templates: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    """The library's shape: one function (the provider) serving every custom resource."""
    t = templates["ClientAppStack"]
    res = t["Resources"]
    functions = [k for k, v in res.items() if v["Type"] == "AWS::Lambda::Function"]
    customs = [k for k, v in res.items() if v["Type"] == PROVIDER_TYPE]
    g = "template"
    r.check(g, len(functions) == 1, f"exactly one AWS::Lambda::Function (found {functions})")
    provider = functions[0] if functions else ""
    props = res.get(provider, {}).get("Properties", {})
    r.check(g, props.get("Architectures") == ["arm64"] and props.get("Runtime") == "provided.al2023",
            f"it is the provider: {props.get('Runtime')}, {props.get('Architectures')}")
    tokens = [res[c]["Properties"].get("ServiceToken") for c in customs]
    r.check(g, len(customs) >= 2 and all(tok == {"Fn::GetAtt": [provider, "Arn"]} for tok in tokens),
            f"the ServiceToken of all {len(customs)} {PROVIDER_TYPE} is Fn::GetAtt [{provider}, Arn]")
    exports = sum(len(cfn.find_key(tt.get("Outputs", {}), "Export")) for tt in templates.values())
    imports = sum(len(cfn.find_key(tt, "Fn::ImportValue")) for tt in templates.values())
    r.check(g, exports == 0 and imports == 0,
            f"{exports} Exports and {imports} Fn::ImportValue in the three templates")
    r.say(f"ClientAppStack: {len(res)} resources, {len(customs)} {PROVIDER_TYPE} ({', '.join(customs)}), "
          f"one function {provider} ({props.get('Runtime')}, {props.get('Architectures', ['?'])[0]})")
    r.say(f"Exports: {exports}, Fn::ImportValue: {imports} (EdgeStack, DomainStack, ClientAppStack)")
    return provider, customs


# --- moto ----------------------------------------------------------------------

def bootstrap(r: Report, aws: moto.LocalAws) -> str:
    """What `cdk bootstrap` leaves that the templates and the asset publishing read."""
    source = ROOT / "node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml"
    match = re.search(r"CdkBootstrapVersion:.*?Value: '(\d+)'", source.read_text(), re.S) if source.exists() else None
    if not match:
        raise CouldNotRun(f"no CdkBootstrapVersion in {source}")
    version = match.group(1)
    for region in (EDGE_REGION, APP_REGION):
        aws.client("ssm", region).put_parameter(
            Name=f"/cdk-bootstrap/{QUALIFIER}/version", Value=version, Type="String")
        s3 = aws.client("s3", region)
        bucket = f"cdk-{QUALIFIER}-assets-{ACCOUNT}-{region}"
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    r.say(f"SSM /cdk-bootstrap/{QUALIFIER}/version = {version} (the installed CDK CLI's bootstrap "
          f"template) and bucket cdk-{QUALIFIER}-assets-{ACCOUNT}-<region>, in {EDGE_REGION} and {APP_REGION}")
    return version


def publish_assets(r: Report, aws: moto.LocalAws, out: Path) -> dict[str, Any]:
    """`cdk publish-assets ClientAppStack`: the CLI's own cdk-assets, with moto as AWS."""
    home = out.parent / "home"
    env = node_env(home)
    env.update(AWS_ENDPOINT_URL=aws.url, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_REGION=APP_REGION, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=str(home / "config"), AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"))
    # `publish-assets` is opt-in (--unstable) in the pinned CLI; --exclusively:
    # EdgeStack's and DomainStack's assets (their templates) are not needed.
    run(["npx", "--no-install", "cdk", "publish-assets", "ClientAppStack", "--exclusively",
         "--unstable=publish-assets", "--no-notices", "--app", str(out)],
        EXAMPLE, PUBLISH_TIMEOUT_S, env)
    manifest = json.loads((out / "ClientAppStack.assets.json").read_text())
    g = "assets"
    published: dict[str, Any] = {}
    for asset_id, asset in manifest.get("files", {}).items():
        source = asset["source"]
        for dest in asset["destinations"].values():
            s3 = aws.client("s3", dest.get("region", APP_REGION))
            try:
                body = s3.get_object(Bucket=dest["bucketName"], Key=dest["objectKey"])["Body"].read()
            except Exception as e:  # noqa: BLE001 - reported as a mismatch
                r.check(g, False, f"{source['path']} at s3://{dest['bucketName']}/{dest['objectKey']}: {e}")
                continue
            where = f"s3://{dest['bucketName']}/{dest['objectKey']}"
            if source.get("packaging") == "zip":
                r.check(g, zip_matches(out / source["path"], body),
                        f"{asset['displayName']}: a zip of {source['path']}/ (same files, same modes) at {where}")
            else:
                r.check(g, body == (out / source["path"]).read_bytes(),
                        f"{asset['displayName']}: {source['path']} as is at {where}")
            published[asset_id] = {"key": dest["objectKey"], "bucket": dest["bucketName"], "body": body}
    r.check(g, bool(manifest.get("files")) and not manifest.get("dockerImages"),
            f"{len(manifest.get('files', {}))} file assets, no container images")
    r.say(f"`cdk publish-assets ClientAppStack` (the CLI's cdk-assets, AWS_ENDPOINT_URL = moto) "
          f"published {len(published)} file assets:")
    for a in published.values():
        r.say(f"  s3://{a['bucket']}/{a['key']} ({len(a['body'])} bytes)")
    return published


def zip_matches(directory: Path, body: bytes) -> bool:
    """The zip holds exactly the directory's files, same bytes, same permission bits."""
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        entries = {i.filename: i for i in z.infolist()}
        files = {p.relative_to(directory).as_posix(): p for p in directory.rglob("*") if p.is_file()}
        if set(entries) != set(files):
            return False
        for name, path in files.items():
            mode = entries[name].external_attr >> 16
            if z.read(name) != path.read_bytes() or stat.S_IMODE(mode) != stat.S_IMODE(path.stat().st_mode):
                return False
    return True


def stack(client: Any, name: str) -> dict[str, Any]:
    return client.describe_stacks(StackName=name)["Stacks"][0]


def outputs(client: Any, name: str) -> dict[str, str]:
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack(client, name).get("Outputs") or []}


def edge_stack(r: Report, aws: moto.LocalAws, template: dict[str, Any]) -> str:
    client = aws.client("cloudformation", EDGE_REGION)
    client.create_stack(StackName="EdgeStack", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    status = stack(client, "EdgeStack")["StackStatus"]
    r.say(f"EdgeStack (synthesized, unchanged): {status} (from moto)")
    g = "sources"
    r.check(g, status == "CREATE_COMPLETE", f"EdgeStack {status}")
    lam = aws.client("lambda", EDGE_REGION)
    for revision in (2, 3):
        lam.update_function_code(FunctionName=FUNCTION, ZipFile=cfn.zip_source(
            f"'use strict';\n// revision {revision}\n"
            "exports.handler = async (event) => event.Records[0].cf.request;\n"))
        lam.publish_version(FunctionName=FUNCTION, Description=f"revision {revision}")
    newest = cfn.newest_version_arn(aws, EDGE_REGION, FUNCTION)
    config = lam.get_function_configuration(FunctionName=newest)
    r.say("moto's CloudFormation publishes no new version on update: versions 2 and 3 are "
          "published with the Lambda API (new code each), as `make demo` does")
    r.say(f"newest published version: {newest} ({config['Runtime']}, {config['Architectures'][0]}, "
          f"environment {config.get('Environment', {}).get('Variables') or 'none'})")
    r.check(g, newest.endswith(f":{FUNCTION}:3"), f"{FUNCTION} has versions 1-3 (newest {newest.rsplit(':', 1)[1]})")
    return newest


# --- what moto's CloudFormation does with each type ------------------------------

def unmodelled(types: set[str]) -> list[str]:
    """Types moto 5.2.5's CloudFormation has no model class for (its own lookup)."""
    from moto.cloudformation.parsing import resource_class_from_type

    return sorted(t for t in types if not t.startswith("Custom::") and resource_class_from_type(t) is None)


def probe(aws: moto.LocalAws, types: list[str]) -> dict[str, str]:
    """What moto does with a stack holding one resource of each type: observed, per type."""
    client = aws.client("cloudformation", APP_REGION)
    seen: dict[str, str] = {}
    for n, rtype in enumerate(types):
        name = f"moto-probe-{n}"
        body = json.dumps({"Resources": {"Probe": {"Type": rtype, "Properties": {}}}})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                client.create_stack(StackName=name, TemplateBody=body)
                status = stack(client, name)["StackStatus"]
                resources = client.describe_stack_resources(StackName=name)["StackResources"]
                client.delete_stack(StackName=name)
            except Exception as e:  # noqa: BLE001 - what moto does is the finding
                seen[rtype] = f"create_stack fails: {e}"
                continue
        said = [str(w.message) for w in caught if rtype in str(w.message)]
        created = [x for x in resources if x.get("LogicalResourceId") == "Probe"]
        if status == "CREATE_COMPLETE" and not created:
            # moto lists an empty entry (no logical id, type or physical id) in its place.
            seen[rtype] = ("skipped: the stack is CREATE_COMPLETE, nothing is created"
                           + (f", warning \"{said[0]}\"" if said else ", no warning"))
        else:
            seen[rtype] = f"{status} with {created[0].get('ResourceStatus') if created else 'no'} resource"
    return seen


def getatt_targets(node: Any) -> set[str]:
    return {(v.split(".", 1)[0] if isinstance(v, str) else v[0]) for v in cfn.find_key(node, "Fn::GetAtt")}


def try_unchanged(aws: moto.LocalAws, template: dict[str, Any], skipped: set[str]) -> str:
    """moto's answer to the synthesized ClientAppStack as it is (a stack name of its own)."""
    client = aws.client("cloudformation", APP_REGION)
    name = "ClientAppStack-as-synthesized"
    # moto's HTTP 500 is logged with its traceback after the answer went out:
    # that one traceback (and no other) is kept out of the account.
    logging.getLogger("werkzeug").addFilter(
        lambda record: "has_cfn_attr" not in record.getMessage())
    try:
        client.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
        answer = f"{stack(client, name)['StackStatus']}"
    except Exception as e:  # noqa: BLE001 - the answer is the finding
        text = str(e)
        if "500" in text or "Internal Server Error" in text:
            res = template["Resources"]
            culprits = [k for k, o in (template.get("Outputs") or {}).items()
                        if any(res.get(x, {}).get("Type") in skipped for x in getatt_targets(o))]
            answer = (f"HTTP 500 (moto's output validation finds no model for the type that output "
                      f"{', '.join(culprits) or '?'} reads with Fn::GetAtt: AttributeError)")
        else:
            answer = text.split("operation: ", 1)[-1]
    for s in client.list_stacks()["StackSummaries"]:
        if s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE":
            client.delete_stack(StackName=name)
    return answer


def leave_out(template: dict[str, Any], skipped: set[str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The template without the resources of `skipped` types, what needs them, and their outputs."""
    t = json.loads(json.dumps(template))
    res = t["Resources"]
    gone: dict[str, str] = {k: f"{v['Type']}: moto skips the type" for k, v in res.items() if v["Type"] in skipped}
    changed = True
    while changed:
        changed = False
        for k, v in res.items():
            if k in gone:
                continue
            needs = sorted((references(v.get("Properties", {})) | depends_on(v)) & set(gone))
            if needs:
                how = ("its Fn::GetAtt on a resource moto skipped fails create_stack"
                       if getatt_targets(v) & set(needs) else "it refers to a resource moto skipped")
                gone[k] = f"{v['Type']}: needs {', '.join(needs)}; {how}"
                changed = True
    for k in gone:
        del res[k]
    for k, o in list((t.get("Outputs") or {}).items()):
        needs = sorted(references(o) & set(gone))
        if needs:
            gone[f"Outputs.{k}"] = f"reads {', '.join(needs)}"
            del t["Outputs"][k]
    return t, list(gone.items())


def domain_stack(r: Report, aws: moto.LocalAws, template: dict[str, Any], seen: dict[str, str]) -> dict[str, str]:
    """The synthesized DomainStack, with moto's ACM API standing in for what moto's CloudFormation skips."""
    client = aws.client("cloudformation", EDGE_REGION)
    t = json.loads(json.dumps(template))
    standins = []
    for k, v in list(t["Resources"].items()):
        if v["Type"] == "AWS::CertificateManager::Certificate" and v["Type"] in seen:
            p = v["Properties"]
            arn = aws.client("acm", EDGE_REGION).request_certificate(
                DomainName=p["DomainName"], ValidationMethod=p.get("ValidationMethod", "DNS"))["CertificateArn"]
            del t["Resources"][k]
            for o in t.get("Outputs", {}).values():
                if o.get("Value") == {"Ref": k}:
                    o["Value"] = arn
            standins.append((k, arn))
    client.create_stack(StackName="DomainStack", TemplateBody=json.dumps(t))
    status = stack(client, "DomainStack")["StackStatus"]
    got = outputs(client, "DomainStack")
    for k, arn in standins:
        r.say(f"{k} (AWS::CertificateManager::Certificate): moto's CloudFormation skips the type, and the "
              "CertificateArn output that Refs it then disappears from the stack; the certificate is "
              f"requested with moto's ACM API instead and the output holds its ARN ({arn})")
    r.say(f"DomainStack (synthesized{', certificate requested outside the stack' if standins else ''}): "
          f"{status} (from moto), outputs {got}")
    g = "sources"
    r.check(g, status == "CREATE_COMPLETE" and set(got) >= {"CertificateArn", "HostedZoneId"},
            f"DomainStack {status} with outputs CertificateArn and HostedZoneId")
    return got


# --- the stack ------------------------------------------------------------------

def deliver(r: Report, app: cfn.MotoStack) -> list[cfn.Call]:
    """The custom resource requests of the stack's creation, sent by the stand-in."""
    calls = app.play()
    for c in calls:
        a = c.answer or {}
        r.say(f"provider <- {c.request} {c.logical}")
        r.say(f"provider -> {a.get('Status', 'no answer')}: {a.get('Reason') or ''}"
              f" (moto cfnresponse HTTP {c.forwarded})")
    return calls


def wait_status(client: Any, name: str) -> str:
    end = time.monotonic() + STATUS_WAIT_S
    while True:
        status = stack(client, name)["StackStatus"]
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > end:
            return status
        time.sleep(0.2)


def provider_environment(r: Report, providers: cfn.Providers, config: dict[str, Any]) -> None:
    """Prints what the provider binary runs with: the function's environment as moto holds it, and more."""
    env = providers.environment(config["FunctionArn"], config)
    held = dict((config.get("Environment") or {}).get("Variables") or {})
    local = runtime.aws_env(providers.aws.url, APP_REGION)
    lambda_sets = {k: v for k, v in env.items() if k not in held and k not in local
                   and k != "CRP_RESPONSE_URL_HOSTS"}
    r.say("the provider binary runs with this environment:")
    for k, v in sorted(held.items()):
        r.say(f"  {k}={v}  (the function's, as moto holds it)")
    r.say("  " + " ".join(f"{k}={v}" for k, v in sorted(lambda_sets.items()))
          + "  (as Lambda sets them, from moto's configuration)")
    r.say("  " + " ".join(f"{k}={v}" for k, v in sorted(local.items()) if k != "PATH")
          + "  (local run: moto as AWS)")
    r.say("  CRP_RESPONSE_URL_HOSTS=127.0.0.1  (ADDED for this run, not in the template: the "
          "ResponseURL is the loopback relay into moto's cfnresponse)")


def check_function(r: Report, template_props: dict[str, Any], config: dict[str, Any],
                   published: dict[str, Any]) -> None:
    """The provider function as moto's CloudFormation created it."""
    g = "provider function"
    kept = {"Runtime": config.get("Runtime"), "Handler": config.get("Handler"),
            "MemorySize": config.get("MemorySize"), "Timeout": config.get("Timeout"),
            "Environment": {"Variables": (config.get("Environment") or {}).get("Variables")}}
    want = {k: template_props.get(k) for k in kept}
    r.check(g, kept == want, "moto holds the template's " + ", ".join(
        f"{k} {v['Variables'] if k == 'Environment' else v}" for k, v in want.items()))
    code = template_props["Code"]
    asset = next((a for a in published.values() if a["key"] == code.get("S3Key")), None)
    sha = base64.b64encode(hashlib.sha256(asset["body"]).digest()).decode() if asset else "?"
    r.check(g, asset is not None and config.get("CodeSha256") == sha,
            f"its code is the published asset s3://{code.get('S3Bucket')}/{code.get('S3Key')} (CodeSha256 {sha})")
    dropped = [k for k in ("Architectures", "LoggingConfig")
               if k in template_props and config.get(k) != template_props[k]]
    if dropped:
        r.say(f"(moto) its CloudFormation passes only some AWS::Lambda::Function properties to Lambda: "
              f"{' and '.join(dropped)} of the template are not kept (moto reports Architectures "
              f"{config.get('Architectures')}, its default); the template check above holds arm64")


def client_app_stack(r: Report, aws: moto.LocalAws, binary: str, templates: dict[str, dict[str, Any]],
                     provider: str, customs: list[str], published: dict[str, Any],
                     submitted: dict[str, Any], newest: str, domain_outputs: dict[str, str],
                     log: Any) -> None:
    client = aws.client("cloudformation", APP_REGION)
    g = "stack"
    with cfn.Providers(binary, aws, log=log) as providers:
        app = cfn.CloudFormation(aws, providers).moto_stack("ClientAppStack", APP_REGION)
        app.create(submitted)
        waiting = app.status
        r.say(f"ClientAppStack: {waiting} (from moto: waiting for the custom resources)")
        physical = {x["LogicalResourceId"]: x["PhysicalResourceId"]
                    for x in client.describe_stack_resources(StackName="ClientAppStack")["StackResources"]}
        config = aws.client("lambda", APP_REGION).get_function_configuration(FunctionName=physical[provider])
        check_function(r, submitted["Resources"][provider]["Properties"], config, published)
        provider_environment(r, providers, config)
        r.say("moto cannot invoke the function (no Docker): the project's CloudFormation stand-in "
              "(scripts/demo/cfn.py) builds each request from the template and moto's stack, and "
              "the provider binary answers it under the local Lambda Runtime API")
        calls = deliver(r, app)
        status = wait_status(client, "ClientAppStack")
        r.say(f"ClientAppStack: {status} (from moto)")
        r.check(g, waiting == "CREATE_IN_PROGRESS", "moto waited for the custom resources (CREATE_IN_PROGRESS)")
        answered = {c.logical: c for c in calls if c.request == "Create"}
        r.check(g, sorted(answered) == sorted(customs)
                and all(c.ok and c.forwarded == 200 for c in answered.values()),
                f"the provider answered SUCCESS to the Create of {', '.join(sorted(customs))}")
        r.check(g, status == "CREATE_COMPLETE", f"ClientAppStack {status} (moto's DescribeStacks)")
        domain = next((c for k, c in answered.items()
                       if templates["ClientAppStack"]["Resources"][k]["Properties"].get("StackName")), None)
        data = ((domain.answer or {}).get("Data") or {}) if domain else {}
        r.check(g, data.get("Outputs.CertificateArn") == domain_outputs.get("CertificateArn")
                and data.get("Outputs.HostedZoneId") == domain_outputs.get("HostedZoneId"),
                "DomainOutputs read DomainStack's CertificateArn and HostedZoneId")

        got = app.outputs().get("EdgeFunctionVersionArn", "")
        r.say(f"EdgeFunctionVersionArn = {got}")
        r.check("output", got == newest, f"EdgeFunctionVersionArn is the newest version ({newest})")

        deleted = app.delete()
        gone = app.status
        r.say(f"delete: the provider answered {len(deleted)} Delete request(s) (moto sends none); "
              f"ClientAppStack {gone} (from moto)")
        r.check("delete", len(deleted) == len(customs) and all(c.ok for c in deleted),
                f"{len(deleted)} Deletes answered SUCCESS")
        r.check("delete", gone == "DELETE_COMPLETE", f"ClientAppStack {gone}")


def build_binary() -> str:
    run(["cargo", "build", "--locked", "--quiet", "--bin", "cross-region-param"], ROOT, 1800)
    return str(ROOT / "target/debug/cross-region-param")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="end with one line per assertion group; exit 1 when any failed")
    parser.add_argument("--provider-bin", help="the provider binary to run "
                        "(default: cargo build, target/debug/cross-region-param)")
    args = parser.parse_args(argv)
    r = Report()
    print("cdk_e2e: the synthesized ClientAppStack (cdk-cross-region-param) deployed through moto's "
          "CloudFormation, answered by the real provider binary")

    r.step("Workspace: npm packages, the library's build, examples/cdk synthesized")
    prepare(r)
    binary = args.provider_bin or build_binary()
    if not os.access(binary, os.X_OK):
        raise CouldNotRun(f"the provider binary {binary} is not an executable")
    work = Path(tempfile.mkdtemp(prefix="cdk-e2e-"))
    log_path = ROOT / "target/cdk-e2e-provider.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        out = work / "cdk.out"
        templates = synth(r, out)
        provider, customs = check_template(r, templates)

        r.step("moto on loopback; CDK bootstrap resources; the assets published by the CDK CLI")
        with open(log_path, "wb") as log, moto.start() as aws:
            r.say(f"moto at {aws.url} (in this process); provider binary {binary}, log {log_path.relative_to(ROOT)}")
            bootstrap(r, aws)
            published = publish_assets(r, aws, out)

            r.step(f"What ClientAppStack reads, in {EDGE_REGION}: EdgeStack and DomainStack")
            newest = edge_stack(r, aws, templates["EdgeStack"])
            types = {v["Type"] for t in templates.values() for v in t["Resources"].values()}
            seen = probe(aws, unmodelled(types))
            domain_outputs = domain_stack(r, aws, templates["DomainStack"], seen)

            r.step("What moto's CloudFormation does with ClientAppStack's resource types")
            skipped = {t for t, what in seen.items() if what.startswith("skipped")}
            answer = try_unchanged(aws, templates["ClientAppStack"], skipped)
            r.say(f"the synthesized ClientAppStack as is: {answer}")
            app_types = {v["Type"] for v in templates["ClientAppStack"]["Resources"].values()}
            for rtype, what in seen.items():
                if rtype in app_types:
                    r.say(f"{rtype}: no moto model; one-resource probe stack: {what}")
            submitted, gone = leave_out(templates["ClientAppStack"], skipped)
            r.say("left out of the template submitted (nothing else in it is changed):")
            for name, why in gone:
                r.say(f"  {name} ({why})")
            g = "moto gaps"
            r.check(g, set(seen) == skipped, "moto skips every type it has no model for: "
                    + ", ".join(t.split("::", 1)[1] for t in sorted(seen)))
            must_stay = set(customs) | {provider} | {k for k, v in templates["ClientAppStack"]["Resources"].items()
                                                     if k.startswith("CrossRegionParamProvider")}
            kept = set(submitted["Resources"])
            r.check(g, must_stay <= kept and "EdgeFunctionVersionArn" in submitted.get("Outputs", {}),
                    f"kept: the {len(customs)} custom resources, the provider function, its role, policy and "
                    "log group, and the EdgeFunctionVersionArn output")
            r.check(g, not answer.startswith("CREATE_COMPLETE"),
                    "the template as synthesized is refused by moto (so leaving out is needed)")

            r.step(f"ClientAppStack in {APP_REGION} through moto's CloudFormation")
            client_app_stack(r, aws, binary, templates, provider, customs, published, submitted,
                             newest, domain_outputs, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    r.summary(args.check)
    return 1 if r.failed() else 0


def stop_on_term(signum: int, frame: Any) -> None:
    """SIGTERM (a test's timeout) unwinds, so moto, the provider and child processes are stopped."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop_on_term)
    try:
        sys.exit(main(sys.argv[1:]))
    except CouldNotRun as e:
        print(f"cdk_e2e: could not run: {e}", file=sys.stderr)
        sys.exit(2)
