"""The project's one CloudFormation stand-in: CloudFormation's side, played against moto.

moto cannot run Lambda code, and its CloudFormation does only part of what
CloudFormation does for custom resources. This module plays the rest, for
`make demo`, `make deadlock` and scripts/cdk_e2e.py alike:

* Requests. Every Create, Update and Delete a custom resource gets is built
  here from the template and the stack's state (properties resolved,
  `PhysicalResourceId` and `OldResourceProperties` as last answered), as
  CloudFormation would send it, including the cleanup-phase Delete of a
  replaced resource and, for stacks the stand-in plays itself, the rollback
  Update with the old properties.
* Delivery. `Custom::CrossRegionParam` requests go to this project's provider
  binary, run under the Lambda Runtime API of `demo.runtime` with the
  environment Lambda would give the function its ServiceToken names
  (`Providers`). `Custom::CrossRegionExportWriter` / `...Reader` requests go to
  aws-cdk-lib's own handler code under node (`CdkHandlers`).
* Answers. The provider PUTs to a loopback ResponseURL (`ResponseUrls`); for a
  stack moto holds, the answer is forwarded to moto's `cfnresponse`, so moto
  sets the resource's attributes and completes the stack.

Two kinds of stack share all of that:

* `MotoStack` (make demo, cdk_e2e): moto's CloudFormation holds the stack,
  its resources and its status; the stand-in only plays the custom resources.
* `Stack` (make deadlock): the story needs what moto's CloudFormation does not
  do at all (rollback, UPDATE_ROLLBACK_FAILED, continue-update-rollback,
  DeletionPolicy Retain, a new Lambda version per update), so the stand-in
  plays the stack operation itself, creating each played resource in moto
  through its service API: Lambda functions and versions, the provider
  function's role, policy and log group, SSM parameters, and the edge function
  association of a CloudFront distribution. Every other type is left out.
  The update and rollback order follows CloudFormation's documented behaviour
  (create/update in dependency order, old resources deleted in the cleanup
  phase, rollback Updates with the previous properties); that order is this
  module's reading of the AWS documentation, not something moto shows.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import queue
import random
import re
import string
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from . import runtime

ACCOUNT = "123456789012"  # moto's default account
CUSTOM_TYPES = ("AWS::CloudFormation::CustomResource",)


class StandInError(Exception):
    """Something the stand-in itself could not do (not a resource's failure)."""


class StackFailed(Exception):
    """A resource's operation failed: the stack operation fails (and rolls back, where played).

    `logical` is the resource whose own operation failed (None when the stack
    failed before calling anything, resolving a property, say). `physical` is the
    id a FAILED answer carried, when there was one: CloudFormation compares it with
    the resource's id, and a different one is a replacement that failed (the
    rollback deletes it and keeps the previous resource untouched)."""

    def __init__(self, message: str, logical: str | None = None, physical: str | None = None):
        super().__init__(message)
        self.logical = logical
        self.physical = physical


def is_custom(rtype: str) -> bool:
    return rtype.startswith("Custom::") or rtype in CUSTOM_TYPES


# --------------------------------------------------------------------- moto


def ssm_value(aws: Any, region: str, name: str) -> str:
    return aws.client("ssm", region).get_parameter(Name=name)["Parameter"]["Value"]


def edge_role(aws: Any) -> str:
    """A role Lambda@Edge may assume (both principals), created once."""
    iam = aws.client("iam", "us-east-1")
    name = "standin-edge-role"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}}]}
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except ClientError:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def find_key(node: Any, key: str) -> list[Any]:
    """Every value under `key` anywhere in a template fragment (e.g. every `Fn::ImportValue`)."""
    if isinstance(node, dict):
        found = [node[key]] if key in node else []
        return found + [x for v in node.values() for x in find_key(v, key)]
    if isinstance(node, list):
        return [x for v in node for x in find_key(v, key)]
    return []


def newest_version_arn(aws: Any, region: str, function: str) -> str:
    """The ARN of `function`'s newest published version, read from moto's Lambda API (every page)."""
    lam = aws.client("lambda", region)
    versions, marker = [], None
    while True:
        page = lam.list_versions_by_function(FunctionName=function, **({"Marker": marker} if marker else {}))
        versions += [v for v in page["Versions"] if v["Version"] != "$LATEST"]
        marker = page.get("NextMarker")
        if not marker:
            return max(versions, key=lambda v: int(v["Version"]))["FunctionArn"]


def zip_source(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("index.js", date_time=(2020, 1, 1, 0, 0, 0))
        z.writestr(info, source)
    return buf.getvalue()


def zip_directory(directory: Path) -> bytes:
    """A directory asset as `cdk deploy` publishes it: a zip of its files, modes kept."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(p for p in directory.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(f.relative_to(directory)), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (f.stat().st_mode & 0o777 | 0o100000) << 16
            z.writestr(info, f.read_bytes())
    return buf.getvalue()


def generated_name(stack: str, lid: str, limit: int) -> str:
    """A physical name as CloudFormation generates one: stack, logical id, random suffix."""
    suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=12))
    return f"{stack}-{lid}"[: limit - len(suffix) - 1] + "-" + suffix


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


# ------------------------------------------------------------- ResponseURLs


@dataclass(frozen=True)
class Forward:
    """Where an answer goes on from the loopback ResponseURL: moto's cfnresponse for a stack's region."""

    moto_url: str
    region: str
    stack_id: str

    def send(self, body: bytes) -> int:
        """PUTs `body` to moto, signed for the stack's region; moto's HTTP status (502 when unreachable).

        moto finds a stack outside us-east-1 only from the request's signature,
        and the provider's PUT carries none (like a real presigned URL).
        """
        scope = f"test/{time.strftime('%Y%m%d')}/{self.region}/cloudformation/aws4_request"
        request = urllib.request.Request(
            f"{self.moto_url}/cloudformation_{self.region}/cfnresponse?stack={self.stack_id}",
            data=body, method="PUT",
            # An empty Content-Type, as the provider sends it: with urllib's
            # default (a form), moto routes the PUT elsewhere and answers 404.
            headers={"Content-Type": "",
                     "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 502


class ResponseUrls:
    """Loopback stand-in for the presigned ResponseURL of each request; keeps every answer."""

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[queue.Queue, Forward | None]] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                m = re.match(r"^/cfn-response/([^/?]+)", self.path)
                waiting = outer._waiting.get(m.group(1)) if m else None
                code = 404
                if waiting is not None:
                    answers, forward = waiting
                    try:
                        answer = json.loads(body or b"{}")
                    except ValueError:
                        answer = None
                    forwarded = forward.send(body) if forward is not None and answer is not None else 0
                    code = 400 if answer is None else (forwarded or 200)
                    answers.put((answer or {}, forwarded))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}/cfn-response/"

    def open(self, request_id: str, forward: Forward | None) -> str:
        """The ResponseURL for `request_id`; its answer goes on to `forward` when given."""
        self._waiting[request_id] = (queue.Queue(), forward)
        return self.base + request_id

    def wait(self, request_id: str, timeout_s: float) -> tuple[dict, int] | None:
        """(the answer, moto's HTTP status or 0), or None when none came in time."""
        answers, _ = self._waiting[request_id]
        try:
            return answers.get(timeout=timeout_s)
        except queue.Empty:
            return None
        finally:
            self._waiting.pop(request_id, None)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --------------------------------------------------------------------- provider


PLACEHOLDER_MARK = b"cdk-cross-region-param placeholder"


class Providers:
    """This project's provider binary in place of each provider function.

    One process per function ARN under the Lambda Runtime API of
    `demo.runtime`, with the environment Lambda would give that function: its
    own `Environment.Variables`, Lambda's reserved variables from its
    configuration, and, for a local run, moto as the AWS endpoint and the
    loopback ResponseURL host (`CRP_RESPONSE_URL_HOSTS=127.0.0.1`, which no
    template sets). A process is restarted when its code or configuration
    changes, as Lambda starts new execution environments.

    `package_bootstrap`: when given (make deadlock), a function's package must
    hold that `bootstrap` (cdk-cross-region-param's) to be served.
    """

    def __init__(self, binary: str, aws: Any, package_bootstrap: Path | None = None,
                 log: Any = None):
        self.binary = binary
        self.aws = aws
        self.package_bootstrap = package_bootstrap
        self.log = log
        self.urls = ResponseUrls()
        self._functions: dict[str, tuple[str, runtime.LambdaRuntime]] = {}  # ARN -> (configuration key, runtime)

    def __enter__(self) -> "Providers":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        for arn in list(self._functions):
            self.remove(arn)
        self.urls.close()

    def package(self, code: bytes) -> str:
        """What the function's package holds, or StandInError when it is not the library's provider."""
        if self.package_bootstrap is None:
            return "its package is not run"
        try:
            with zipfile.ZipFile(io.BytesIO(code)) as z:
                bootstrap = z.read("bootstrap")
        except (KeyError, zipfile.BadZipFile):
            raise StandInError("a provided.al2023 function without a `bootstrap` in its package is not played") from None
        if not self.package_bootstrap.is_file() or bootstrap != self.package_bootstrap.read_bytes():
            raise StandInError(
                f"the function's bootstrap is not cdk-cross-region-param's ({self.package_bootstrap}): not played"
            )
        return "the library's placeholder bootstrap" if PLACEHOLDER_MARK in bootstrap else "the library's bootstrap"

    def environment(self, arn: str, config: dict) -> dict[str, str]:
        """What the binary runs with for function `arn` whose configuration (Lambda API shape) is `config`."""
        region, name = arn.split(":")[3], arn.split(":")[6]
        logging = config.get("LoggingConfig") or {}
        env = runtime.aws_env(self.aws.url, region)
        env.update({k: str(v) for k, v in ((config.get("Environment") or {}).get("Variables") or {}).items()})
        # Lambda's reserved variables for this function's configuration
        env.update(
            AWS_DEFAULT_REGION=region,
            AWS_LAMBDA_FUNCTION_NAME=name,
            AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(config.get("MemorySize", 128)),
            AWS_LAMBDA_LOG_GROUP_NAME=str(logging.get("LogGroup") or f"/aws/lambda/{name}"),
            AWS_LAMBDA_LOG_STREAM_NAME="local",
        )
        if logging.get("LogFormat") == "JSON":
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            env["AWS_LAMBDA_LOG_LEVEL"] = str(logging.get("ApplicationLogLevel") or "INFO")
        env["CRP_RESPONSE_URL_HOSTS"] = "127.0.0.1"  # a local run: the loopback ResponseURL
        return env

    def deploy(self, arn: str, config: dict, code: bytes) -> str:
        """Serves `arn` (a function just created or updated) with the binary; returns what runs it."""
        what = self.package(code)
        self._run(arn, config, hashlib.sha256(code).hexdigest())
        return f"{what}; this project's {Path(self.binary).name} binary runs in its place"

    def deploy_from_moto(self, arn: str) -> None:
        """Serves `arn`, a function moto holds (created by moto's CloudFormation), as moto configured it."""
        if arn in self._functions:
            return
        try:
            config = self.aws.client("lambda", arn.split(":")[3]).get_function_configuration(FunctionName=arn)
        except ClientError as e:
            raise StandInError(f"the ServiceToken {arn} is no function moto holds: {e}") from None
        if not str(config.get("Runtime", "")).startswith("provided"):
            raise StandInError(f"the ServiceToken {arn} is a {config.get('Runtime')} function, not the provider")
        self._run(arn, config, str(config.get("CodeSha256", "")))

    def _run(self, arn: str, config: dict, code_id: str) -> None:
        """One process for `arn`, restarted when its environment, timeout or code changed."""
        env = self.environment(arn, config)
        timeout = float(config.get("Timeout", 3))
        key = json.dumps([env, timeout, code_id], sort_keys=True)
        running = self._functions.get(arn)
        if running is None or running[0] != key:
            self.remove(arn)
            self._functions[arn] = (key, runtime.LambdaRuntime(self.binary, env, log=self.log, timeout_s=timeout))

    def remove(self, arn: str) -> None:
        running = self._functions.pop(arn, None)
        if running is not None:
            running[1].close()

    def serves(self, arn: str) -> bool:
        return arn in self._functions

    def invoke(self, arn: str, event: dict, forward: Forward | None = None) -> tuple[dict, int]:
        """Delivers one request to function `arn`: (the answer PUT to its ResponseURL, moto's HTTP status or 0)."""
        _, fn = self._functions[arn]
        rid = event["RequestId"]
        event = dict(event, ResponseURL=self.urls.open(rid, forward))
        outcome = fn.invoke(event, wait_s=fn.timeout_s + 5)
        got = self.urls.wait(rid, 10)
        if got is None:
            raise StandInError(f"no answer on the ResponseURL for request {rid} (the function reported {outcome.kind})")
        return got


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
    """One call CloudFormation makes during a stack operation, and what came of it."""

    logical: str
    type: str
    request: str  # Create / Update / Delete / skip
    ok: bool
    detail: str
    phase: str = "update"  # create / update / rollback / cleanup / delete
    log: str = ""
    event: dict | None = None  # a custom resource's request, as delivered
    answer: dict | None = None  # its answer, as PUT to the ResponseURL
    forwarded: int = 0  # moto's HTTP status for the forwarded answer (MotoStack), else 0


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


def _deps(resource: dict) -> set[str]:
    """Logical ids a resource names: Ref, Fn::GetAtt and DependsOn."""
    depends = resource.get("DependsOn") or []
    return _refs(resource.get("Properties", {}), set()) | set(depends if isinstance(depends, list) else [depends])


def provider_functions(template: dict) -> set[str]:
    """The functions a Custom::CrossRegionParam names as its ServiceToken (`Fn::GetAtt [fn, Arn]`)."""
    resources = template.get("Resources", {})
    out = set()
    for r in resources.values():
        if r["Type"] != "Custom::CrossRegionParam":
            continue
        token = (r.get("Properties") or {}).get("ServiceToken")
        if isinstance(token, dict) and set(token) == {"Fn::GetAtt"}:
            lid, attr = token["Fn::GetAtt"] if isinstance(token["Fn::GetAtt"], list) else token["Fn::GetAtt"].split(".", 1)
            if attr == "Arn" and resources.get(lid, {}).get("Type") == "AWS::Lambda::Function":
                out.add(lid)
    return out


PSEUDO = ("AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName", "AWS::StackId")
DYNAMIC_SSM = re.compile(r"\{\{resolve:ssm:([^}:]+)\}\}")


class CloudFormation:
    """The stand-in: the stacks of one run, and what plays their custom resources."""

    PLAYED = (
        "AWS::Lambda::Function",
        "AWS::Lambda::Version",
        "AWS::CloudFront::Distribution",
        "Custom::CrossRegionExportWriter",
        "Custom::CrossRegionExportReader",
        "Custom::CrossRegionParam",
    )
    # played only as part of a provider function (its role, policy, log group)
    PROVIDER_PARTS = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Logs::LogGroup")

    def __init__(self, aws: Any, providers: Providers | None = None, cdk: CdkHandlers | None = None,
                 assets: Path | None = None):
        """`aws`: a `demo.moto.LocalAws`; `assets`: the cloud assembly root holding `asset.<hash>` directories."""
        self.aws = aws
        self.cdk = cdk
        self.providers = providers
        self.assets = assets
        self.stacks: dict[str, _Stack] = {}

    def stack(self, name: str, region: str) -> "Stack":
        """A stack the stand-in plays itself (see `Stack`)."""
        if name not in self.stacks:
            self.stacks[name] = Stack(self, name, region)
        return self.stacks[name]  # type: ignore[return-value]

    def moto_stack(self, name: str, region: str) -> "MotoStack":
        """A stack moto's CloudFormation holds; the stand-in plays its custom resources (see `MotoStack`)."""
        if name not in self.stacks:
            self.stacks[name] = MotoStack(self, name, region)
        return self.stacks[name]  # type: ignore[return-value]


class _Stack:
    """What both kinds of stack share: resolving a template, ordering it, custom resource requests."""

    def __init__(self, cfn: CloudFormation, name: str, region: str):
        self.cfn = cfn
        self.name = name
        self.region = region
        self.stack_id = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{name}/{uuid.uuid4()}"
        self.resources: dict[str, Resource] = {}
        self.template: dict | None = None
        self.parameters: dict[str, str] = {}
        self.calls: list[Call] = []

    # ---- resolution

    def _set_parameters(self, template: dict, given: dict[str, str] | None) -> None:
        declared = template.get("Parameters") or {}
        values = {k: str(p["Default"]) for k, p in declared.items() if "Default" in p}
        values.update(self.parameters if given is None else {})  # an update keeps the previous values
        values.update(given or {})
        self.parameters = {k: v for k, v in values.items() if k in declared}

    def _import(self, name: str) -> Any:
        raise StandInError(f"{self.name}: Fn::ImportValue {json.dumps(name)} is not played")

    def _resolve(self, node, current: dict[str, Resource]):
        if isinstance(node, dict):
            if set(node) == {"Ref"}:
                lid = node["Ref"]
                if lid in current:
                    return current[lid].physical
                if lid in self.parameters:
                    return self.parameters[lid]
                if lid in PSEUDO:
                    return self._pseudo(lid)
                return f"<{lid}>"  # a resource the stand-in leaves out
            if set(node) == {"Fn::GetAtt"}:
                lid, attr = node["Fn::GetAtt"] if isinstance(node["Fn::GetAtt"], list) else node["Fn::GetAtt"].split(".", 1)
                res = current.get(lid)
                if res is None:
                    return f"<{lid}.{attr}>"  # a resource the stand-in leaves out
                if attr not in res.data:
                    raise StackFailed(f"{lid} has no attribute {attr}")
                return res.data[attr]
            if set(node) == {"Fn::ImportValue"}:
                return self._import(self._resolve(node["Fn::ImportValue"], current))
            if set(node) == {"Fn::Join"}:
                sep, parts = node["Fn::Join"]
                return str(sep).join(str(p) for p in self._resolve(parts, current))
            if set(node) == {"Fn::Sub"}:
                text, names = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
                names = self._resolve(names, current)

                def var(m):
                    ref = m.group(1)
                    if ref in names:
                        return str(names[ref])
                    if "." in ref:
                        return str(self._resolve({"Fn::GetAtt": ref.split(".", 1)}, current))
                    return str(self._resolve({"Ref": ref}, current))

                return re.sub(r"\$\{([^}!]+)\}", var, text)
            return {k: self._resolve(v, current) for k, v in node.items()}
        if isinstance(node, list):
            return [self._resolve(v, current) for v in node]
        if isinstance(node, str) and "{{resolve:ssm:" in node:

            def sub(m):
                try:
                    return ssm_value(self.cfn.aws, self.region, m.group(1))
                except ClientError as e:
                    raise StackFailed(
                        f"dynamic reference {m.group(0)} cannot be resolved: {e.response['Error']['Code']}"
                    ) from None

            return DYNAMIC_SSM.sub(sub, node)
        return node

    def _pseudo(self, name: str) -> str:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.name,
            "AWS::StackId": self.stack_id,
        }[name]

    def _order(self, played: dict[str, dict]) -> list[str]:
        deps = {k: _deps(r) & set(played) for k, r in played.items()}
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

    # ---- custom resources

    def _event(self, request: str, lid: str, rtype: str, props: dict, old: dict | None, physical: str | None) -> dict:
        """The request CloudFormation sends (its ResponseURL is set when it is delivered)."""
        event = {
            "RequestType": request,
            "ServiceToken": props.get("ServiceToken", ""),
            "ResponseURL": "",
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

    def _forward(self, request: str) -> Forward | None:
        """Where an answer goes on from the ResponseURL: nowhere, for a played stack."""
        return None

    def _serve(self, token: str) -> None:
        raise StandInError(f"{self.name}: the ServiceToken {token} is not a provider function the stand-in runs")

    def _custom(self, request: str, lid: str, rtype: str, props: dict, old: dict | None, physical: str | None, phase: str) -> tuple[str, dict]:
        event = self._event(request, lid, rtype, props, old, physical)
        if rtype not in CdkHandlers.KINDS:
            token = str(props.get("ServiceToken"))
            providers = self.cfn.providers
            if providers is None:
                raise StandInError(f"{self.name}: {lid} needs the provider binary")
            if not providers.serves(token):
                self._serve(token)
            answer, forwarded = providers.invoke(token, event, self._forward(request))
            ok = answer.get("Status") == "SUCCESS"
            pid, data = answer.get("PhysicalResourceId", ""), dict(answer.get("Data") or {})
            detail = f"provider answered {answer.get('Status')}" + (
                f": VersionArn={data['VersionArn']}" if ok and "VersionArn" in data else ""
            ) + ("" if ok else f": {answer.get('Reason')}")
            self.calls.append(Call(lid, rtype, request, ok, detail, phase, event=event, answer=answer, forwarded=forwarded))
            if not ok:
                raise StackFailed(f"{lid} ({rtype}) {request} failed: {answer.get('Reason')}", lid, pid or None)
            return pid, data
        if self.cfn.cdk is None:
            raise StandInError(f"{self.name}: {lid} ({rtype}) needs aws-cdk-lib's handlers")
        out = self.cfn.cdk.run(rtype, event)
        detail = (
            f"aws-cdk-lib {self.cfn.cdk.version} handler returned" if out.ok else f"aws-cdk-lib {self.cfn.cdk.version} handler threw: {out.error}"
        )
        self.calls.append(Call(lid, rtype, request, out.ok, detail, phase, out.log, event=event))
        if not out.ok:
            raise StackFailed(f"{lid} ({rtype}) {request} failed: {out.error}", lid)
        return out.physical_id(event), out.data()


class Stack(_Stack):
    """A stack the stand-in plays itself, resource by resource (make deadlock)."""

    def __init__(self, cfn: CloudFormation, name: str, region: str):
        super().__init__(cfn, name, region)
        self.status = "NONE"
        self._pending_rollback: list = []
        self._rollback_current: dict[str, Resource] = {}
        self.failure = ""

    def _played(self, template: dict) -> dict[str, dict]:
        resources = template.get("Resources", {})
        functions = provider_functions(template)

        def played(k: str, r: dict) -> bool:
            if r["Type"] == "AWS::Lambda::Function":
                # the edge function (inline code) and the provider functions of
                # Custom::CrossRegionParam; CDK's own handler functions are left out
                return "ZipFile" in (r.get("Properties", {}).get("Code") or {}) or k in functions
            return r["Type"] in CloudFormation.PLAYED

        out = {k: r for k, r in resources.items() if played(k, r)}
        # a provider function's role, policy and log group, and whatever of those they name
        todo = list(functions)
        while todo:
            for d in sorted(_deps(resources[todo.pop()])):
                r = resources.get(d)
                if r is not None and d not in out and r["Type"] in CloudFormation.PROVIDER_PARTS:
                    out[d] = r
                    todo.append(d)
        # policies attached to a played role
        for k, r in resources.items():
            if r["Type"] == "AWS::IAM::Policy" and k not in out and _deps(r) & {d for d in out if out[d]["Type"] == "AWS::IAM::Role"}:
                out[k] = r
        return out

    def _apply(self, lid: str, spec: dict, current: dict[str, Resource], phase: str) -> tuple[str, Resource | None]:
        """Creates or updates one resource; returns (what was done, previous state)."""
        rtype = spec["Type"]
        props = self._resolve(spec.get("Properties", {}), current)
        before = current.get(lid)
        retain = spec.get("DeletionPolicy") == "Retain"
        if before is not None and before.props == props:
            return "unchanged", before
        lam = self.cfn.aws.client("lambda", self.region)
        if rtype in ("AWS::Lambda::Function",) + CloudFormation.PROVIDER_PARTS:
            current[lid] = self._native(lid, rtype, props, before, retain, phase)
            return ("updated" if before else "created"), before
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

    # ---- the natively played types other than versions and the distribution

    def _code(self, props: dict) -> bytes:
        code = props.get("Code") or {}
        if "ZipFile" in code:
            return zip_source(code["ZipFile"])
        key = str(code.get("S3Key", ""))
        asset = self.cfn.assets / f"asset.{key.removesuffix('.zip')}" if self.cfn.assets and key.endswith(".zip") else None
        if asset is None or not asset.is_dir():
            raise StandInError(f"{self.name}: the code {json.dumps(code)} is no asset of the synthesized assembly")
        return zip_directory(asset)  # as `cdk deploy` publishes it to the bootstrap bucket

    def _native(self, lid: str, rtype: str, props: dict, before: Resource | None, retain: bool, phase: str) -> Resource:
        """Creates `lid` in moto, or brings it to `props`; returns its new state."""
        aws = self.cfn.aws
        request = "Update" if before else "Create"
        if rtype == "AWS::Lambda::Function":
            lam = aws.client("lambda", self.region)
            code = self._code(props)
            provider = str(props.get("Runtime", "")).startswith("provided")
            config = dict(
                Runtime=props["Runtime"],
                Handler=props["Handler"],
                MemorySize=int(props.get("MemorySize", 128)),
                Timeout=int(props.get("Timeout", 3)),
            )
            if "Environment" in props:
                config["Environment"] = {"Variables": dict((props["Environment"] or {}).get("Variables") or {})}
            if before is None:
                name = props.get("FunctionName") or generated_name(self.name, lid, 64)
                role = props["Role"] if provider else edge_role(aws)  # the edge function: a role trusted by edgelambda
                f = lam.create_function(
                    FunctionName=name, Role=role, Code={"ZipFile": code},
                    Architectures=props.get("Architectures", ["x86_64"]), **config,
                )
                data = {"Arn": f["FunctionArn"]}
                detail = f"function {name} created"
            else:
                name, data = before.physical, before.data
                lam.update_function_code(FunctionName=name, ZipFile=code)
                if provider:
                    lam.update_function_configuration(FunctionName=name, Role=props["Role"], **config)
                detail = "code restored" if phase == "rollback" else f"function {name}: code updated"
            if provider:
                if self.cfn.providers is None:
                    raise StandInError(f"{self.name}: {lid} ({props['Runtime']}) needs the provider binary")
                env = ", ".join(f"{k}={v}" for k, v in sorted(config.get("Environment", {}).get("Variables", {}).items()))
                runs = self.cfn.providers.deploy(data["Arn"], props, code)
                detail = (
                    f"function {name} {'created' if before is None else 'updated'} in {self.region} "
                    f"({props['Runtime']}, {'/'.join(props.get('Architectures', ['x86_64']))}; {env or 'no environment'})\n"
                    f"package: {runs}"
                )
            self.calls.append(Call(lid, rtype, "Update" if phase == "rollback" and before else request, True, detail, phase))
            return Resource(rtype, props, name, data, retain)
        if rtype == "AWS::IAM::Role":
            iam = aws.client("iam", self.region)
            trust = json.dumps(props["AssumeRolePolicyDocument"])
            if before is None:
                name = props.get("RoleName") or generated_name(self.name, lid, 64)
                role = iam.create_role(
                    RoleName=name, AssumeRolePolicyDocument=trust, Path=props.get("Path", "/"),
                    Description=props.get("Description", ""),
                )["Role"]
                data = {"Arn": role["Arn"], "RoleId": role["RoleId"]}
            else:
                name, data = before.physical, before.data
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
            for old in (before.props.get("ManagedPolicyArns") or []) if before else []:
                iam.detach_role_policy(RoleName=name, PolicyArn=old)
            for arn in props.get("ManagedPolicyArns") or []:
                iam.attach_role_policy(RoleName=name, PolicyArn=arn)
            for p in props.get("Policies") or []:
                iam.put_role_policy(RoleName=name, PolicyName=p["PolicyName"], PolicyDocument=json.dumps(p["PolicyDocument"]))
            trusted = sorted(str(s.get("Principal", {}).get("Service")) for s in props["AssumeRolePolicyDocument"].get("Statement", []))
            self.calls.append(Call(lid, rtype, request, True, f"role {name} {'created' if before is None else 'updated'}, trusted by {', '.join(trusted)}", phase))
            return Resource(rtype, props, name, data, retain)
        if rtype == "AWS::IAM::Policy":
            iam = aws.client("iam", self.region)
            name = before.physical if before else generated_name(self.name, lid[:5], 64)
            document = json.dumps(props["PolicyDocument"])
            for role in props.get("Roles") or []:
                iam.put_role_policy(RoleName=role, PolicyName=props["PolicyName"], PolicyDocument=document)
            for role in set((before.props.get("Roles") or []) if before else []) - set(props.get("Roles") or []):
                iam.delete_role_policy(RoleName=role, PolicyName=before.props["PolicyName"])
            actions = sorted({a for st in props["PolicyDocument"].get("Statement", []) for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])})
            self.calls.append(Call(lid, rtype, request, True, f"inline policy {props['PolicyName']} on {', '.join(props.get('Roles') or [])}: {', '.join(actions)}", phase))
            return Resource(rtype, props, name, {}, retain)
        if rtype == "AWS::Logs::LogGroup":
            logs = aws.client("logs", self.region)
            if before is None:
                name = props.get("LogGroupName") or generated_name(self.name, lid, 512)
                logs.create_log_group(logGroupName=name)
            else:
                name = before.physical
            if "RetentionInDays" in props:
                logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
            else:
                logs.delete_retention_policy(logGroupName=name)
            data = {"Arn": f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{name}:*"}
            self.calls.append(Call(lid, rtype, request, True, f"log group {name} {'created' if before is None else 'updated'} (retention {props.get('RetentionInDays', 'none')} days)", phase))
            return Resource(rtype, props, name, data, retain)
        raise StandInError(f"{rtype} is not played")

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
            lam = self.cfn.aws.client("lambda", self.region)
            name, _, version = res.physical.rpartition(":")
            lam.delete_function(FunctionName=name, Qualifier=version)
        elif res.type == "AWS::Lambda::Function":
            self.cfn.aws.client("lambda", self.region).delete_function(FunctionName=res.physical)
            if self.cfn.providers is not None:
                self.cfn.providers.remove(res.data["Arn"])
        elif res.type == "AWS::IAM::Policy":
            iam = self.cfn.aws.client("iam", self.region)
            for role in res.props.get("Roles") or []:
                iam.delete_role_policy(RoleName=role, PolicyName=res.props["PolicyName"])
        elif res.type == "AWS::IAM::Role":
            iam = self.cfn.aws.client("iam", self.region)
            for p in iam.list_role_policies(RoleName=res.physical)["PolicyNames"]:
                iam.delete_role_policy(RoleName=res.physical, PolicyName=p)
            for p in iam.list_attached_role_policies(RoleName=res.physical)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=res.physical, PolicyArn=p["PolicyArn"])
            iam.delete_role(RoleName=res.physical)
        elif res.type == "AWS::Logs::LogGroup":
            self.cfn.aws.client("logs", self.region).delete_log_group(logGroupName=res.physical)
        self.calls.append(Call(lid, res.type, "Delete", True, f"deleted {res.physical}", phase))

    # ---- stack operations

    def deploy(self, template: dict) -> str:
        """Create or update to `template`; returns the final stack status."""
        self.calls = []
        if self.status == "UPDATE_ROLLBACK_FAILED":
            raise StandInError(f"{self.name} is UPDATE_ROLLBACK_FAILED: no update possible")
        creating = self.template is None
        self._set_parameters(template, None)
        played = self._played(template)
        current = dict(self.resources)
        done: list[tuple[str, str, Resource | None]] = []
        try:
            for lid in self._order(played):
                what, before = self._apply(lid, played[lid], current, "create" if creating else "update")
                if what != "unchanged":
                    done.append((lid, what, before))
        except StackFailed as failure:
            self.failure = str(failure)
            failed_lid = failure.logical
            if failed_lid in played and failed_lid in self.resources and not any(d[0] == failed_lid for d in done):
                # the resource whose update failed is rolled back too: with an
                # Update of its previous properties when the FAILED answer kept
                # its id, with a Delete of the new id when it did not
                before = self.resources[failed_lid]
                answered = failure.physical or before.physical
                done.append((failed_lid, "failed" if answered == before.physical else "created", before))
                current[failed_lid] = Resource(
                    before.type,
                    self._resolve(played[failed_lid].get("Properties", {}), current),
                    answered,
                    before.data,
                )
            self._pending_rollback = list(reversed(done))
            self._rollback_current = current
            self.status = "ROLLBACK_IN_PROGRESS" if creating else "UPDATE_ROLLBACK_IN_PROGRESS"
            return self._roll_back(skip=set())
        # cleanup phase: resources no longer in the template, replaced custom resources
        for lid, what, before in done:
            if what == "replaced" and before is not None:
                self._delete(lid, before, "cleanup")
        for lid, res in reversed(list(self.resources.items())):  # dependents first
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
                elif before is not None and before.type in ("AWS::Lambda::Function",) + CloudFormation.PROVIDER_PARTS:
                    self._native(lid, before.type, before.props, current[lid], before.retain, "rollback")
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


class MotoStack(_Stack):
    """A stack moto's CloudFormation holds (make demo, cdk_e2e); the stand-in plays its custom resources.

    moto creates, updates and deletes the stack and every resource it has a
    model for, and reports the status. It cannot run the function a custom
    resource's ServiceToken names, sends no Update or Delete to a custom
    resource, and keeps neither the provider's PhysicalResourceId nor the
    properties last answered. After each `create` / `update`, `play()` sends
    the requests CloudFormation would (Create, Update when the resolved
    properties changed, and the cleanup Delete of a replaced resource once
    every request succeeded; moto never rolls back, so neither does this) and
    forwards every answer but a Delete's to moto's `cfnresponse`. `delete()`
    sends the Delete requests, then deletes the stack in moto.
    """

    CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]

    def __init__(self, cfn: CloudFormation, name: str, region: str):
        super().__init__(cfn, name, region)
        self.client = cfn.aws.client("cloudformation", region)
        self._creating = False

    def create(self, template: dict, parameters: dict[str, str] | None = None) -> str:
        """`CreateStack` in moto; returns its StackId."""
        self._set_parameters(template, parameters or {})
        self.stack_id = self.client.create_stack(
            StackName=self.name, TemplateBody=json.dumps(template), Capabilities=self.CAPABILITIES,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        )["StackId"]
        self.template = template
        self._creating = True
        return self.stack_id

    def update(self, template: dict, parameters: dict[str, str] | None = None) -> None:
        """`UpdateStack` in moto (parameters not given keep their previous value)."""
        self._set_parameters(template, None)
        self.parameters.update(parameters or {})
        self.client.update_stack(
            StackName=self.stack_id, TemplateBody=json.dumps(template), Capabilities=self.CAPABILITIES,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()],
        )
        self.template = template
        self._creating = False

    def describe(self) -> dict:
        return self.client.describe_stacks(StackName=self.stack_id)["Stacks"][0]

    @property
    def status(self) -> str:
        return self.describe()["StackStatus"]

    def outputs(self) -> dict[str, str]:
        return {o["OutputKey"]: o.get("OutputValue", "") for o in self.describe().get("Outputs") or []}

    def _import(self, name: str) -> Any:
        for export in self.client.list_exports().get("Exports", []):
            if export["Name"] == name:
                return export["Value"]
        raise StackFailed(f"No export named {name} found")

    def _forward(self, request: str) -> Forward | None:
        # moto deletes custom resources without asking, and looking one up
        # after its stack is gone would make moto re-create the stack's
        # resources: Delete answers stop at the ResponseURL.
        if request == "Delete":
            return None
        return Forward(self.cfn.aws.url, self.region, self.stack_id)

    def _serve(self, token: str) -> None:
        self.cfn.providers.deploy_from_moto(token)  # type: ignore[union-attr]

    def _moto_resources(self) -> dict[str, Resource]:
        """What moto holds for the stack's other resources: physical ids, and a function's Arn."""
        held = self.client.describe_stack_resources(StackName=self.stack_id)["StackResources"]
        current = {}
        for r in held:
            lid, rtype, physical = r.get("LogicalResourceId"), r.get("ResourceType", ""), r.get("PhysicalResourceId", "")
            if not lid or is_custom(rtype):
                continue
            data = {}
            if rtype == "AWS::Lambda::Function":
                data["Arn"] = self.cfn.aws.client("lambda", self.region).get_function_configuration(
                    FunctionName=physical)["FunctionArn"]
            current[lid] = Resource(rtype, {}, physical, data)
        return current

    def play(self) -> list[Call]:
        """The custom resource requests of the last `create` / `update`, delivered; the calls made."""
        self.calls = []
        template = self.template or {}
        customs = {k: r for k, r in template.get("Resources", {}).items() if is_custom(r["Type"])}
        current = {**self._moto_resources(), **self.resources}
        replaced: list[tuple[str, Resource]] = []
        failed = False
        for lid in self._order(customs):
            spec = customs[lid]
            props = self._resolve(spec.get("Properties", {}), current)
            before = self.resources.get(lid)
            if before is not None and before.props == props:
                continue
            request = "Update" if before else "Create"
            try:
                pid, data = self._custom(request, lid, spec["Type"], props,
                                         before.props if before else None, before.physical if before else None,
                                         "create" if self._creating else "update")
            except StackFailed:
                failed = True
                continue
            self.resources[lid] = current[lid] = Resource(spec["Type"], props, pid, data)
            if before is not None and pid != before.physical:
                replaced.append((lid, before))
        gone = [(lid, res) for lid, res in self.resources.items() if lid not in customs]
        if not failed:  # CloudFormation's cleanup phase
            for lid, res in replaced + gone:
                self._delete_custom(lid, res, "cleanup")
            for lid, _ in gone:
                del self.resources[lid]
        return self.calls

    def _delete_custom(self, lid: str, res: Resource, phase: str) -> None:
        try:
            self._custom("Delete", lid, res.type, res.props, None, res.physical, phase)
        except StackFailed:
            pass  # recorded in calls; a failed Delete does not stop the stack operation

    def delete(self) -> list[Call]:
        """The Delete requests CloudFormation sends (moto sends none), then `DeleteStack` in moto."""
        self.calls = []
        for lid, res in reversed(list(self.resources.items())):
            self._delete_custom(lid, res, "delete")
        self.resources = {}
        self.client.delete_stack(StackName=self.stack_id)
        return self.calls
