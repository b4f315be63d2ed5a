"""Running CloudFormation custom resources locally, on moto: the project's Python test machinery.

Importable by any script that puts `scripts/` on `sys.path` (scripts/demo.py,
scripts/deadlock.py and scripts/cdk_e2e.py do):

- `demo.moto`: `start()`, the one way the scripts start moto (in this process,
  on a free loopback port), with the few guarded patches moto needs
  (`PATCHES`); `attach(url)` for a moto someone else started.
- `demo.runtime`: `LambdaRuntime(binary, env)`, a Lambda Runtime API on
  loopback running a real Lambda binary; `aws_env(endpoint, region)`.
- `demo.cfn`: the CloudFormation stand-in. `CloudFormation(aws, providers)`
  holds the stacks of a run: `moto_stack(...)` for a stack moto's
  CloudFormation holds (the stand-in plays its custom resources),
  `stack(...)` for one the stand-in plays whole (rollback included).
  `Providers` runs the provider binary in place of each provider function.

Typical use::

    aws = moto.start()
    with cfn.Providers(binary, aws) as providers:
        app = cfn.CloudFormation(aws, providers).moto_stack("App", "ap-northeast-1")
        app.create(template, {"DeployId": "1"})
        for call in app.play():
            print(call.request, call.logical, call.answer["Status"])
"""

from . import cfn, moto, runtime

__all__ = ["cfn", "moto", "runtime"]
