"""moto as a local AWS: the one way the project's Python starts it.

`start()` runs moto's server in this process, in a thread bound to 127.0.0.1
on a free port, and returns a `LocalAws` handle (its URL, boto3 clients for
any region). `make demo`, `make deadlock`, scripts/cdk_e2e.py and
scripts/demo/with_local_aws.py all start moto this way.

moto's CloudFormation lacks two things CloudFormation does for `Custom::`
resources, and asks Docker a question the stand-in does not need answered; it
offers no public way to change any of the three. `start()` patches them
(`PATCHES`, also listed in docs/demo.md), each guarded: the patch checks the
moto version it was written against and the shape of what it replaces, and
raises `MotoChanged` rather than patch something else. Everything else the
stand-in (demo/cfn.py) does through moto's public APIs: it builds the
requests CloudFormation would send from the template and the stack's state.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

import boto3
from botocore.config import Config as BotoConfig

# The moto release every patch below was read against (requirements-dev.txt pins it).
MOTO_VERSION = "5.2.5"


class MotoChanged(RuntimeError):
    """moto is not the release a patch was checked against, or what it patches moved."""


@dataclass(frozen=True)
class Patch:
    """One change to a moto class, with what it expects to find there."""

    name: str
    why: str
    target: str  # "module:Class.attribute" or "module:function"
    params: tuple[str, ...]  # the replaced callable's parameters, as moto declares them
    install: Callable[[Any], None]
    abstract: bool = False  # moto declares it and leaves it unimplemented (what the patch fills in)

    def _found(self) -> Any:
        module, _, path = self.target.partition(":")
        owner_name, _, attribute = path.rpartition(".")
        owner = importlib.import_module(module)
        owner = getattr(owner, owner_name, None) if owner_name else owner
        current = getattr(owner, attribute, None) if owner is not None else None
        if current is None:
            raise MotoChanged(f"moto patch '{self.name}': {self.target} is gone")
        return owner, current

    def apply(self) -> None:
        installed = metadata.version("moto")
        if installed != MOTO_VERSION:
            raise MotoChanged(
                f"moto {installed} is installed; the patch '{self.name}' was checked against "
                f"moto {MOTO_VERSION} only. Read {self.target} in the new release, adjust "
                "scripts/demo/moto.py and docs/demo.md, then raise MOTO_VERSION.")
        owner, current = self._found()
        params = tuple(inspect.signature(current).parameters)
        if params != self.params:
            raise MotoChanged(
                f"moto patch '{self.name}': {self.target} takes {params}, expected {self.params}")
        if self.abstract and not getattr(current, "__isabstractmethod__", False):
            raise MotoChanged(f"moto patch '{self.name}': moto now implements {self.target}; "
                              "the patch may no longer be needed")
        self.install(owner)


def _keep_custom_resource(custom_model: Any) -> None:
    # moto's model has no update: parse_and_update_resource then stores None
    # in its place and the next Fn::GetAtt on it fails with HTTP 500.
    def update(cls: Any, original_resource: Any, new_resource_name: str,
               cloudformation_json: dict, account_id: str, region_name: str) -> Any:
        return original_resource

    custom_model.update_from_cloudformation_json = classmethod(update)


def _complete_only_creations(stack: Any) -> None:
    def verify_readiness(self: Any) -> None:
        if self.status == "CREATE_IN_PROGRESS" and self.resource_map.creation_complete():
            self.mark_creation_complete()

    stack.verify_readiness = verify_readiness


def _no_docker_question(settings: Any) -> None:
    # Only CustomModel asks, to build a ResponseURL the stand-in never uses.
    settings.moto_server_host = lambda: "http://127.0.0.1"


PATCHES = (
    Patch(
        name="moto's own address without asking Docker",
        why="inside a container, moto's CloudFormation asks the Docker socket for its own "
            "address when it creates a custom resource, and prints a warning to stdout when "
            "there is none. The stand-in builds its own ResponseURL, so the patch answers "
            "127.0.0.1 without asking.",
        target="moto.settings:moto_server_host",
        params=(),
        install=_no_docker_question,
    ),
    Patch(
        name="custom resources survive an update",
        why="moto has no update for Custom:: resources: update_stack answers HTTP 500 when "
            "their properties change. The patch keeps the resource as it was; the stand-in "
            "sends the Update and forwards the answer to moto's cfnresponse.",
        target="moto.cloudformation.custom_model:CustomModel.update_from_cloudformation_json",
        params=("original_resource", "new_resource_name", "cloudformation_json",
                "account_id", "region_name"),
        install=_keep_custom_resource,
        abstract=True,
    ),
    Patch(
        name="an answer after an update keeps UPDATE_COMPLETE",
        why="moto marks a stack CREATE_COMPLETE whenever a custom resource answers SUCCESS, "
            "even after an update. The patch completes only stacks being created.",
        target="moto.cloudformation.models:Stack.verify_readiness",
        params=("self",),
        install=_complete_only_creations,
    ),
)

_patched = False


def install_patches() -> None:
    """Applies PATCHES once per process; MotoChanged when moto is not what they expect."""
    global _patched
    if not _patched:
        for patch in PATCHES:
            patch.apply()
        _patched = True


@dataclass
class LocalAws:
    """A running moto server. Stop it with `stop()` (or use it as a context manager)."""

    url: str
    _server: Any = field(repr=False, default=None)

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

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def __enter__(self) -> "LocalAws":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start(patched: bool = True) -> LocalAws:
    """Starts moto on a free port of 127.0.0.1, with PATCHES applied unless `patched` is
    False (the Rust tests and the benchmark talk to moto as it ships)."""
    from moto.server import ThreadedMotoServer

    # moto logs every request, every resource type it lacks, and (a custom
    # resource's invocation, which it tries in Docker) "error running docker".
    for name in ("werkzeug", "moto"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module=r"moto\..*")
    if patched:
        install_patches()
    # Port 0: the system picks a free one, with no window for another process to take it.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return LocalAws(url=f"http://{host}:{port}", _server=server)


def attach(url: str) -> LocalAws:
    """A handle on a moto someone else started (the one of `make test`); nothing to stop."""
    return LocalAws(url=url)
