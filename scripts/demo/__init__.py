"""Machinery for running CloudFormation custom resources locally, on moto.

Three small modules, importable by any script that puts `scripts/` on
`sys.path` (scripts/demo.py does; so can `make deadlock`):

- `demo.moto`: `start()` runs moto in this process on a free loopback port and
  returns a `LocalAws` (URL, boto3 clients, the custom resource requests moto's
  CloudFormation queued). `GAPS` lists what it patches in moto and why.
- `demo.runtime`: `LambdaRuntime(binary, env)` is a Lambda Runtime API on
  loopback running a real Lambda binary; `invoke(event)` waits for its outcome.
  `aws_env(endpoint, region)` is the environment pointing a function at moto.
- `demo.cfn`: `CloudFormation(aws, invoke)` delivers moto's pending requests
  as AWS would (ResponseURL at a loopback relay into moto's `cfnresponse`,
  PhysicalResourceId and OldResourceProperties filled in) and plays the Delete
  requests moto never sends.

Typical use::

    aws = moto.start()
    fn = runtime.LambdaRuntime(binary, runtime.aws_env(aws.url, "ap-northeast-1"))
    cf = cfn.CloudFormation(aws, fn.invoke)
    aws.client("cloudformation", "ap-northeast-1").create_stack(...)
    for exchange in cf.deliver_pending():
        print(exchange.request["RequestType"], exchange.answer.status)
"""

from . import cfn, moto, runtime

__all__ = ["cfn", "moto", "runtime"]
