#!/usr/bin/env python3
"""`make demo`: the provider's whole story on a local AWS (moto), no account.

EdgeStack (us-east-1) holds a Lambda@Edge function; ClientAppStack
(ap-northeast-1) reads its newest published version and an SSM parameter
through Custom::CrossRegionParam, served by the real provider binary under a
local Lambda Runtime API. Three rounds of new edge code, one bad round the
provider refuses, a check that nothing is exported, then both stacks deleted.

Every stack status printed comes from moto. Where moto's CloudFormation cannot
do a step as AWS does, the demo does it (scripts/demo/cfn.py, the project's
CloudFormation stand-in) and says so in a short note; --verbose adds moto's
details, and docs/demo.md lists them all. Lines fit 100 columns.
Exits 1 on any mismatch, 2 when it could not run.

Usage: python scripts/demo.py [--binary PATH] [--quiet | --verbose]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo import cfn, moto  # noqa: E402

EDGE_REGION = "us-east-1"
APP_REGION = "ap-northeast-1"
FUNCTION = "AuthFunction"
LOGIN_PARAMETER = "/myapp/login-url"
WIDTH = 100  # the terminal the story is written for


class Story:
    """Prints the account of the run (at most WIDTH columns a line) and collects mismatches."""

    def __init__(self, quiet: bool, verbose: bool = False):
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self.start = time.monotonic()
        self.mismatches: list[str] = []
        self.n = 0
        self.notes_told: set[str] = set()

    def _print(self, text: str, indent: str = "    ", more: str = "      ") -> None:
        for line in textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=more,
                                  break_on_hyphens=False, break_long_words=True) or [""]:
            print(line, flush=True)

    def step(self, title: str) -> None:
        self.n += 1
        self._print(f"[{time.monotonic() - self.start:5.1f}s] {self.n}. {title}", "\n", "          ")

    def say(self, text: str) -> None:
        if not self.quiet:
            self._print(text)

    def show(self, text: str) -> None:
        """Printed even with --quiet: the lines the story is about."""
        self._print(text)

    def detail(self, text: str) -> None:
        """moto's details: printed with --verbose only (docs/demo.md has them all)."""
        if self.verbose:
            self._print(text, "    . ", "      ")

    def moto_note(self, label: str, text: str) -> None:
        """A step moto cannot do as AWS does, which the demo does: a short note once, the why with --verbose."""
        if label not in self.notes_told:
            self.notes_told.add(label)
            self.say(f"(played by the demo: {label})")
            self.detail(text)

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.say(f"ok: {what}")
        else:
            self.mismatches.append(what)
            self.show(f"MISMATCH: {what}")
        return ok


def load_template(path: Path) -> dict[str, Any]:
    """A CloudFormation YAML template as JSON-ready data (short-form tags expanded)."""
    import yaml  # PyYAML, a dependency of moto

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader: Loader, suffix: str, node: Any) -> dict[str, Any]:
        key = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if suffix == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {key: value}

    Loader.add_multi_constructor("!", intrinsic)
    return yaml.load(path.read_text(), Loader=Loader)


def edge_template() -> dict[str, Any]:
    """examples/edge-stack.yaml, minus what moto cannot do, plus a parameter the app reads."""
    t = load_template(ROOT / "examples/edge-stack.yaml")
    # moto's Ref on AWS::Lambda::Version gives the logical id, not the ARN.
    del t["Resources"]["EdgeVersionArnParameter"]
    del t["Outputs"]["AuthFunctionVersionArn"]
    t["Resources"]["LoginUrlParameter"] = {
        "Type": "AWS::SSM::Parameter",
        "Properties": {"Name": LOGIN_PARAMETER, "Type": "String", "Value": {"Ref": "LoginUrl"},
                       "Description": "Where the app sends viewers to log in (read cross-region)"},
    }
    return t


def app_template() -> dict[str, Any]:
    """examples/app-stack.yaml with the resources moto's CloudFormation cannot create left out."""
    t = load_template(ROOT / "examples/app-stack.yaml")
    for name in ("Distribution", "ContentBucketPolicy", "OriginAccessControl",
                 "UserPool", "UserPoolDomain", "UserPoolClient"):
        del t["Resources"][name]
    for name in ("DistributionDomainName", "UserPoolId", "UserPoolClientId"):
        del t["Outputs"][name]
    t["Resources"]["LoginConfig"] = {
        "Type": "Custom::CrossRegionParam",
        "Properties": {
            "ServiceToken": {"Fn::ImportValue": "CrossRegionParam-ServiceToken"},
            "Region": EDGE_REGION,
            "ParameterName": LOGIN_PARAMETER,
            "Refresh": {"Ref": "DeployId"},
        },
    }
    t["Outputs"]["LoginUrl"] = {"Value": {"Fn::GetAtt": ["LoginConfig", "Value"]}}
    return t


def edge_code(revision: int) -> bytes:
    """A zip with the edge function's code at `revision`."""
    return cfn.zip_source("'use strict';\n"
                          f"// code revision {revision}\n"
                          "exports.handler = async (event) => event.Records[0].cf.request;\n")


def build_binary() -> str:
    """The provider binary, built with cargo (a no-op when up to date)."""
    subprocess.run(["cargo", "build", "--locked", "--quiet", "--bin", "cross-region-param"],
                   cwd=ROOT, check=True)
    return str(ROOT / "target/debug/cross-region-param")


class Demo:
    def __init__(self, story: Story, aws: moto.LocalAws, cf: cfn.CloudFormation):
        self.s = story
        self.aws = aws
        self.provider = cf.moto_stack("CrossRegionParam", APP_REGION)
        self.edge = cf.moto_stack("EdgeStack", EDGE_REGION)
        self.app = cf.moto_stack("ClientAppStack", APP_REGION)
        self.lam = aws.client("lambda", EDGE_REGION)
        self.ssm = aws.client("ssm", EDGE_REGION)
        self.edge_tpl = edge_template()
        self.app_tpl = app_template()

    # --- reading moto -------------------------------------------------------
    def newest_version_arn(self) -> str:
        return cfn.newest_version_arn(self.aws, EDGE_REGION, FUNCTION)

    def status_is(self, stack: cfn.MotoStack, want: str, note: str = "") -> None:
        status = stack.status
        self.s.show(f"{stack.name}: {status} (from moto{note})")
        self.s.check(status == want, f"{stack.name} is {want}")

    def deliver(self) -> list[cfn.Call]:
        """ClientAppStack's custom resource requests, as CloudFormation would send them."""
        calls = self.app.play()
        for c in calls:
            r, a = c.event or {}, c.answer or {}
            what = f"{c.request} {c.logical}"
            if c.request == "Delete":
                self.s.moto_note("the cleanup Deletes", "A new PhysicalResourceId means a "
                                 "replacement: CloudFormation deletes the old resource once the "
                                 "update is done (its cleanup phase). moto does not keep the "
                                 "provider's ids.")
                what += f" (the replaced {short_id(r.get('PhysicalResourceId', '?'))})"
            if c.request == "Update":
                what += (f" (Refresh {r['OldResourceProperties'].get('Refresh')} -> "
                         f"{r['ResourceProperties'].get('Refresh')})")
            self.s.say(f"provider <- {what}")
            data = a.get("Data") or {}
            headline = next((f"{k} = {data[k]}" for k in ("VersionArn", "Value") if k in data), "")
            if a.get("Status") == "SUCCESS":
                self.s.say("provider -> SUCCESS" + (f", {headline}" if headline else ""))
            else:
                self.s.say(f"provider -> {a.get('Status', 'no answer')} (its Reason is below)")
            self.s.detail(f"PhysicalResourceId {r.get('PhysicalResourceId', '(none yet)')} -> "
                          f"{a.get('PhysicalResourceId', '?')}; Data keys: {', '.join(sorted(data)) or 'none'}")
            self.s.detail(f"the answer went on to moto's cfnresponse: HTTP {c.forwarded}" if c.forwarded
                          else "the answer stopped at the loopback ResponseURL (moto has no Delete)")
        return calls

    # --- the story ----------------------------------------------------------
    def provider_stack(self) -> None:
        self.s.step(f"Provider stack CrossRegionParam in {APP_REGION}")
        self.s.say("its function is what the ServiceToken names; the real binary answers for it")
        self.s.detail("scripts/demo/provider-stack.yaml stands in for template.yaml (moto expands no "
                      "SAM transform); its code is a placeholder moto never runs")
        self.provider.create(load_template(ROOT / "scripts/demo/provider-stack.yaml"))
        self.status_is(self.provider, "CREATE_COMPLETE")

    def edge_stack(self) -> str:
        self.s.step(f"EdgeStack in {EDGE_REGION}: edge function, version 1, SSM {LOGIN_PARAMETER}")
        self.edge.create(self.edge_tpl)
        self.status_is(self.edge, "CREATE_COMPLETE")
        arn = self.newest_version_arn()
        self.s.say(f"newest published version: {arn}")
        return arn

    def app_create(self, newest: str) -> str:
        self.s.step(f"ClientAppStack in {APP_REGION}: two Custom::CrossRegionParam (Create)")
        self.s.say("left out (moto's CloudFormation has no model for them): the CloudFront "
                   "distribution, its bucket policy and OAC, the Cognito user pool, domain and client")
        self.app.create(self.app_tpl, {"DeployId": "round-0"})
        self.status_is(self.app, "CREATE_IN_PROGRESS", ": waiting for the custom resources")
        self.s.moto_note("the provider's invocation", "moto runs Lambda functions only in Docker. "
                         "The stand-in builds each request CloudFormation would send from the "
                         "template and the stack's state, hands it to the provider binary under a "
                         "local Lambda Runtime API, and forwards the answer to moto's cfnresponse.")
        calls = self.deliver()
        self.s.check(sorted(c.request for c in calls) == ["Create", "Create"],
                     "two Creates, one per custom resource")
        self.status_is(self.app, "CREATE_COMPLETE")
        got = self.app_outputs(newest)
        return got

    def app_outputs(self, newest: str) -> str:
        out = self.app.outputs()
        got = out.get("EdgeFunctionVersionArn", "")
        self.s.show(f"EdgeFunctionVersionArn = {got}")
        self.s.check(got == newest, "the app's VersionArn is the newest published version")
        login = self.ssm.get_parameter(Name=LOGIN_PARAMETER)["Parameter"]["Value"]
        self.s.say(f"LoginUrl = {out.get('LoginUrl')}")
        self.s.check(out.get("LoginUrl") == login,
                     f"the app's LoginUrl is {LOGIN_PARAMETER} in {EDGE_REGION}")
        return got

    def new_edge_code(self, revision: int, breaking: bool = False) -> str:
        login = f"https://login.example.com/r{revision}"
        self.edge.update(self.edge_tpl, {"CodeRevision": str(revision), "LoginUrl": login})
        self.status_is(self.edge, "UPDATE_COMPLETE")
        self.s.say("nothing is exported, so EdgeStack updates while ClientAppStack uses its values")
        self.s.moto_note("new code and a new version", "moto's CloudFormation neither updates the "
                         "function's code nor publishes a new AWS::Lambda::Version on update: the "
                         "demo does both with the Lambda API.")
        self.lam.update_function_code(FunctionName=FUNCTION, ZipFile=edge_code(revision))
        if breaking:
            self.lam.update_function_configuration(
                FunctionName=FUNCTION, MemorySize=256, Timeout=10,
                Environment={"Variables": {"LOGIN_URL": login}})
            self.s.say("this version has environment variables, 256 MB and a 10 s timeout")
        version = self.lam.publish_version(FunctionName=FUNCTION,
                                           Description=f"code revision {revision}")
        self.s.say(f"published {version['FunctionArn']}")
        return version["FunctionArn"]

    def app_update(self, deploy_id: str) -> list[cfn.Call]:
        self.app.update(self.app_tpl, {"DeployId": deploy_id})
        self.s.moto_note("waiting for the provider", "moto completes update_stack at once, "
                         "without waiting for the custom resources; the demo reads the outputs "
                         "after the provider answered.")
        calls = self.deliver()
        updates = [c for c in calls if c.request == "Update"]
        self.s.check(len(updates) == 2, "two Updates, one per custom resource")
        return updates

    def round(self, n: int, previous: str) -> str:
        self.s.step(f"Round {n}: new edge code, new version, ClientAppStack Refresh=round-{n}")
        newest = self.new_edge_code(n + 1)
        self.app_update(f"round-{n}")
        self.status_is(self.app, "UPDATE_COMPLETE")
        got = self.app_outputs(newest)
        self.s.check(got != previous, "the VersionArn changed this round")
        return got

    def bad_round(self, previous: str) -> str:
        self.s.step("Bad round: a version that breaks the Lambda@Edge rules")
        bad = self.new_edge_code(99, breaking=True)
        calls = self.app_update("bad-round")
        edge = [c for c in calls if c.logical == "EdgeAuth"]
        answer = edge[0].answer if edge else None
        if self.s.check(answer is not None and answer.get("Status") == "FAILED",
                        "the provider answered FAILED for EdgeAuth"):
            reason = (answer or {}).get("Reason", "")
            self.s.show("the provider's Reason, as CloudFormation would show it:")
            for line in re.split(r"(?:;|:) (?=\(\d+\) )", reason):
                self.s._print(line, "      | ", "      |   ")
            for rule in ("environment variable", "memory", "timeout"):
                self.s.check(rule in reason, f"the Reason names the {rule} rule")
        failed_id = (answer or {}).get("PhysicalResourceId", "")
        self.s.show(f"the FAILED answer's id is {failed_id}, not EdgeAuth's current one")
        self.s.check(failed_id == "crp-update-failed" and failed_id != edge[0].event.get("PhysicalResourceId"),
                     "a failed Update answers a new id (a replacement that failed)")
        self.s.show("On AWS, CloudFormation would now roll ClientAppStack back "
                    "(UPDATE_ROLLBACK_COMPLETE), keeping the previous EdgeAuth and its Data, and "
                    "send crp-update-failed a Delete, which the provider answers without a call. "
                    "It never asks EdgeAuth to read again (the newest version is the refused one).")
        self.s.moto_note("no rollback", "moto's cfnresponse ignores FAILED and moto never rolls "
                         f"back: it reports {self.app.status}. What matters is the output below, "
                         "which moto still holds.")
        got = self.app.outputs().get("EdgeFunctionVersionArn", "")
        self.s.show(f"EdgeFunctionVersionArn = {got}")
        self.s.check(got == previous, "the app still uses the previous version")
        self.s.check(got != bad, f"the app does not use the refused version {bad.rsplit(':', 1)[-1]}")
        return bad

    def no_exports(self) -> None:
        self.s.step("Nothing crosses regions through an export")
        exports = [e["Name"] for region in (EDGE_REGION, APP_REGION)
                   for e in self.aws.client("cloudformation", region).list_exports()["Exports"]]
        self.s.show(f"exports in both regions: {', '.join(exports) or 'none'}")
        self.s.check(exports == ["CrossRegionParam-ServiceToken"],
                     "the only export is the provider's ServiceToken")
        for stack in (self.edge, self.app):
            body = stack.client.get_template(StackName=stack.stack_id)["TemplateBody"]
            template = body if isinstance(body, dict) else json.loads(body)
            imports = sorted(set(cfn.find_key(template, "Fn::ImportValue")))
            exported = [k for k, o in (template.get("Outputs") or {}).items() if "Export" in o]
            self.s.say(f"{stack.name}: imports {', '.join(imports) or 'nothing'}; "
                       f"exports {', '.join(exported) or 'nothing'}")
            self.s.check(not exported and all(i == "CrossRegionParam-ServiceToken" for i in imports),
                         f"{stack.name} imports only the ServiceToken and exports nothing")
        self.s.show("moto does not enforce CloudFormation's 'export in use' rule, so CDK's "
                    "crossRegionReferences deadlock is shown by `make deadlock` "
                    "(docs/migrating.md)")

    def delete(self) -> None:
        self.s.step("Delete ClientAppStack, then EdgeStack")
        self.s.moto_note("the Delete requests", "moto deletes custom resources without asking "
                         "the provider: the stand-in sends the Delete requests CloudFormation "
                         "would, before moto deletes the stack.")
        for c in self.app.delete():
            self.s.say(f"provider <- Delete {c.logical}")
            self.s.check(c.ok, f"Delete {c.logical} answered SUCCESS")
        self.status_is(self.app, "DELETE_COMPLETE")
        self.edge.delete()
        self.status_is(self.edge, "DELETE_COMPLETE")


def short_id(physical_id: str) -> str:
    """A physical id cut for the screen: the provider's ids are long hashes."""
    return physical_id if len(physical_id) <= 28 else physical_id[:27] + "…"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", help="provider binary to run (default: build target/debug/cross-region-param)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quiet", action="store_true", help="print only steps, statuses and results")
    group.add_argument("--verbose", action="store_true",
                       help="also print moto's details: its patches and why each step is played")
    args = parser.parse_args(argv)
    story = Story(args.quiet, args.verbose)

    print("cross-region-param demo: the story on a local AWS (moto), no AWS account")
    story.step("Start moto on loopback; this build's provider binary will answer")
    binary = args.binary or build_binary()
    log_path = ROOT / "target/demo-provider.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    story.say(f"provider binary: {binary}")
    story.say(f"its log: {log_path.relative_to(ROOT)}")

    arns: list[tuple[str, str]] = []
    with open(log_path, "wb") as log, moto.start() as aws:
        story.detail(f"moto {moto.MOTO_VERSION} at {aws.url}, in this process, patched:")
        for patch in moto.PATCHES:
            story.detail(f"moto patch: {patch.name}. {patch.why}")
        with cfn.Providers(binary, aws, log=log) as providers:
            demo = Demo(story, aws, cfn.CloudFormation(aws, providers))
            demo.provider_stack()
            first = demo.edge_stack()
            arns.append(("initial", demo.app_create(first)))
            for n in (1, 2, 3):
                arns.append((f"round {n}", demo.round(n, arns[-1][1])))
            bad = demo.bad_round(arns[-1][1])
            demo.no_exports()
            demo.delete()

    versions = [a for _, a in arns]
    story.check(len(set(versions)) == 4, "four distinct version ARNs")
    print(f"\n[{time.monotonic() - story.start:5.1f}s] Summary: the VersionArn ClientAppStack got")
    for label, arn in arns:
        print(f"    {label:<9} {arn}")
    print(f"    {'refused':<9} {bad}")
    if story.mismatches:
        print(f"\ndemo: {len(story.mismatches)} mismatch(es):")
        for m in story.mismatches:
            story.show(f"- {m}")
        return 1
    print("\ndemo: OK (every status above is moto's; docs/demo.md lists what the demo plays)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (subprocess.CalledProcessError, RuntimeError, OSError, cfn.StandInError) as e:
        print(f"demo: could not run: {e}", file=sys.stderr)
        sys.exit(2)
