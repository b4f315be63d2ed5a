"""moto as a local AWS, in this process, on a free loopback port.

`start()` runs moto's server in a thread bound to 127.0.0.1 and returns a
`LocalAws` handle: its URL, boto3 clients for any region, and the custom
resource requests moto's CloudFormation wanted to send to a Lambda function.

moto 5.2.5 cannot run Lambda functions without Docker, and its CloudFormation
does only part of what AWS does for `Custom::` resources. `start()` closes
those gaps with small, named patches (listed in `GAPS`, printed by the demo and
described in docs/demo.md). They change how moto *delivers* requests, never
what a stack's status is: moto still decides CREATE_COMPLETE and
UPDATE_COMPLETE.
"""

from __future__ import annotations

import json
import logging
import queue
import warnings
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

# Every moto gap this module closes, as printed by the demo.
GAPS = (
    "moto runs Lambda functions only in Docker: a custom resource request moto's "
    "CloudFormation sends to its ServiceToken is queued here instead, for the demo "
    "to hand to the provider binary",
    "moto 5.2.5 has no Update for Custom:: resources (update_stack answers HTTP 500 "
    "when their properties change): the patch keeps the resource and queues the "
    "Update request CloudFormation would send",
    "moto marks an updated stack CREATE_COMPLETE when a custom resource answers "
    "after the update: the patch only completes stacks that are being created",
)

_patched = False
_requests: "queue.Queue[dict[str, Any]]" = queue.Queue()


def _install_patches() -> None:
    """Patches moto's classes once per process (see GAPS)."""
    global _patched
    if _patched:
        return
    import moto.settings
    from moto.awslambda.models import LambdaFunction
    from moto.cloudformation.custom_model import CustomModel
    from moto.cloudformation.models import Stack

    # moto names its own address in ResponseURLs by asking Docker; the demo
    # replaces the host anyway (see cfn.ResponseRelay), so skip the question.
    moto.settings.moto_server_host = lambda: "http://127.0.0.1"

    original_invoke = LambdaFunction.invoke

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
        event = json.loads(body) if isinstance(body, str) and body else None
        if isinstance(event, dict) and "ResponseURL" in event and "RequestType" in event:
            _requests.put(event)
            return ""
        return original_invoke(self, body, request_headers, response_headers)

    LambdaFunction.invoke = invoke  # type: ignore[method-assign]

    original_create = CustomModel.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: Any, resource_name: str, cloudformation_json: dict, account_id: str,
               region_name: str, **kwargs: Any) -> Any:
        model = original_create(cls, resource_name, cloudformation_json, account_id,
                                region_name, **kwargs)
        # Remembered for the Update below: moto's model keeps neither.
        model.crp_stack_id = kwargs["StackId"]
        model.crp_resource_type = kwargs["ResourceType"]
        model.crp_properties = cloudformation_json["Properties"]
        return model

    def update(cls: Any, original_resource: Any, new_resource_name: str,
               cloudformation_json: dict, account_id: str, region_name: str) -> Any:
        from moto.moto_api._internal import mock_random

        properties = cloudformation_json["Properties"]
        stack_id = original_resource.crp_stack_id
        _requests.put({
            "RequestType": "Update",
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": f"http://127.0.0.1/cloudformation_{region_name}/cfnresponse?stack={stack_id}",
            "StackId": stack_id,
            "RequestId": str(mock_random.uuid4()),
            "LogicalResourceId": original_resource.logical_id,
            "ResourceType": original_resource.crp_resource_type,
            "ResourceProperties": properties,
            "OldResourceProperties": original_resource.crp_properties,
        })
        original_resource.crp_properties = properties
        return original_resource

    def verify_readiness(self: Any) -> None:
        if self.status == "CREATE_IN_PROGRESS" and self.resource_map.creation_complete():
            self.mark_creation_complete()

    CustomModel.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    CustomModel.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]
    Stack.verify_readiness = verify_readiness  # type: ignore[method-assign]
    _patched = True


@dataclass
class LocalAws:
    """A running moto server. Stop it with `stop()` (or use it as a context manager)."""

    url: str
    _server: Any = field(repr=False)

    def client(self, service: str, region: str) -> Any:
        """A boto3 client for `service` in `region`, talking to this moto."""
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=BotoConfig(retries={"max_attempts": 2, "mode": "standard"}),
        )

    def take_requests(self) -> list[dict[str, Any]]:
        """Custom resource requests moto's CloudFormation has sent since the last call."""
        out = []
        while True:
            try:
                out.append(_requests.get_nowait())
            except queue.Empty:
                return out

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "LocalAws":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start() -> LocalAws:
    """Starts moto on a free port of 127.0.0.1 with the patches in GAPS."""
    from moto.server import ThreadedMotoServer

    # moto logs every request and every resource type it lacks; keep the demo readable.
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"moto\..*")
    _install_patches()
    # Port 0: the system picks a free one, with no window for another process to take it.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return LocalAws(url=f"http://{host}:{port}", _server=server)
