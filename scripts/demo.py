#!/usr/bin/env python3
"""`make demo`: the provider's whole story on a local AWS (moto), no account.

EdgeStack (us-east-1) holds a Lambda@Edge function; ClientAppStack
(ap-northeast-1) reads its newest published version and an SSM parameter
through Custom::CrossRegionParam, served by the real provider binary under a
local Lambda Runtime API. Three rounds of new edge code, one bad round the
provider refuses, a check that nothing is exported, then both stacks deleted.

Every stack status printed comes from moto. Where moto's CloudFormation cannot
do a step as AWS does, the demo does it and says so (docs/demo.md lists them).
Exits 1 on any mismatch, 2 when it could not run.

Usage: python scripts/demo.py [--binary PATH] [--quiet]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo import cfn, moto, runtime  # noqa: E402

EDGE_REGION = "us-east-1"
APP_REGION = "ap-northeast-1"
FUNCTION = "AuthFunction"
LOGIN_PARAMETER = "/myapp/login-url"


class Story:
    """Prints the account of the run and collects mismatches."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.start = time.monotonic()
        self.step_start = self.start
        self.mismatches: list[str] = []
        self.n = 0
        self.gaps_told: set[str] = set()

    def step(self, title: str) -> None:
        self.n += 1
        self.step_start = time.monotonic()
        print(f"\n[{time.monotonic() - self.start:5.1f}s] {self.n}. {title}", flush=True)

    def say(self, text: str) -> None:
        if not self.quiet:
            print(f"    {text}", flush=True)

    def show(self, text: str) -> None:
        """Printed even with --quiet: the lines the story is about."""
        print(f"    {text}", flush=True)

    def moto_gap(self, label: str, text: str) -> None:
        """A step moto cannot do as AWS does: said in full once, then by its label."""
        if label in self.gaps_told:
            self.say(f"(moto, as before: {label})")
        else:
            self.gaps_told.add(label)
            self.show(f"(moto: {label}) {text}")

    def check(self, ok: bool, what: str) -> bool:
        if ok:
            self.say(f"ok: {what}")
        else:
            self.mismatches.append(what)
            self.show(f"MISMATCH: {what}")
        return ok

    def done_in(self) -> None:
        self.say(f"({time.monotonic() - self.step_start:.1f} s)")


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
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", (
            "'use strict';\n"
            f"// code revision {revision}\n"
            "exports.handler = async (event) => event.Records[0].cf.request;\n"))
    return buf.getvalue()


def build_binary() -> str:
    """The provider binary, built with cargo (a no-op when up to date)."""
    subprocess.run(["cargo", "build", "--locked", "--quiet", "--bin", "cross-region-param"],
                   cwd=ROOT, check=True)
    return str(ROOT / "target/debug/cross-region-param")


class Demo:
    def __init__(self, story: Story, aws: moto.LocalAws, cf: cfn.CloudFormation):
        self.s = story
        self.aws = aws
        self.cf = cf
        self.edge_cfn = aws.client("cloudformation", EDGE_REGION)
        self.app_cfn = aws.client("cloudformation", APP_REGION)
        self.lam = aws.client("lambda", EDGE_REGION)
        self.ssm = aws.client("ssm", EDGE_REGION)
        self.edge_tpl = json.dumps(edge_template())
        self.app_tpl = json.dumps(app_template())
        self.app_id = ""
        self.edge_id = ""

    # --- reading moto -------------------------------------------------------
    def stack(self, client: Any, stack_id: str) -> dict[str, Any]:
        return client.describe_stacks(StackName=stack_id)["Stacks"][0]

    def outputs(self, client: Any, stack_id: str) -> dict[str, str]:
        return {o["OutputKey"]: o.get("OutputValue", "")
                for o in self.stack(client, stack_id).get("Outputs") or []}

    def newest_version_arn(self) -> str:
        versions, marker = [], None
        while True:
            page = self.lam.list_versions_by_function(
                FunctionName=FUNCTION, **({"Marker": marker} if marker else {}))
            versions += [v for v in page["Versions"] if v["Version"] != "$LATEST"]
            marker = page.get("NextMarker")
            if not marker:
                break
        newest = max(versions, key=lambda v: int(v["Version"]))
        return newest["FunctionArn"]

    def status_is(self, client: Any, stack_id: str, name: str, want: str) -> None:
        status = self.stack(client, stack_id)["StackStatus"]
        self.s.show(f"{name}: {status} (from moto)")
        self.s.check(status == want, f"{name} is {want}")

    def deliver(self) -> list[cfn.Exchange]:
        exchanges = self.cf.deliver_pending()
        if any(x.request["RequestType"] == "Delete" for x in exchanges):
            self.s.moto_gap("cleanup Deletes played", "a new PhysicalResourceId means a replacement; CloudFormation "
                            "then deletes the old resource (cleanup phase). moto does not "
                            "track the provider's ids, so the demo sends those Deletes")
        for x in exchanges:
            r, a = x.request, x.answer
            where = f"{r['RequestType']} {r['LogicalResourceId']}"
            if r["RequestType"] == "Delete":
                where += (f" (cleanup of the replaced PhysicalResourceId "
                          f"{r['PhysicalResourceId'][:24]}…)")
            if r["RequestType"] == "Update":
                where += (f" (PhysicalResourceId {r.get('PhysicalResourceId', '?')[:24]}…,"
                          f" Refresh {r['OldResourceProperties'].get('Refresh')} -> "
                          f"{r['ResourceProperties'].get('Refresh')})")
            if a is None:
                self.s.check(False, f"{where}: the provider answered")
                continue
            self.s.say(f"provider <- {where}")
            self.s.say(f"provider -> {a.status}: {a.reason}")
        return exchanges

    # --- the story ----------------------------------------------------------
    def provider_stack(self) -> None:
        self.s.step(f"Provider stack CrossRegionParam in {APP_REGION}")
        self.s.say("moto needs a function behind the ServiceToken; the real binary runs "
                   "under the demo's Lambda Runtime API (scripts/demo/provider-stack.yaml)")
        body = json.dumps(load_template(ROOT / "scripts/demo/provider-stack.yaml"))
        sid = self.app_cfn.create_stack(StackName="CrossRegionParam", TemplateBody=body,
                                        Capabilities=["CAPABILITY_IAM"])["StackId"]
        self.status_is(self.app_cfn, sid, "CrossRegionParam", "CREATE_COMPLETE")
        self.s.done_in()

    def edge_stack(self) -> str:
        self.s.step(f"EdgeStack in {EDGE_REGION}: edge function, version 1, SSM {LOGIN_PARAMETER}")
        self.edge_id = self.edge_cfn.create_stack(
            StackName="EdgeStack", TemplateBody=self.edge_tpl,
            Capabilities=["CAPABILITY_IAM"])["StackId"]
        self.status_is(self.edge_cfn, self.edge_id, "EdgeStack", "CREATE_COMPLETE")
        arn = self.newest_version_arn()
        self.s.say(f"newest published version: {arn}")
        self.s.done_in()
        return arn

    def app_create(self, newest: str) -> str:
        self.s.step(f"ClientAppStack in {APP_REGION}: two Custom::CrossRegionParam (Create)")
        self.s.say("left out (no moto CloudFormation model): the CloudFront distribution, "
                   "its bucket policy and OAC, the Cognito user pool, domain and client")
        self.app_id = self.app_cfn.create_stack(
            StackName="ClientAppStack", TemplateBody=self.app_tpl,
            Parameters=[{"ParameterKey": "DeployId", "ParameterValue": "round-0"}])["StackId"]
        waiting = self.stack(self.app_cfn, self.app_id)["StackStatus"]
        self.s.show(f"ClientAppStack: {waiting} (from moto: waiting for the custom resources)")
        self.s.check(waiting == "CREATE_IN_PROGRESS", "the stack waits for the provider")
        self.s.moto_gap("invoke played", "moto cannot invoke the provider (no Docker); the demo hands "
                        "each request it queued to the provider binary, ResponseURL at moto's "
                        "cfnresponse")
        exchanges = self.deliver()
        self.s.check(sorted(x.request["RequestType"] for x in exchanges) == ["Create", "Create"],
                     "moto's CloudFormation asked for two Creates")
        self.status_is(self.app_cfn, self.app_id, "ClientAppStack", "CREATE_COMPLETE")
        got = self.app_outputs(newest)
        self.s.done_in()
        return got

    def app_outputs(self, newest: str) -> str:
        out = self.outputs(self.app_cfn, self.app_id)
        got = out.get("EdgeFunctionVersionArn", "")
        self.s.show(f"EdgeFunctionVersionArn = {got}")
        self.s.check(got == newest, f"the app's VersionArn is the newest published ({newest})")
        login = self.ssm.get_parameter(Name=LOGIN_PARAMETER)["Parameter"]["Value"]
        self.s.say(f"LoginUrl = {out.get('LoginUrl')}")
        self.s.check(out.get("LoginUrl") == login, f"the app's LoginUrl is {LOGIN_PARAMETER} in {EDGE_REGION}")
        return got

    def new_edge_code(self, revision: int, breaking: bool = False) -> str:
        login = f"https://login.example.com/r{revision}"
        self.edge_cfn.update_stack(
            StackName=self.edge_id, TemplateBody=self.edge_tpl, Capabilities=["CAPABILITY_IAM"],
            Parameters=[{"ParameterKey": "CodeRevision", "ParameterValue": str(revision)},
                        {"ParameterKey": "LoginUrl", "ParameterValue": login}])
        self.status_is(self.edge_cfn, self.edge_id, "EdgeStack", "UPDATE_COMPLETE")
        self.s.say("nothing is exported, so EdgeStack updates while ClientAppStack uses its values")
        self.s.moto_gap("new version published by the demo",
                        "moto's CloudFormation neither updates the function's code nor "
                        "publishes a new AWS::Lambda::Version on update: the demo does both "
                        "with the Lambda API")
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

    def app_update(self, deploy_id: str) -> list[cfn.Exchange]:
        self.app_cfn.update_stack(
            StackName=self.app_id, TemplateBody=self.app_tpl,
            Parameters=[{"ParameterKey": "DeployId", "ParameterValue": deploy_id}])
        self.s.moto_gap("update does not wait", "moto completes update_stack at once, without waiting for the "
                        "custom resources; the demo reads the outputs after the provider answered")
        exchanges = self.deliver()
        updates = [x for x in exchanges if x.request["RequestType"] == "Update"]
        self.s.check(len(updates) == 2, "moto's CloudFormation asked for two Updates")
        return updates

    def round(self, n: int, previous: str) -> str:
        self.s.step(f"Round {n}: new edge code, new version, ClientAppStack Refresh=round-{n}")
        newest = self.new_edge_code(n + 1)
        self.app_update(f"round-{n}")
        self.status_is(self.app_cfn, self.app_id, "ClientAppStack", "UPDATE_COMPLETE")
        got = self.app_outputs(newest)
        self.s.check(got != previous, "the VersionArn changed this round")
        self.s.done_in()
        return got

    def bad_round(self, previous: str) -> str:
        self.s.step("Bad round: a version that breaks the Lambda@Edge rules")
        bad = self.new_edge_code(99, breaking=True)
        exchanges = self.app_update("bad-round")
        edge = [x for x in exchanges if x.request["LogicalResourceId"] == "EdgeAuth"]
        answer = edge[0].answer if edge else None
        if self.s.check(answer is not None and answer.status == "FAILED",
                        "the provider answered FAILED for EdgeAuth"):
            self.s.show("the provider's Reason, as CloudFormation would show it:")
            for line in re.split(r"(?:;|:) (?=\(\d+\) )", answer.reason):
                self.s.show(f"  | {line}")
            for rule in ("environment variable", "memory", "timeout"):
                self.s.check(rule in answer.reason, f"the Reason names the {rule} rule")
        self.s.show("On AWS, CloudFormation would now roll ClientAppStack back "
                    "(UPDATE_ROLLBACK_COMPLETE), keeping the previous EdgeAuth and its Data.")
        self.s.moto_gap("no rollback", "moto's cfnresponse ignores FAILED and moto never rolls back: it "
                        f"reports {self.stack(self.app_cfn, self.app_id)['StackStatus']}; "
                        "what matters is shown by the output below, which moto still holds")
        got = self.outputs(self.app_cfn, self.app_id).get("EdgeFunctionVersionArn", "")
        self.s.show(f"EdgeFunctionVersionArn = {got}")
        self.s.check(got == previous, "the app still uses the previous version")
        self.s.check(got != bad, f"the app does not use the refused {bad}")
        self.s.done_in()
        return bad

    def no_exports(self) -> None:
        self.s.step("Nothing crosses regions through an export")
        exports = [e["Name"] for region in (EDGE_REGION, APP_REGION)
                   for e in self.aws.client("cloudformation", region).list_exports()["Exports"]]
        self.s.show(f"exports in both regions: {exports}")
        self.s.check(exports == ["CrossRegionParam-ServiceToken"],
                     "the only export is the provider's ServiceToken")
        for client, sid, name in ((self.edge_cfn, self.edge_id, "EdgeStack"),
                                  (self.app_cfn, self.app_id, "ClientAppStack")):
            body = client.get_template(StackName=sid)["TemplateBody"]
            template = body if isinstance(body, dict) else json.loads(body)
            imports = find_imports(template)
            exported = [k for k, o in (template.get("Outputs") or {}).items() if "Export" in o]
            self.s.say(f"{name}: Fn::ImportValue {imports or 'none'}; outputs with Export: "
                       f"{exported or 'none'}")
            self.s.check(not exported and all(i == "CrossRegionParam-ServiceToken" for i in imports),
                         f"{name} imports only the ServiceToken and exports nothing")
        self.s.show("moto does not enforce CloudFormation's 'export in use' rule, so the demo "
                    "cannot show CDK's crossRegionReferences deadlock; see docs/migrating.md "
                    "(and `make deadlock`)")
        self.s.done_in()

    def delete(self) -> None:
        self.s.step("Delete ClientAppStack, then EdgeStack")
        self.s.moto_gap("Deletes played", "moto deletes custom resources without asking the provider: the demo "
                        "sends the Delete requests CloudFormation would")
        for x in self.cf.delete(self.app_id):
            a = x.answer
            self.s.say(f"provider <- Delete {x.request['LogicalResourceId']}")
            self.s.check(a is not None and a.status == "SUCCESS",
                         f"Delete {x.request['LogicalResourceId']} answered SUCCESS")
        self.app_cfn.delete_stack(StackName=self.app_id)
        self.status_is(self.app_cfn, self.app_id, "ClientAppStack", "DELETE_COMPLETE")
        self.edge_cfn.delete_stack(StackName=self.edge_id)
        self.status_is(self.edge_cfn, self.edge_id, "EdgeStack", "DELETE_COMPLETE")
        self.s.done_in()


def find_imports(node: Any) -> list[Any]:
    if isinstance(node, dict):
        found = [node["Fn::ImportValue"]] if "Fn::ImportValue" in node else []
        return found + [i for v in node.values() for i in find_imports(v)]
    if isinstance(node, list):
        return [i for v in node for i in find_imports(v)]
    return []


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", help="provider binary to run (default: build target/debug/cross-region-param)")
    parser.add_argument("--quiet", action="store_true", help="print only steps, statuses and results")
    args = parser.parse_args(argv)
    story = Story(args.quiet)

    print("cross-region-param demo: the story on a local AWS (moto), no AWS account")
    story.step("Start moto on loopback and the provider binary under a Lambda Runtime API")
    binary = args.binary or build_binary()
    log_path = ROOT / "target/demo-provider.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    story.say(f"provider binary: {binary}; its log: {log_path.relative_to(ROOT)}")
    for gap in moto.GAPS:
        story.say(f"moto patch: {gap}")

    arns: list[tuple[str, str]] = []
    with open(log_path, "wb") as log, moto.start() as aws:
        env = runtime.aws_env(aws.url, APP_REGION)
        env.update({"CRP_RESPONSE_URL_HOSTS": "127.0.0.1", "CRP_ALLOWED_REGIONS": EDGE_REGION})
        with runtime.LambdaRuntime(binary, env, log=log) as fn:
            cf = cfn.CloudFormation(aws, fn.invoke)
            story.say(f"moto at {aws.url}; Runtime API at 127.0.0.1:{fn.port}")
            story.done_in()
            try:
                demo = Demo(story, aws, cf)
                demo.provider_stack()
                first = demo.edge_stack()
                arns.append(("initial", demo.app_create(first)))
                for n in (1, 2, 3):
                    arns.append((f"round {n}", demo.round(n, arns[-1][1])))
                bad = demo.bad_round(arns[-1][1])
                demo.no_exports()
                demo.delete()
            finally:
                cf.close()

    versions = [a for _, a in arns]
    story.check(len(set(versions)) == 4, "four distinct version ARNs")
    print(f"\n[{time.monotonic() - story.start:5.1f}s] Summary: the VersionArn ClientAppStack got")
    for label, arn in arns:
        print(f"    {label:<9} {arn}")
    print(f"    {'refused':<9} {bad}")
    if story.mismatches:
        print(f"\ndemo: {len(story.mismatches)} mismatch(es):")
        for m in story.mismatches:
            print(f"  - {m}")
        return 1
    print("\ndemo: OK (every status above is moto's; docs/demo.md lists what the demo plays itself)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
        print(f"demo: could not run: {e}", file=sys.stderr)
        sys.exit(2)
