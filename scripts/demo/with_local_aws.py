#!/usr/bin/env python3
"""Runs one command against a local AWS (moto), seeded with the story's values.

    .venv/bin/python scripts/demo/with_local_aws.py cargo run --bin crp -- \\
        --properties events/create.json

Starts moto on a free loopback port, seeds us-east-1 with what events/*.json
and the examples read (SSM /myapp/edge-arn, /myapp/login-url; the function
AuthFunction with one published, edge-ready version; a DomainStack with the
CertificateArn and HostedZoneId outputs the CDK example reads, so that
`crp plan examples/cdk/cdk.out` resolves every row), runs the command with
AWS_ENDPOINT_URL and dummy credentials set, then stops moto. Nothing is left
running. Exits with the command's exit code.

    .venv/bin/python scripts/demo/with_local_aws.py --bare <command>

starts moto as it ships (no patches, nothing seeded) and only sets
CRP_TEST_MOTO_URL for the command: how `make test` and `make bench` get theirs.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

# scripts/, not scripts/demo/ (where demo/moto.py would hide the moto package).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from demo import moto  # noqa: E402

REGION = "us-east-1"


def seed(aws: moto.LocalAws) -> None:
    ssm = aws.client("ssm", REGION)
    iam = aws.client("iam", REGION)
    lam = aws.client("lambda", REGION)
    role = iam.create_role(
        RoleName="AuthFunctionRole",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":["lambda.amazonaws.com","edgelambda.amazonaws.com"]},'
        '"Action":"sts:AssumeRole"}]}')["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("index.js", "exports.handler = async (e) => e.Records[0].cf.request;\n")
    lam.create_function(FunctionName="AuthFunction", Runtime="nodejs22.x", Role=role,
                        Handler="index.handler", Code={"ZipFile": code.getvalue()},
                        Architectures=["x86_64"], MemorySize=128, Timeout=5)
    version = lam.publish_version(FunctionName="AuthFunction")["FunctionArn"]
    ssm.put_parameter(Name="/myapp/edge-arn", Type="String", Value=version)
    ssm.put_parameter(Name="/myapp/login-url", Type="String", Value="https://login.example.com/")
    # The CDK example's DomainStack as its consumers see it: two outputs. (The
    # marker parameter is there because a stack needs at least one resource.)
    aws.client("cloudformation", REGION).create_stack(StackName="DomainStack", TemplateBody=json.dumps({
        "Resources": {"Marker": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Name": "/myapp/domain-stack", "Value": "local"}}},
        "Outputs": {
            "CertificateArn": {"Value": "arn:aws:acm:us-east-1:123456789012:certificate/local-example"},
            "HostedZoneId": {"Value": "Z0LOCALEXAMPLE"},
        },
    }))


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    if argv[0] == "--bare":
        with moto.start(patched=False) as aws:
            env = dict(os.environ, CRP_TEST_MOTO_URL=aws.url)
            print(f"with_local_aws: moto at {aws.url} (CRP_TEST_MOTO_URL)", file=sys.stderr, flush=True)
            return subprocess.run(argv[1:], env=env).returncode
    with moto.start() as aws:
        seed(aws)
        env = dict(os.environ)
        env.update({"AWS_ENDPOINT_URL": aws.url, "AWS_ACCESS_KEY_ID": "test",
                    "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": REGION,
                    "AWS_EC2_METADATA_DISABLED": "true"})
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        print(f"with_local_aws: moto at {aws.url}, seeded /myapp/edge-arn, /myapp/login-url, "
              "AuthFunction:1, DomainStack outputs", file=sys.stderr, flush=True)
        return subprocess.run(argv, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
