"""A CloudFormation stand-in for `make deadlock`: plays stack deploys against moto.

moto can neither run Lambda code nor call custom resources, so this module does
what CloudFormation would do for the resources the story depends on, and no
more:

* ``AWS::Lambda::Function`` / ``AWS::Lambda::Version``: created, updated and
  published in moto's Lambda (us-east-1), so version numbers and ARNs are real
  moto values.
* ``Custom::CrossRegionExportWriter`` / ``Custom::CrossRegionExportReader``:
  aws-cdk-lib's own handler code (from the pinned package) run under node with
  the request CloudFormation would send; its SDK calls go to moto's SSM.
* ``Custom::CrossRegionParam``: this project's provider binary, run by the
  Lambda Runtime API of ``make demo`` (``scripts/demo/runtime.py``) and
  answering on a local ResponseURL.
* ``AWS::CloudFront::Distribution``: only its edge function association is
  recorded (moto's CloudFront is not involved).

Every other resource type is left out. Dynamic references
(``{{resolve:ssm:NAME}}``) are resolved by reading moto's SSM, as CloudFormation
resolves them before it calls a resource. The update and rollback order follows
CloudFormation's documented behaviour (create/update in dependency order,
old resources deleted in the cleanup phase, rollback Updates with the previous
properties); that order is this module's reading of the AWS documentation, not
something moto shows.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import subprocess
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
PROVIDER_ARN = f"arn:aws:lambda:ap-northeast-1:{ACCOUNT}:function:CrossRegionParam-Function"
EXPORT_PREFIX = "/cdk/exports/"
STRONG_REF_TAG = "aws-cdk:strong-ref:"


class StandInError(Exception):
    """Something the stand-in itself could not do (not a resource's failure)."""


# --------------------------------------------------------------------------- AWS


class Aws:
    """boto3 clients for moto."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self._session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
        )

    def client(self, service: str, region: str):
        return self._session.client(service, region_name=region, endpoint_url=self.endpoint)

    def exports(self, region: str, consumer: str) -> dict[str, dict]:
        """`/cdk/exports/<consumer>/...` parameters in `region`: value and strong-ref tags."""
        ssm = self.client("ssm", region)
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

    def ssm_value(self, region: str, name: str) -> str:
        return self.client("ssm", region).get_parameter(Name=name)["Parameter"]["Value"]

    def forget(self, consumer: str, function_name: str, regions: list[str]) -> None:
        """Removes what an earlier run left under the story's fixed names."""
        for region in regions:
            names = list(self.exports(region, consumer))
            ssm = self.client("ssm", region)
            for i in range(0, len(names), 10):
                ssm.delete_parameters(Names=names[i : i + 10])
        lam = self.client("lambda", "us-east-1")
        try:
            lam.delete_function(FunctionName=function_name)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    def edge_role(self) -> str:
        iam = self.client("iam", "us-east-1")
        name = "deadlock-edge-role"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        try:
            return iam.get_role(RoleName=name)["Role"]["Arn"]
        except ClientError:
            return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def zip_source(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("index.js", date_time=(2020, 1, 1, 0, 0, 0))
        z.writestr(info, source)
    return buf.getvalue()


# ------------------------------------------------------------------ CDK handlers


@dataclass
class HandlerOutcome:
    """What one handler invocation did: its own result or error, and its log."""

    ok: bool
    error: str | None
    returned: dict | None
    log: str

    def physical_id(self, event: dict) -> str:
        # CDK's entry point answers the handler's id, else the request's.
        ret = self.returned or {}
        return ret.get("PhysicalResourceId") or event.get("PhysicalResourceId") or event["RequestId"]

    def data(self) -> dict:
        return dict((self.returned or {}).get("Data") or {})


class CdkHandlers:
    """aws-cdk-lib's own cross-region export handlers from one installed version."""

    KINDS = {
        "Custom::CrossRegionExportWriter": "cross-region-ssm-writer-handler",
        "Custom::CrossRegionExportReader": "cross-region-ssm-reader-handler",
    }

    def __init__(self, version: str, tools: Path, endpoint: str, driver: Path):
        self.version = version
        self.modules = tools / "node_modules"
        self.root = self.modules / "aws-cdk-lib"
        self.dist = self.root / "core" / "lib" / "dist" / "core"
        self.endpoint = endpoint
        self.driver = driver
        for d in self.KINDS.values():
            if not (self.dist / d / "index.js").is_file():
                raise StandInError(f"aws-cdk-lib {version}: {self.dist / d / 'index.js'} not found")

    def handler_path(self, resource_type: str) -> Path:
        return self.dist / self.KINDS[resource_type] / "index.js"

    def run(self, resource_type: str, event: dict) -> HandlerOutcome:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "NODE_PATH": str(self.modules),
            "NODE_NO_WARNINGS": "1",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        with tempfile.TemporaryDirectory() as tmp:
            result = Path(tmp) / "result.json"
            proc = subprocess.run(
                ["node", str(self.driver), str(self.handler_path(resource_type).parent), str(result)],
                input=json.dumps(event),
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            if proc.returncode != 0 or not result.exists():
                raise StandInError(f"node driver failed ({proc.returncode}): {proc.stderr[-2000:]}")
            r = json.loads(result.read_text())
        log = (proc.stdout + proc.stderr).strip()
        if r["outcome"] == "SUCCESS":
            return HandlerOutcome(True, None, r.get("returned"), log)
        return HandlerOutcome(False, r.get("errorMessage"), None, log)


# --------------------------------------------------------------------- provider


class Provider:
    """The project's provider binary, run by the demo's Lambda Runtime API.

    `demo.runtime.LambdaRuntime` (scripts/demo/, shared with `make demo`) runs
    the binary as Lambda would; this class adds the ResponseURL: a loopback
    server that receives the provider's answer PUT for each request.
    """

    def __init__(self, binary: str, endpoint: str):
        self.binary = binary
        self.endpoint = endpoint
        self._answers: dict[str, queue.Queue] = {}
        self._server: ThreadingHTTPServer | None = None
        self._runtime = None

    def __enter__(self) -> "Provider":
        try:
            from demo import runtime  # scripts/demo/, on sys.path via scripts/deadlock.py
        except ImportError as e:
            raise StandInError(f"scripts/demo/ (the Lambda Runtime API of `make demo`) cannot be imported: {e}") from None

        outer = self

        class ResponseUrl(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                m = re.match(r"^/cfn-response/([^/?]+)", self.path)
                waiting = outer._answers.get(m.group(1)) if m else None
                if waiting is not None:
                    waiting.put(json.loads(body or b"{}"))
                self.send_response(200 if waiting is not None else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), ResponseUrl)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.response_base = f"http://127.0.0.1:{self._server.server_address[1]}/cfn-response/"
        env = runtime.aws_env(self.endpoint, "ap-northeast-1")
        env.update(CRP_RESPONSE_URL_HOSTS="127.0.0.1", CRP_ALLOWED_REGIONS="us-east-1")
        self._runtime = runtime.LambdaRuntime(self.binary, env)
        return self

    def __exit__(self, *exc) -> None:
        if self._runtime is not None:
            self._runtime.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def invoke(self, event: dict) -> dict:
        """Delivers one request; returns the answer the provider PUT to its ResponseURL."""
        rid = event["RequestId"]
        event = dict(event, ResponseURL=self.response_base + rid, ServiceToken=PROVIDER_ARN)
        answer: queue.Queue = queue.Queue()
        self._answers[rid] = answer
        try:
            outcome = self._runtime.invoke(event)
            try:
                return answer.get(timeout=10)
            except queue.Empty:
                raise StandInError(
                    f"no answer on the ResponseURL for request {rid} (the function reported {outcome.kind})"
                ) from None
        finally:
            self._answers.pop(rid, None)


# ------------------------------------------------------------------------ stacks


@dataclass
class Resource:
    type: str
    props: dict  # resolved properties
    physical: str
    data: dict = field(default_factory=dict)
    retain: bool = False


@dataclass
class Call:
    """One call CloudFormation makes during a deploy, and what came of it."""

    logical: str
    type: str
    request: str  # Create / Update / Delete / publish / ...
    ok: bool
    detail: str
    phase: str = "update"  # update / rollback / cleanup
    log: str = ""


class StackFailed(Exception):
    pass


def _refs(node, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                target = v[0] if isinstance(v, list) else str(v).split(".")[0]
                out.add(target)
            else:
                _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)
    return out


DYNAMIC_SSM = re.compile(r"\{\{resolve:ssm:([^}:]+)\}\}")


class CloudFormation:
    """Deploys templates the way CloudFormation would, for the played types."""

    PLAYED = (
        "AWS::Lambda::Function",
        "AWS::Lambda::Version",
        "AWS::CloudFront::Distribution",
        "Custom::CrossRegionExportWriter",
        "Custom::CrossRegionExportReader",
        "Custom::CrossRegionParam",
    )

    def __init__(self, aws: Aws, cdk: CdkHandlers, provider: Provider | None = None):
        self.aws = aws
        self.cdk = cdk
        self.provider = provider
        self.stacks: dict[str, Stack] = {}

    def stack(self, name: str, region: str) -> "Stack":
        if name not in self.stacks:
            self.stacks[name] = Stack(self, name, region)
        return self.stacks[name]


class Stack:
    def __init__(self, cfn: CloudFormation, name: str, region: str):
        self.cfn = cfn
        self.name = name
        self.region = region
        self.stack_id = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{name}/{uuid.uuid4()}"
        self.resources: dict[str, Resource] = {}
        self.template: dict | None = None
        self.status = "NONE"
        self.calls: list[Call] = []
        self._pending_rollback: list = []
        self._rollback_current: dict[str, Resource] = {}
        self.failure = ""

    # ---- resolution

    def _resolve(self, node, current: dict[str, Resource]):
        if isinstance(node, dict):
            if set(node) == {"Ref"}:
                lid = node["Ref"]
                if lid in current:
                    return current[lid].physical
                if lid == "AWS::Region":
                    return self.region
                if lid == "AWS::AccountId":
                    return ACCOUNT
                return f"<{lid}>"  # a resource the stand-in leaves out
            if set(node) == {"Fn::GetAtt"}:
                lid, attr = node["Fn::GetAtt"] if isinstance(node["Fn::GetAtt"], list) else node["Fn::GetAtt"].split(".", 1)
                res = current.get(lid)
                if res is None:
                    return f"<{lid}.{attr}>"  # a resource the stand-in leaves out
                if attr == "Arn" and res.type == "AWS::Lambda::Function":
                    return res.data["Arn"]
                if attr not in res.data:
                    raise StackFailed(f"{lid} has no attribute {attr}")
                return res.data[attr]
            if set(node) == {"Fn::ImportValue"}:
                if node["Fn::ImportValue"] == "CrossRegionParam-ServiceToken":
                    return PROVIDER_ARN
                raise StandInError(f"{self.name}: import {node['Fn::ImportValue']} is not played")
            return {k: self._resolve(v, current) for k, v in node.items()}
        if isinstance(node, list):
            return [self._resolve(v, current) for v in node]
        if isinstance(node, str) and "{{resolve:ssm:" in node:

            def sub(m):
                try:
                    return self.cfn.aws.ssm_value(self.region, m.group(1))
                except ClientError as e:
                    raise StackFailed(
                        f"dynamic reference {m.group(0)} cannot be resolved: {e.response['Error']['Code']}"
                    ) from None

            return DYNAMIC_SSM.sub(sub, node)
        return node

    def _played(self, template: dict) -> dict[str, dict]:
        def played(r: dict) -> bool:
            if r["Type"] == "AWS::Lambda::Function":
                # the edge function (inline code); CDK's own handler functions are left out
                return "ZipFile" in (r.get("Properties", {}).get("Code") or {})
            return r["Type"] in CloudFormation.PLAYED

        return {k: r for k, r in template.get("Resources", {}).items() if played(r)}

    def _order(self, played: dict[str, dict]) -> list[str]:
        deps = {k: (_refs(r.get("Properties", {}), set()) | set(r.get("DependsOn", []) if isinstance(r.get("DependsOn"), list) else [r["DependsOn"]] if r.get("DependsOn") else [])) & set(played) for k, r in played.items()}
        order: list[str] = []
        seen: set[str] = set()

        def visit(k: str, path: tuple = ()):
            if k in seen:
                return
            if k in path:
                raise StandInError(f"{self.name}: dependency cycle at {k}")
            for d in sorted(deps[k]):
                visit(d, path + (k,))
            seen.add(k)
            order.append(k)

        for k in played:
            visit(k)
        return order

    # ---- one resource operation

    def _event(self, request: str, lid: str, rtype: str, props: dict, old: dict | None, physical: str | None) -> dict:
        event = {
            "RequestType": request,
            "ServiceToken": props.get("ServiceToken", ""),
            "ResponseURL": "http://127.0.0.1:9/unused",
            "StackId": self.stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": lid,
            "ResourceType": rtype,
            "ResourceProperties": props,
        }
        if old is not None:
            event["OldResourceProperties"] = old
        if physical is not None:
            event["PhysicalResourceId"] = physical
        return event

    def _custom(self, request: str, lid: str, rtype: str, props: dict, old: dict | None, physical: str | None, phase: str) -> tuple[str, dict]:
        event = self._event(request, lid, rtype, props, old, physical)
        if rtype == "Custom::CrossRegionParam":
            if self.cfn.provider is None:
                raise StandInError("no provider running for Custom::CrossRegionParam")
            answer = self.cfn.provider.invoke(event)
            ok = answer.get("Status") == "SUCCESS"
            pid, data = answer.get("PhysicalResourceId", ""), dict(answer.get("Data") or {})
            detail = f"provider answered {answer.get('Status')}" + (
                f": VersionArn={data['VersionArn']}" if ok and "VersionArn" in data else ""
            ) + ("" if ok else f": {answer.get('Reason')}")
            self.calls.append(Call(lid, rtype, request, ok, detail, phase))
            if not ok:
                raise StackFailed(f"{lid} ({rtype}) {request} failed: {answer.get('Reason')}")
            return pid, data
        out = self.cfn.cdk.run(rtype, event)
        detail = (
            f"aws-cdk-lib {self.cfn.cdk.version} handler returned" if out.ok else f"aws-cdk-lib {self.cfn.cdk.version} handler threw: {out.error}"
        )
        self.calls.append(Call(lid, rtype, request, out.ok, detail, phase, out.log))
        if not out.ok:
            raise StackFailed(f"{lid} ({rtype}) {request} failed: {out.error}")
        return out.physical_id(event), out.data()

    def _apply(self, lid: str, spec: dict, current: dict[str, Resource], phase: str) -> tuple[str, Resource | None]:
        """Creates or updates one resource; returns (what was done, previous state)."""
        rtype = spec["Type"]
        props = self._resolve(spec.get("Properties", {}), current)
        before = current.get(lid)
        retain = spec.get("DeletionPolicy") == "Retain"
        if before is not None and before.props == props:
            return "unchanged", before
        lam = self.cfn.aws.client("lambda", "us-east-1")
        if rtype == "AWS::Lambda::Function":
            code = zip_source(props["Code"]["ZipFile"])
            name = props.get("FunctionName") or f"{self.name}-{lid}"
            if before is None:
                f = lam.create_function(
                    FunctionName=name,
                    Runtime=props["Runtime"],
                    Role=self.cfn.aws.edge_role(),
                    Handler=props["Handler"],
                    Code={"ZipFile": code},
                    MemorySize=int(props.get("MemorySize", 128)),
                    Timeout=int(props.get("Timeout", 3)),
                    Architectures=props.get("Architectures", ["x86_64"]),
                )
                current[lid] = Resource(rtype, props, name, {"Arn": f["FunctionArn"]}, retain)
                self.calls.append(Call(lid, rtype, "Create", True, f"function {name} created", phase))
                return "created", None
            lam.update_function_code(FunctionName=name, ZipFile=code)
            current[lid] = Resource(rtype, props, name, before.data, retain)
            self.calls.append(Call(lid, rtype, "Update", True, f"function {name}: code updated", phase))
            return "updated", before
        if rtype == "AWS::Lambda::Version":
            v = lam.publish_version(FunctionName=props["FunctionName"])
            current[lid] = Resource(rtype, props, v["FunctionArn"], {"Version": v["Version"]}, retain)
            self.calls.append(Call(lid, rtype, "Create", True, f"published {v['FunctionArn']}", phase))
            return "created", before
        if rtype == "AWS::CloudFront::Distribution":
            assoc = props["DistributionConfig"]["DefaultCacheBehavior"].get("LambdaFunctionAssociations", [])
            arn = assoc[0]["LambdaFunctionARN"] if assoc else ""
            if before is not None and before.data.get("EdgeLambdaArn") == arn:
                return "unchanged", before  # only the association is played
            physical = before.physical if before else "E" + uuid.uuid4().hex[:13].upper()
            current[lid] = Resource(rtype, props, physical, {"EdgeLambdaArn": arn}, retain)
            self.calls.append(Call(lid, rtype, "Update" if before else "Create", True, f"viewer-request -> {arn}", phase))
            return ("updated" if before else "created"), before
        # custom resources
        if before is None:
            pid, data = self._custom("Create", lid, rtype, props, None, None, phase)
            current[lid] = Resource(rtype, props, pid, data, retain)
            return "created", None
        pid, data = self._custom("Update", lid, rtype, props, before.props, before.physical, phase)
        current[lid] = Resource(rtype, props, pid, data, retain)
        return ("replaced" if pid != before.physical else "updated"), before

    def _delete(self, lid: str, res: Resource, phase: str) -> None:
        if res.retain:
            self.calls.append(Call(lid, res.type, "Delete", True, f"retained (DeletionPolicy Retain): {res.physical}", phase))
            return
        if res.type.startswith("Custom::"):
            try:
                self._custom("Delete", lid, res.type, res.props, None, res.physical, phase)
            except StackFailed:
                pass  # recorded in calls; the stack operation goes on
            return
        if res.type == "AWS::Lambda::Version":
            lam = self.cfn.aws.client("lambda", "us-east-1")
            name, _, version = res.physical.rpartition(":")
            lam.delete_function(FunctionName=name, Qualifier=version)
        self.calls.append(Call(lid, res.type, "Delete", True, f"deleted {res.physical}", phase))

    # ---- stack operations

    def deploy(self, template: dict) -> str:
        """Create or update to `template`; returns the final stack status."""
        self.calls = []
        if self.status == "UPDATE_ROLLBACK_FAILED":
            raise StandInError(f"{self.name} is UPDATE_ROLLBACK_FAILED: no update possible")
        creating = self.template is None
        played = self._played(template)
        current = dict(self.resources)
        done: list[tuple[str, str, Resource | None]] = []
        try:
            for lid in self._order(played):
                what, before = self._apply(lid, played[lid], current, "update")
                if what != "unchanged":
                    done.append((lid, what, before))
        except StackFailed as failure:
            self.failure = str(failure)
            failed_lid = str(failure).split(" ", 1)[0]
            if failed_lid in played and failed_lid in self.resources and not any(d[0] == failed_lid for d in done):
                # the resource whose update failed is rolled back too
                done.append((failed_lid, "failed", self.resources[failed_lid]))
                current[failed_lid] = Resource(
                    self.resources[failed_lid].type,
                    self._resolve(played[failed_lid].get("Properties", {}), current),
                    self.resources[failed_lid].physical,
                    self.resources[failed_lid].data,
                )
            self._pending_rollback = list(reversed(done))
            self._rollback_current = current
            self.status = "ROLLBACK_IN_PROGRESS" if creating else "UPDATE_ROLLBACK_IN_PROGRESS"
            return self._roll_back(skip=set())
        # cleanup phase: resources no longer in the template, replaced custom resources
        for lid, what, before in done:
            if what == "replaced" and before is not None:
                self._delete(lid, before, "cleanup")
        for lid, res in self.resources.items():
            if lid not in played:
                self._delete(lid, res, "cleanup")
        self.resources = {k: v for k, v in current.items() if k in played}
        self.template = template
        self.status = "CREATE_COMPLETE" if creating else "UPDATE_COMPLETE"
        return self.status

    def _roll_back(self, skip: set[str]) -> str:
        current = self._rollback_current
        while self._pending_rollback:
            lid, what, before = self._pending_rollback[0]
            if lid in skip:
                self.calls.append(Call(lid, current[lid].type, "skip", True, "skipped (--resources-to-skip): marked rolled back, no call", "rollback"))
                if before is not None:
                    current[lid] = before
                self._pending_rollback.pop(0)
                continue
            try:
                if what == "created":
                    self._delete(lid, current[lid], "rollback")
                    if before is not None:
                        current[lid] = before
                    else:
                        current.pop(lid, None)
                elif before is not None and before.type == "AWS::Lambda::Function":
                    lam = self.cfn.aws.client("lambda", "us-east-1")
                    lam.update_function_code(FunctionName=before.physical, ZipFile=zip_source(before.props["Code"]["ZipFile"]))
                    self.calls.append(Call(lid, before.type, "Update", True, "code restored", "rollback"))
                    current[lid] = before
                elif before is not None and before.type.startswith("Custom::"):
                    now = current[lid]
                    self._custom("Update", lid, before.type, before.props, now.props, now.physical, "rollback")
                    current[lid] = before
                elif before is not None:
                    current[lid] = before
            except StackFailed as failure:
                self.failure = str(failure)
                self.status = "UPDATE_ROLLBACK_FAILED"
                return self.status
            self._pending_rollback.pop(0)
        self.resources = {k: v for k, v in current.items()}
        # a version published by the failed update stays when it is retained
        self.status = "ROLLBACK_COMPLETE" if self.template is None else "UPDATE_ROLLBACK_COMPLETE"
        return self.status

    def continue_update_rollback(self, resources_to_skip: list[str]) -> str:
        """`aws cloudformation continue-update-rollback --resources-to-skip ...`."""
        if self.status != "UPDATE_ROLLBACK_FAILED":
            raise StandInError(f"{self.name} is {self.status}, not UPDATE_ROLLBACK_FAILED")
        self.calls = []
        return self._roll_back(set(resources_to_skip))

    def resource_of_type(self, rtype: str) -> tuple[str, Resource] | None:
        for k, r in self.resources.items():
            if r.type == rtype:
                return k, r
        return None
