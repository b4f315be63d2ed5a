"""A minimal Lambda Runtime API on loopback, running a real Lambda binary.

`LambdaRuntime(binary, env)` serves the three calls a custom runtime makes
(`GET /2018-06-01/runtime/invocation/next`, `POST .../{id}/response`,
`POST .../{id}/error`) on a free port of 127.0.0.1, and starts `binary` as a
long-lived process with `AWS_LAMBDA_RUNTIME_API` pointing at it, as Lambda
does. `invoke(event)` queues one event and waits for the binary to report
success or an error. `close()` stops the process and the server.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

PREFIX = "/2018-06-01/runtime/invocation/"


@dataclass
class Outcome:
    """What the function reported for one invocation."""

    request_id: str
    kind: str  # "response" or "error"
    body: str


class LambdaRuntime:
    """The Runtime API plus the function process it serves."""

    def __init__(self, binary: str, env: dict[str, str], log: IO[bytes] | None = None,
                 timeout_s: float = 120.0):
        self._events: "queue.Queue[tuple[str, dict[str, Any]]]" = queue.Queue()
        self._outcomes: dict[str, Outcome] = {}
        self._done = threading.Condition()
        self.timeout_s = timeout_s
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != PREFIX + "next":
                    return self._reply(404)
                # Long poll, as Lambda's does: wait until there is an event.
                request_id, event = runtime._events.get()
                deadline_ms = int((time.time() + runtime.timeout_s) * 1000)
                self._reply(200, json.dumps(event).encode(), {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": event.get("ServiceToken", ""),
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                })

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                rest = self.path[len(PREFIX):] if self.path.startswith(PREFIX) else ""
                request_id, _, kind = rest.partition("/")
                if kind not in ("response", "error"):
                    return self._reply(404)
                with runtime._done:
                    runtime._outcomes[request_id] = Outcome(request_id, kind, body)
                    runtime._done.notify_all()
                self._reply(202, b'{"status":"OK"}')

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        full_env = dict(env)
        full_env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{self.port}"
        full_env.setdefault("AWS_LAMBDA_FUNCTION_NAME", Path(binary).name)
        full_env.setdefault("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        full_env.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        full_env.setdefault("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/local")
        full_env.setdefault("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        self._process = subprocess.Popen(
            [binary], env=full_env, stdin=subprocess.DEVNULL,
            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )

    def invoke(self, event: dict[str, Any], wait_s: float = 60.0) -> Outcome:
        """Hands `event` to the function and waits (bounded) for its outcome."""
        request_id = str(uuid.uuid4())
        self._events.put((request_id, event))
        end = time.monotonic() + wait_s
        with self._done:
            while request_id not in self._outcomes:
                left = end - time.monotonic()
                if left <= 0 or self._process.poll() is not None:
                    code = self._process.poll()
                    why = f"exited with {code}" if code is not None else f"no outcome within {wait_s:.0f} s"
                    raise RuntimeError(f"the function {why}")
                self._done.wait(min(left, 0.5))
            return self._outcomes.pop(request_id)

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "LambdaRuntime":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def aws_env(endpoint: str, region: str) -> dict[str, str]:
    """The environment a function needs to use `endpoint` (moto) as AWS, and nothing of the caller's."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
