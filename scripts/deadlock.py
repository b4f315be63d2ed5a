#!/usr/bin/env python3
"""`make deadlock`: the story's export deadlock and the way out, offline.

Part 1 synthesizes the story's stacks (examples/cdk/bin/deadlock.ts, one CDK
Stage per step) and runs aws-cdk-lib's own Custom::CrossRegionExportWriter and
Custom::CrossRegionExportReader handlers, from two pinned aws-cdk-lib versions,
on the requests CloudFormation sends for the first deploy and for an edge code
change, against moto's SSM in both regions. What is printed for a handler is
what it threw or what moto holds after it ran.

Part 2 follows docs/migrating.md step by step from the stuck state, with CDK's
handlers for the writer/reader, until the producer deploys freely and three
edge updates reach the distribution, asserting every step. The consumer
switches to cdk-cross-region-param's EdgeFunctionVersion construct (cdk/, the
npm workspace's library): its stack then carries its own provider function,
which the stand-in creates in moto and serves with this project's provider
binary, run with the environment the synthesized function sets.

Usage:
  scripts/deadlock.py [--check] [--moto-url URL] [--provider-bin PATH]

--check prints one line per assertion group and exits non-zero on the first
failed assertion (used by tests/deadlock.rs). Without --moto-url moto is
started in this process on a free loopback port (scripts/demo/moto.py, as
`make demo` starts it) and stopped at exit. The stacks are played by the
project's CloudFormation stand-in (scripts/demo/cfn.py), the one `make demo`
uses. Lines fit 100 columns.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))  # scripts/demo/: moto, the CloudFormation stand-in

from demo import moto  # noqa: E402
from demo.cfn import (  # noqa: E402
    CdkHandlers,
    CloudFormation,
    Providers,
    StandInError,
    find_key,
    provider_functions,
    ssm_value,
)

OLD_CDK = "2.255.0"  # has the in-use check (so do 2.256.0 and 2.257.0; 2.258.0 dropped it)
NEW_CDK = "2.276.0"
TOOLS = ROOT / ".tools" / "deadlock"
PINS = ROOT / "scripts" / "deadlock"
EXAMPLE = ROOT / "examples" / "cdk"
LIBRARY = ROOT / "cdk"
# the provider binary the library packs; `provider-binary.js placeholder` writes a stand-in for synth-only runs
PACKAGE_BOOTSTRAP = LIBRARY / "assets" / "provider" / "bootstrap"
SYNTH_OUT = TOOLS / "cdk.out"
CONSUMER, PRODUCER = "ClientAppStack", "EdgeStack"
FUNCTION = "AuthFunction"
EXPORT_PREFIX = "/cdk/exports/"
STRONG_REF_TAG = "aws-cdk:strong-ref:"
TAG = STRONG_REF_TAG + CONSUMER
WIDTH = 100  # the terminal the account is written for


class CheckFailed(Exception):
    pass


class Out:
    def __init__(self, quiet: bool, heads: bool = True):
        self.quiet = quiet
        self.heads = heads
        self.checks = 0

    def say(self, text: str = "", more: str | None = None) -> None:
        """`text` wrapped at WIDTH; continuation lines indented by `more` (its own indent + 2 by default)."""
        if self.quiet:
            return
        indent = text[: len(text) - len(text.lstrip())]
        more = indent + "  " if more is None else more
        for line in textwrap.wrap(text.strip(), WIDTH, initial_indent=indent, subsequent_indent=more,
                                  break_on_hyphens=False) or [""]:
            print(line, flush=True)

    def head(self, text: str) -> None:
        if not self.heads:
            return
        if self.quiet:
            print(f"== {text}", flush=True)
        else:
            print(flush=True)
            for line in textwrap.wrap(f"=== {text}", WIDTH, subsequent_indent="    ",
                                      break_long_words=False, break_on_hyphens=False):
                print(line, flush=True)

    def check(self, cond: bool, what: str) -> None:
        self.checks += 1
        if not cond:
            raise CheckFailed(what)
        self.say(f"  ok: {what}")

    def calls(self, stack) -> None:
        for c in stack.calls:
            mark = " " if c.ok else "!"
            first, *rest = c.detail.rstrip().split("\n")
            self.say(f"  {mark} [{c.phase}] {c.logical} ({c.type}) {c.request}: {first}", "        ")
            for line in rest:
                self.say(f"        | {line}", "        |   ")


# ------------------------------------------------------------------ setup


def npm_env() -> dict:
    env = dict(os.environ)
    env.update(
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
        NO_UPDATE_NOTIFIER="1",
    )
    return env


def install(out: Out) -> None:
    """Each pinned aws-cdk-lib into .tools/deadlock/cdk-<version> from scripts/deadlock/cdk-<version>'s lock.

    `npm install` with the committed lock rather than `npm ci`: npm 11's ci
    rejects aws-cdk-lib 2.255.0's lock over a bundled dependency (jsonschema)
    that the tarball itself carries.
    """
    for version in (OLD_CDK, NEW_CDK):
        pins = PINS / f"cdk-{version}"
        dest = TOOLS / f"cdk-{version}"
        stamp = dest / ".installed-lock"
        lock = (pins / "package-lock.json").read_text()
        if stamp.exists() and stamp.read_text() == lock and (dest / "node_modules" / "aws-cdk-lib").is_dir():
            continue
        out.say(f"installing aws-cdk-lib {version} into {dest.relative_to(ROOT)}")
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(pins / "package.json", dest / "package.json")
        shutil.copy(pins / "package-lock.json", dest / "package-lock.json")
        subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=dest, check=True, env=npm_env(), stdout=subprocess.DEVNULL,
        )
        stamp.write_text(lock)


def run_quietly(what: str, cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=npm_env())
    if proc.returncode != 0:
        raise StandInError(f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def example_installed(out: Out) -> None:
    """The root npm workspace (cdk/ and examples/cdk/), the library compiled, a bootstrap for synth."""
    marker = ROOT / "node_modules" / ".package-lock.json"
    if not marker.exists() or (ROOT / "package-lock.json").stat().st_mtime > marker.stat().st_mtime:
        out.say("installing the npm workspace: cdk/ and examples/cdk/ (npm ci at the repository root)")
        run_quietly("npm ci", ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], ROOT)
    built = LIBRARY / "lib" / "index.js"
    sources = sorted((LIBRARY / "src").glob("*.ts"))
    if not built.exists() or any(src.stat().st_mtime > built.stat().st_mtime for src in sources):
        out.say("compiling cdk-cross-region-param (npm run build -w cdk: jsii)")
        run_quietly("npm run build -w cdk", ["npm", "run", "build", "-w", "cdk"], ROOT)
    if not PACKAGE_BOOTSTRAP.exists():
        out.say(f"writing the placeholder bootstrap {PACKAGE_BOOTSTRAP.relative_to(ROOT)} (synth only; never deployed)")
        run_quietly("provider-binary.js placeholder", ["node", str(LIBRARY / "scripts" / "provider-binary.js"), "placeholder"], ROOT)


def synth(out: Out) -> dict[str, dict[str, dict]]:
    """`cdk synth` of bin/deadlock.ts with examples/cdk's aws-cdk-lib; {step: {stack: template}}."""
    shutil.rmtree(SYNTH_OUT, ignore_errors=True)
    version = json.loads(module_file("aws-cdk-lib/package.json").read_text())["version"]
    out.say(f"cdk synth examples/cdk/bin/deadlock.ts (aws-cdk-lib {version}) -> {SYNTH_OUT.relative_to(ROOT)}")
    proc = subprocess.run(
        [
            "npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices",
            "--app", "npx ts-node --prefer-ts-exts bin/deadlock.ts", "-o", str(SYNTH_OUT),
        ],
        cwd=EXAMPLE, capture_output=True, text=True, env=npm_env(),
    )
    if proc.returncode != 0:
        raise StandInError(f"cdk synth failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    steps: dict[str, dict[str, dict]] = {}
    for assembly in sorted(SYNTH_OUT.glob("assembly-*")):
        manifest = json.loads((assembly / "manifest.json").read_text())
        step = assembly.name.removeprefix("assembly-")
        for art in manifest["artifacts"].values():
            if art["type"] != "aws:cloudformation:stack":
                continue
            props = art["properties"]
            name = props.get("stackName")
            steps.setdefault(step, {})[name] = json.loads((assembly / props["templateFile"]).read_text())
    return steps


def module_file(name: str) -> Path:
    """`name` as examples/cdk resolves it (its own node_modules, else the workspace root's)."""
    for base in (EXAMPLE, ROOT):
        if (base / "node_modules" / name).exists():
            return base / "node_modules" / name
    raise StandInError(f"{name} is not installed (npm ci at the repository root)")


def writer(stack):
    return stack.resource_of_type("Custom::CrossRegionExportWriter")


def short(name: str) -> str:
    return name if len(name) < 60 else name[:48] + "…" + name[-10:]


def exports(aws: moto.LocalAws, region: str, consumer: str) -> dict[str, dict]:
    """`/cdk/exports/<consumer>/...` parameters in `region`: value and strong-ref tags."""
    ssm = aws.client("ssm", region)
    out: dict[str, dict] = {}
    kwargs = {"Path": f"{EXPORT_PREFIX}{consumer}/", "Recursive": True}
    for _ in range(100):
        page = ssm.get_parameters_by_path(**kwargs)
        for p in page.get("Parameters", []):
            tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=p["Name"])
            out[p["Name"]] = {
                "value": p["Value"],
                "tags": sorted(t["Key"] for t in tags.get("TagList", []) if t["Key"].startswith(STRONG_REF_TAG)),
            }
        token = page.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    return out


def forget(aws: moto.LocalAws, consumer: str, function_name: str, regions: list[str]) -> None:
    """Removes what an earlier run left under the story's fixed names (a shared moto)."""
    for region in regions:
        names = list(exports(aws, region, consumer))
        ssm = aws.client("ssm", region)
        for i in range(0, len(names), 10):
            ssm.delete_parameters(Names=names[i : i + 10])
    try:
        aws.client("lambda", "us-east-1").delete_function(FunctionName=function_name)
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceNotFoundException":
            raise


def show_exports(out: Out, aws: moto.LocalAws, title: str) -> dict:
    ex = exports(aws, "ap-northeast-1", CONSUMER)
    out.say(f"  {title}: SSM ap-northeast-1 {'(none)' if not ex else ''}")
    for name, v in sorted(ex.items()):
        out.say(f"    {short(name)} = {v['value']}  tags={v['tags'] or '-'}")
    return ex


# ------------------------------------------------------------------ part 1


def stuck_state(out: Out, aws: moto.LocalAws, cfn: CloudFormation, steps: dict) -> tuple:
    """First deploy of both stacks with strong references; returns (edge, app, v1 arn)."""
    forget(aws, CONSUMER, FUNCTION, ["ap-northeast-1"])
    edge = cfn.stack(PRODUCER, "us-east-1")
    app = cfn.stack(CONSUMER, "ap-northeast-1")
    out.say(f"  deploy {PRODUCER} (first deploy, edge code revision 1)")
    st = edge.deploy(steps["Stuck1"][PRODUCER])
    out.calls(edge)
    out.check(st == "CREATE_COMPLETE", f"{PRODUCER} CREATE_COMPLETE (got {st})")
    out.say(f"  deploy {CONSUMER} (first deploy)")
    st = app.deploy(steps["Stuck1"][CONSUMER])
    out.calls(app)
    out.check(st == "CREATE_COMPLETE", f"{CONSUMER} CREATE_COMPLETE (got {st})")
    ex = show_exports(out, aws, "after the first deploy")
    v1 = app.resources["Distribution830FAC52"].data["EdgeLambdaArn"] if "Distribution830FAC52" in app.resources else app.resource_of_type("AWS::CloudFront::Distribution")[1].data["EdgeLambdaArn"]
    out.check(len(ex) == 1 and list(ex.values())[0]["value"] == v1, f"the writer put the version ARN {v1} under /cdk/exports/{CONSUMER}/ in ap-northeast-1")
    out.check(list(ex.values())[0]["tags"] == [TAG], f"the reader tagged it {TAG}")
    return edge, app, v1


def part1(out: Out, aws: moto.LocalAws, steps: dict, version: str, providers=None) -> tuple:
    cdk = CdkHandlers(version, TOOLS / f"cdk-{version}", aws.url, PINS / "run-handler.js")
    cfn = CloudFormation(aws, providers, cdk, assets=SYNTH_OUT)
    writer_js = cdk.handler_path("Custom::CrossRegionExportWriter")
    out.head(f"aws-cdk-lib {version}: CDK's own writer and reader "
             f"({writer_js.parent.name}/{writer_js.name} of {TOOLS.relative_to(ROOT)}/cdk-{version})")
    edge, app, v1 = stuck_state(out, aws, cfn, steps)
    before = exports(aws, "ap-northeast-1", CONSUMER)
    out.say(f"  deploy {PRODUCER} with an edge code change (revision 2): a new version, so a new export name")
    st = edge.deploy(steps["Stuck2"][PRODUCER])
    out.calls(edge)
    w = [c for c in edge.calls if c.type == "Custom::CrossRegionExportWriter"]
    after = show_exports(out, aws, "after the producer's deploy")
    if version == OLD_CDK:
        out.check(not w[0].ok and "Exports cannot be updated" in w[0].detail and "in use by stack(s) ClientAppStack" in w[0].detail,
                  "the writer's Update threw 'Exports cannot be updated: ... is in use by stack(s) ClientAppStack'")
        out.check(len(w) >= 2 and not w[1].ok and w[1].phase == "rollback", "the rollback Update (old properties back) threw the same check")
        out.check(st == "UPDATE_ROLLBACK_FAILED", f"{PRODUCER} ends UPDATE_ROLLBACK_FAILED (got {st})")
        out.check(after == before, "SSM unchanged: the old parameter stays, tagged")
        # the same check on a changed value under an unchanged name
        name, res = writer(edge)
        changed = json.loads(json.dumps(res.props))
        key = next(iter(changed["WriterProps"]["exports"]))
        changed["WriterProps"]["exports"][key] = res.props["WriterProps"]["exports"][key].rsplit(":", 1)[0] + ":99"
        ev = edge._event("Update", name, res.type, changed, res.props, res.physical)
        o = cdk.run(res.type, ev)
        out.say("  a changed value under an unchanged name (one Update request, straight to the handler): it threw")
        for line in (o.error or "").split("\n"):
            out.say(f"        | {line}")
        out.check(not o.ok and (o.error or "").startswith("Some exports have changed!"), "the writer refuses a changed value: 'Some exports have changed!'")
    else:
        out.check(w[0].ok, "the writer's Update succeeded: no check")
        gone = sorted(set(before) - set(after))
        new = sorted(set(after) - set(before))
        out.say(f"  the writer deleted {[short(g) for g in gone]} although it carried {before[gone[0]]['tags'] if gone else '-'}")
        out.check(len(gone) == 1 and before[gone[0]]["tags"] == [TAG], f"it deleted the old parameter while tagged {TAG}")
        out.check(len(new) == 1 and after[new[0]]["value"] != v1, "it wrote the new version ARN under the new name")
        out.check(st == "UPDATE_COMPLETE", f"{PRODUCER} UPDATE_COMPLETE (got {st})")
        res = app.resource_of_type("Custom::CrossRegionExportReader")[1]
        old_ref = next(iter(res.props["ReaderProps"]["imports"]))
        try:
            ssm_value(aws, "ap-northeast-1", old_ref)
            present = True
        except Exception:
            present = False
        out.check(not present, f"{CONSUMER} still references {short(old_ref)}, which no longer exists")
        out.say(f"  deploy {CONSUMER} (revision 2)")
        st = app.deploy(steps["Stuck2"][CONSUMER])
        out.calls(app)
        out.check(st == "UPDATE_COMPLETE", f"{CONSUMER} UPDATE_COMPLETE: it moves to the new version (got {st})")
    return cfn, edge, app, v1


# ------------------------------------------------------------------ part 2


def the_custom_resource(template: dict) -> tuple[str, dict]:
    found = [(k, r) for k, r in template["Resources"].items() if r["Type"] == "Custom::CrossRegionParam"]
    if len(found) != 1:
        raise CheckFailed(f"{CONSUMER} should hold one Custom::CrossRegionParam, not {len(found)}")
    return found[0]


def part2(out: Out, aws: moto.LocalAws, steps: dict, binary: str) -> None:
    with Providers(binary, aws, PACKAGE_BOOTSTRAP) as providers:
        out.head(f"the migration (docs/migrating.md), aws-cdk-lib {OLD_CDK} handlers; the consumer switched to cdk-cross-region-param's EdgeFunctionVersion")
        out.say(f"  the stuck state again, as above: first deploy, then the edge change refused (aws-cdk-lib {OLD_CDK})")
        again = Out(quiet=True, heads=False)
        cfn, edge, app, v1 = part1(again, aws, steps, OLD_CDK, providers)
        out.checks += again.checks
        wname, _ = writer(edge)
        out.say(f"  stuck: {PRODUCER} {edge.status}. Step 0: aws cloudformation continue-update-rollback --stack-name {PRODUCER} --resources-to-skip {wname}")
        st = edge.continue_update_rollback([wname])
        out.calls(edge)
        out.check(st == "UPDATE_ROLLBACK_COMPLETE", f"{PRODUCER} UPDATE_ROLLBACK_COMPLETE (got {st})")
        ex = exports(aws, "ap-northeast-1", CONSUMER)
        out.check(len(ex) == 1 and list(ex.values())[0]["value"] == v1, f"the export still holds {v1}; revert the edge change locally")
        lam = aws.client("lambda", "us-east-1")
        versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=FUNCTION)["Versions"] if v["Version"] != "$LATEST"]
        in_use = v1.rsplit(":", 1)[1]
        out.say(f"  published versions of {FUNCTION}: {versions}; in use: {in_use}")
        out.check(max(int(v) for v in versions) > int(in_use), "the newest published version is not the one in use (the failed update's version was retained): pin Qualifier")

        out.say("  Step 1: npm install cdk-cross-region-param in the consumer's app (here: the workspace's cdk/); nothing to deploy yet")
        out.say(f"  Step 2: {CONSUMER} switches to the library's EdgeFunctionVersion construct, qualifier {in_use}; deploy only {CONSUMER}")
        switch = steps["Switch"][CONSUMER]
        lid, resource = the_custom_resource(switch)
        q = resource["Properties"].get("Qualifier")
        out.check(q == in_use, f"the synthesized Qualifier ({q}) is the version in use ({in_use}) (cdk -c pinnedEdgeVersion=...)")
        imports = find_key(switch, "Fn::ImportValue")
        out.check(not imports, f"the switched {CONSUMER} has no Fn::ImportValue at all" + (f" (found {imports})" if imports else ""))
        functions = {k: r["Properties"] for k, r in switch["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}
        fn, props = next(iter(functions.items())) if len(functions) == 1 else ("-", {})
        out.check(
            len(functions) == 1 and props.get("Architectures") == ["arm64"] and props.get("Runtime") == "provided.al2023",
            f"exactly one Lambda function in {CONSUMER}, the library's provider {fn} ({props.get('Runtime')}, "
            f"{'/'.join(props.get('Architectures') or ['x86_64'])})" + ("" if len(functions) == 1 else f"; found {sorted(functions)}"),
        )
        token = resource["Properties"].get("ServiceToken")
        out.check(provider_functions(switch) == {fn} and token == {"Fn::GetAtt": [fn, "Arn"]},
                  f"{lid}'s ServiceToken is Fn::GetAtt {fn}.Arn, the stack's own provider (was {json.dumps(token)})" if token != {"Fn::GetAtt": [fn, "Arn"]} else f"{lid}'s ServiceToken is Fn::GetAtt {fn}.Arn: the stack's own provider, no import")
        timeout = resource["Properties"].get("ServiceTimeout")
        out.check(str(timeout) == str(int(props.get("Timeout", 3)) + 60),
                  f"{lid}'s ServiceTimeout ({timeout} s) is the provider function's timeout ({props.get('Timeout')} s) plus 60 s")
        st = app.deploy(switch)
        out.calls(app)
        out.check(st == "UPDATE_COMPLETE", f"{CONSUMER} UPDATE_COMPLETE (got {st})")
        created = [c.type for c in app.calls if c.request == "Create"]
        parts = ["AWS::Logs::LogGroup", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Lambda::Function"]
        out.check(
            all(t in created for t in parts) and all(created.index(t) < created.index("Custom::CrossRegionParam") for t in parts),
            "the deploy created the provider's log group, role, policy and function before the resource that uses it",
        )
        provider_state = app.resources[fn]
        deployed = aws.client("lambda", "ap-northeast-1").get_function_configuration(FunctionName=app.resources[fn].physical)
        env = deployed.get("Environment", {}).get("Variables", {})
        out.check(
            deployed["Architectures"] == ["arm64"] and env == props.get("Environment", {}).get("Variables"),
            f"the provider function exists in ap-northeast-1 (arm64, {', '.join(f'{k}={v}' for k, v in sorted(env.items()))}); its answer came from this project's binary run with that environment",
        )
        dist = app.resource_of_type("AWS::CloudFront::Distribution")[1]
        out.check(dist.data["EdgeLambdaArn"] == v1, f"the distribution still runs {v1}")
        out.check(app.resource_of_type("Custom::CrossRegionExportReader") is None, "the ExportsReader is gone from the consumer")
        ex = show_exports(out, aws, "after step 2")
        out.check(len(ex) == 1 and all(not v["tags"] for v in ex.values()), "the reader's Delete removed the tag; the parameter itself stays")

        out.say(f"  Step 3: check no strong-ref tag is left, then deploy {PRODUCER} (its synthesized template has no ExportsWriter)")
        out.check(all(not v["tags"] for v in exports(aws, "ap-northeast-1", CONSUMER).values()), "no aws-cdk:strong-ref tag on /cdk/exports/ClientAppStack/*")
        st = edge.deploy(steps["Switch"][PRODUCER])
        out.calls(edge)
        out.check(st == "UPDATE_COMPLETE", f"{PRODUCER} UPDATE_COMPLETE (got {st})")
        out.check(writer(edge) is None and not exports(aws, "ap-northeast-1", CONSUMER), "the writer's Delete removed its parameters")

        out.say("  Step 4: deploy as usual: producer first, then the consumer (qualifier removed, a new Refresh.withValue each step)")
        arns = []
        for step in ("Edge2", "Edge3", "Edge4"):
            st = edge.deploy(steps[step][PRODUCER])
            out.calls(edge)
            out.check(st == "UPDATE_COMPLETE", f"{step}: {PRODUCER} UPDATE_COMPLETE (got {st})")
            published = [r.physical for k, r in edge.resources.items() if r.type == "AWS::Lambda::Version" and k in steps[step][PRODUCER]["Resources"]]
            lid, resource = the_custom_resource(steps[step][CONSUMER])
            if step == "Edge2":
                out.check("Qualifier" not in resource["Properties"], f"{step}: {lid} has no Qualifier: the newest published version")
            st = app.deploy(steps[step][CONSUMER])
            out.calls(app)
            out.check(st == "UPDATE_COMPLETE", f"{step}: {CONSUMER} UPDATE_COMPLETE (got {st})")
            got = app.resources[lid].data["VersionArn"]
            dist = app.resource_of_type("AWS::CloudFront::Distribution")[1]
            out.check(got == published[0] and dist.data["EdgeLambdaArn"] == got, f"{step}: the provider delivered {got}, the producer's new version, and the distribution runs it")
            arns.append(got)
        out.check(len(set(arns)) == 3 and v1 not in arns, f"three distinct edge version ARNs: {arns}")
        out.check(app.resources[fn] is provider_state, "the edge deploys left the provider function as step 2 created it")

        out.say("  Step 5: a version that breaks the Lambda@Edge rules (256 MB): the consumer's deploy fails and rolls back")
        lam.update_function_configuration(FunctionName=FUNCTION, MemorySize=256)
        bad = lam.publish_version(FunctionName=FUNCTION)["FunctionArn"]
        template = json.loads(json.dumps(steps["Edge4"][CONSUMER]))
        lid, resource = the_custom_resource(template)
        resource["Properties"]["Refresh"] = "bad-version"
        before = app.resources[lid]
        st = app.deploy(template)
        out.calls(app)
        out.check(st == "UPDATE_ROLLBACK_COMPLETE", f"{CONSUMER} UPDATE_ROLLBACK_COMPLETE, not stuck (got {st})")
        mine = [c for c in app.calls if c.logical == lid]
        first = mine[0] if mine else None
        out.check(
            first is not None and first.request == "Update" and not first.ok
            and (first.answer or {}).get("PhysicalResourceId") == "crp-update-failed",
            f"the provider refused {bad.rsplit(':', 1)[1]} and answered the id crp-update-failed",
        )
        out.check(
            [(c.request, c.phase, c.ok) for c in mine[1:]] == [("Delete", "rollback", True)],
            "the rollback sent crp-update-failed a Delete (answered at once), never an Update that reads again",
        )
        after = app.resources[lid]
        out.check(
            after.physical == before.physical and after.data == before.data,
            f"{lid} keeps its id and Data: the distribution still runs {arns[-1]}",
        )

        out.say("  Step 6: the fix (128 MB) is published; the consumer's next deploy takes it")
        lam.update_function_configuration(FunctionName=FUNCTION, MemorySize=128)
        fixed = lam.publish_version(FunctionName=FUNCTION)["FunctionArn"]
        resource["Properties"]["Refresh"] = "fixed-version"
        st = app.deploy(template)
        out.calls(app)
        out.check(st == "UPDATE_COMPLETE", f"{CONSUMER} UPDATE_COMPLETE after the rollback (got {st})")
        got = app.resources[lid].data.get("VersionArn")
        out.check(got == fixed, f"the provider delivered {fixed}, the fixed version")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="quiet: assertions only")
    ap.add_argument("--moto-url", default=os.environ.get("CRP_TEST_MOTO_URL"))
    ap.add_argument("--provider-bin", default=str(ROOT / "target" / "debug" / "cross-region-param"))
    args = ap.parse_args()
    out = Out(args.check)
    aws = None
    try:
        if not Path(args.provider_bin).exists():
            raise StandInError(f"provider binary {args.provider_bin} not found: cargo build first")
        install(out)
        example_installed(out)
        steps = synth(out)
        aws = moto.attach(args.moto_url) if args.moto_url else moto.start()
        part1(out, aws, steps, OLD_CDK)
        part1(out, aws, steps, NEW_CDK)
        part2(out, aws, steps, args.provider_bin)
        # The same closing line with or without --check (tests/deadlock.rs reads it).
        print(f"{'' if args.check else chr(10)}== all {out.checks} checks passed", flush=True)
        return 0
    except CheckFailed as e:
        print(f"CHECK FAILED: {e}", file=sys.stderr)
        return 1
    except (StandInError, moto.MotoChanged) as e:
        print(f"deadlock: {e}", file=sys.stderr)
        return 2
    finally:
        if aws is not None:
            aws.stop()


if __name__ == "__main__":
    sys.exit(main())
