"""CloudFormation's side of a custom resource, played against moto.

`ResponseRelay` stands in for the presigned S3 URL CloudFormation puts in a
request's `ResponseURL`: a loopback server that records every answer and
forwards it to moto's own `cfnresponse` endpoint, signed for the stack's
region (moto finds stacks outside us-east-1 only from the request's
signature; the provider's PUT carries none, like a real presigned URL).

`CloudFormation(aws, invoke)` turns the custom resource requests moto's
CloudFormation queued (see `moto.LocalAws.take_requests`) into the requests
AWS would send: the `ResponseURL` at the relay, `PhysicalResourceId` and (on
Update) `OldResourceProperties` as last answered. It also plays the Delete
requests moto never sends. `invoke(event)` delivers one request to the
provider; `demo.runtime.LambdaRuntime.invoke` is one such function.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit


@dataclass
class Answer:
    """One response a provider PUT to the ResponseURL."""

    request_type: str
    status: str
    reason: str
    physical_resource_id: str
    logical_resource_id: str
    stack_id: str
    data: dict[str, Any]
    forwarded: int  # moto's HTTP status, or 0 when not forwarded


class ResponseRelay:
    """Loopback stand-in for the presigned ResponseURL; forwards to moto."""

    def __init__(self, moto_url: str):
        self.moto_url = moto_url
        self.answers: dict[str, Answer] = {}  # by RequestId
        self._types: dict[str, str] = {}  # RequestId -> RequestType
        self._lock = threading.Condition()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                code = relay._receive(self.path, body)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url_for(self, moto_response_url: str, request_id: str, request_type: str) -> str:
        """The relay's address for a request whose moto ResponseURL is given."""
        with self._lock:
            self._types[request_id] = request_type
        parts = urlsplit(moto_response_url)
        return f"{self.base}{parts.path}?{parts.query}"

    def _receive(self, path: str, body: bytes) -> int:
        try:
            answer = json.loads(body)
        except ValueError:
            return 400
        request_id = answer.get("RequestId", "")
        request_type = self._types.get(request_id, "?")
        forwarded = 0
        # moto deletes custom resources without asking, and looking one up
        # after its stack is gone would make moto re-create the stack's
        # resources: Delete answers stop here.
        if request_type != "Delete":
            forwarded = self._forward(path, body)
        with self._lock:
            self.answers[request_id] = Answer(
                request_type=request_type,
                status=answer.get("Status", ""),
                reason=answer.get("Reason", ""),
                physical_resource_id=answer.get("PhysicalResourceId", ""),
                logical_resource_id=answer.get("LogicalResourceId", ""),
                stack_id=answer.get("StackId", ""),
                data=answer.get("Data") or {},
                forwarded=forwarded,
            )
            self._lock.notify_all()
        return forwarded or 200

    def _forward(self, path: str, body: bytes) -> int:
        region = path.split("/")[1].removeprefix("cloudformation_")
        scope = f"test/{time.strftime('%Y%m%d')}/{region}/cloudformation/aws4_request"
        request = urllib.request.Request(
            self.moto_url + path, data=body, method="PUT",
            # An empty Content-Type, as the provider sends it: with urllib's
            # default (a form), moto routes the PUT elsewhere and answers 404.
            headers={"Content-Type": "",
                     "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, "
                     "SignedHeaders=host, Signature=0"})
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 502

    def wait(self, request_id: str, timeout_s: float = 30.0) -> Answer | None:
        """The answer to `request_id`, waiting (bounded) for it."""
        end = time.monotonic() + timeout_s
        with self._lock:
            while request_id not in self.answers and time.monotonic() < end:
                self._lock.wait(0.2)
            return self.answers.get(request_id)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Exchange:
    """One request CloudFormation sent and the provider's answer to it."""

    request: dict[str, Any]
    answer: Answer | None
    invoke_outcome: str


class CloudFormation:
    """Delivers moto's pending custom resource requests, as CloudFormation would."""

    def __init__(self, aws: Any, invoke: Callable[[dict[str, Any]], Any]):
        self.aws = aws
        self.invoke = invoke
        self.relay = ResponseRelay(aws.url)
        # (StackId, LogicalResourceId) -> the last request and answer for it.
        self._last: dict[tuple[str, str], tuple[dict[str, Any], Answer]] = {}

    def deliver_pending(self) -> list[Exchange]:
        """Sends every request moto's CloudFormation queued; returns what happened.

        An Update answered with a new PhysicalResourceId replaced the resource:
        CloudFormation then deletes the old one once the stack update is done
        (its cleanup phase), and so does this, after the queued requests. When
        any request failed, CloudFormation rolls back instead and no cleanup
        runs; moto has no rollback, so neither does this.
        """
        exchanges, cleanup = [], []
        for request in self.aws.take_requests():
            request = self._as_aws_would(request)
            exchange = self._send(request)
            exchanges.append(exchange)
            answer = exchange.answer
            old_id = request.get("PhysicalResourceId")
            if (request["RequestType"] == "Update" and answer is not None
                    and answer.status == "SUCCESS" and old_id
                    and answer.physical_resource_id != old_id):
                cleanup.append(dict(request, RequestType="Delete", RequestId=str(uuid.uuid4()),
                                    ResourceProperties=request["OldResourceProperties"],
                                    OldResourceProperties=None))
        if any(x.answer is None or x.answer.status != "SUCCESS" for x in exchanges):
            return exchanges
        for request in cleanup:
            del request["OldResourceProperties"]
            exchanges.append(self._send(request, cleanup=True))
        return exchanges

    def _as_aws_would(self, request: dict[str, Any]) -> dict[str, Any]:
        request = dict(request)
        key = (request["StackId"], request["LogicalResourceId"])
        if request["RequestType"] != "Create" and key in self._last:
            previous_request, previous_answer = self._last[key]
            request["PhysicalResourceId"] = previous_answer.physical_resource_id
            request.setdefault("OldResourceProperties", previous_request["ResourceProperties"])
        return request

    def delete_requests(self, stack_id: str) -> list[dict[str, Any]]:
        """The Delete requests CloudFormation sends when `stack_id` is deleted (moto sends none)."""
        out = []
        for (sid, logical_id), (previous, answer) in self._last.items():
            if sid != stack_id:
                continue
            out.append({
                "RequestType": "Delete",
                "ServiceToken": previous["ServiceToken"],
                "ResponseURL": previous["ResponseURL"],
                "StackId": stack_id,
                "RequestId": str(uuid.uuid4()),
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": answer.physical_resource_id,
                "ResourceType": previous["ResourceType"],
                "ResourceProperties": previous["ResourceProperties"],
            })
        return out

    def delete(self, stack_id: str) -> list[Exchange]:
        """Plays the Delete requests for `stack_id`'s custom resources."""
        return [self._send(r) for r in self.delete_requests(stack_id)]

    def _send(self, request: dict[str, Any], cleanup: bool = False) -> Exchange:
        request = dict(request)
        request["ResponseURL"] = self.relay.url_for(
            request["ResponseURL"], request["RequestId"], request["RequestType"])
        outcome = self.invoke(request)
        answer = self.relay.wait(request["RequestId"])
        if answer is not None and answer.status == "SUCCESS" and request["RequestType"] != "Delete":
            # Only a successful answer becomes the resource's state, as on AWS.
            self._last[(request["StackId"], request["LogicalResourceId"])] = (request, answer)
        if request["RequestType"] == "Delete" and not cleanup:
            self._last.pop((request["StackId"], request["LogicalResourceId"]), None)
        return Exchange(request=request, answer=answer,
                        invoke_outcome=getattr(outcome, "kind", str(outcome)))

    def close(self) -> None:
        self.relay.close()
