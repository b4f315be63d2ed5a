#!/usr/bin/env python3
"""Least-privilege checks for the IAM policies in CloudFormation/SAM templates.

Usage: check_policy.py [TEMPLATE ...]   (default: template.yaml)

Two kinds of check:

1. Static, on every template given: every IAM policy statement (both branches
   of any Fn::If) must name explicit actions (no `*` anywhere in an action, no
   NotAction) and must not grant on `Resource: '*'` (nor NotResource) unless
   every action is in UNSCOPED_ACTIONS below.

2. Evaluated, on template.yaml only: the provider role's policy is resolved
   for several sets of stack parameters with a small intrinsic-function
   evaluator, and the resulting ARNs/conditions are compared with what the
   parameters promise (the comma-list -> ARN tricks are easy to get wrong).

Prints one line per check ("ok ..." / "FAIL ...") and exits non-zero on any
failure. Templates are read with cfn-lint's own decoder.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from cfnlint.decode import decode

# Actions that only exist without a resource ARN and may therefore be granted on
# Resource '*'. Deliberately empty: the provider needs none of them.
# (sts:GetCallerIdentity needs no permission at all.)
UNSCOPED_ACTIONS: frozenset[str] = frozenset()

POLICY_HOLDERS = {
    "AWS::IAM::Role": ("Policies",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::UserPolicy": ("PolicyDocument",),
    "AWS::IAM::GroupPolicy": ("PolicyDocument",),
    "AWS::IAM::RolePolicy": ("PolicyDocument",),
    "AWS::Serverless::Function": ("Policies",),
}

failures: list[str] = []


def report(ok: bool, text: str) -> None:
    print(("ok   " if ok else "FAIL ") + text)
    if not ok:
        failures.append(text)


# --------------------------------------------------------------------------
# Static walk


def branches(value):
    """Yield every concrete alternative of a value, expanding Fn::If."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        _, yes, no = value["Fn::If"]
        yield from branches(yes)
        yield from branches(no)
    elif isinstance(value, dict) and value.get("Ref") == "AWS::NoValue":
        return
    else:
        yield value


def as_list(value):
    out = []
    for v in branches(value):
        if isinstance(v, list):
            for item in v:
                out.extend(branches(item))
        else:
            out.append(v)
    return out


def statements_of(resource_type: str, props: dict):
    """Yield (label, statement) for every permission statement of a resource."""
    if resource_type == "AWS::IAM::Role":
        for pol in as_list(props.get("Policies", [])):
            name = pol.get("PolicyName", "?") if isinstance(pol, dict) else "?"
            doc = pol.get("PolicyDocument", {}) if isinstance(pol, dict) else {}
            for st in as_list(doc.get("Statement", [])):
                yield f"policy {name}", st
    elif resource_type == "AWS::Serverless::Function":
        for pol in as_list(props.get("Policies", [])):
            if isinstance(pol, dict) and "Statement" in pol:
                for st in as_list(pol["Statement"]):
                    yield "inline policy", st
            elif isinstance(pol, dict):
                # SAM policy templates scope themselves to their arguments.
                yield "SAM policy template " + ",".join(pol), None
    else:
        doc = props.get("PolicyDocument", {})
        for st in as_list(doc.get("Statement", [])):
            yield "policy document", st


def static_checks(path: Path, template: dict) -> int:
    count = 0
    for logical_id, res in (template.get("Resources") or {}).items():
        rtype = res.get("Type")
        if rtype not in POLICY_HOLDERS:
            continue
        for label, st in statements_of(rtype, res.get("Properties") or {}):
            where = f"{path}: {logical_id} {label}"
            if st is None:
                continue
            count += 1
            sid = st.get("Sid", f"#{count}")
            where = f"{where} {sid}"
            if st.get("Effect") != "Allow":
                continue
            if "NotAction" in st or "NotResource" in st:
                report(False, f"{where}: NotAction/NotResource grant more than they name")
                continue
            actions = [a for a in as_list(st.get("Action", [])) if isinstance(a, str)]
            wild = [a for a in actions if "*" in a]
            report(not wild, f"{where}: explicit actions {','.join(actions)}"
                   + (f" (wildcard: {','.join(wild)})" if wild else ""))
            resources = as_list(st.get("Resource", []))
            unscoped = any(r == "*" for r in resources)
            if unscoped:
                extra = [a for a in actions if a not in UNSCOPED_ACTIONS]
                report(not extra, f"{where}: Resource '*' only for {sorted(UNSCOPED_ACTIONS) or 'no action'}"
                       + (f" (but grants {','.join(extra)})" if extra else ""))
            else:
                report(True, f"{where}: resources scoped")
    return count


# --------------------------------------------------------------------------
# Evaluation of the provider role for concrete parameters

ACCOUNT = "123456789012"
NOVALUE = object()


class Evaluator:
    def __init__(self, template: dict, params: dict[str, str]):
        self.t = template
        self.params = {}
        for name, spec in template.get("Parameters", {}).items():
            value = params.get(name, spec.get("Default"))
            self.params[name] = str(value) if value is not None else ""
        self.pseudo = {
            "AWS::Partition": "aws",
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": "ap-northeast-1",
            "AWS::StackName": "CrossRegionParam",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def parameter_errors(self) -> list[str]:
        errors = []
        for name, spec in self.t.get("Parameters", {}).items():
            value = self.params[name]
            pattern = spec.get("AllowedPattern")
            if pattern and not re.fullmatch(pattern, value):
                errors.append(f"{name}={value!r} does not match AllowedPattern")
            allowed = spec.get("AllowedValues")
            if allowed and value not in [str(a) for a in allowed]:
                errors.append(f"{name}={value!r} not in AllowedValues")
        return errors

    def condition(self, name: str) -> bool:
        return bool(self.ev(self.t["Conditions"][name]))

    def ref(self, name: str):
        if name == "AWS::NoValue":
            return NOVALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.params:
            return self.params[name]
        return f"<Ref {name}>"

    def sub(self, text: str, variables: dict) -> str:
        def repl(m):
            key = m.group(1)
            if key in variables:
                return str(variables[key])
            if "." in key:
                return f"<GetAtt {key}>"
            return str(self.ref(key))
        return re.sub(r"\$\{([^}!]+)\}", repl, text)

    def ev(self, node):
        if isinstance(node, list):
            out = [self.ev(x) for x in node]
            return [x for x in out if x is not NOVALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::If":
                cond, yes, no = arg
                return self.ev(yes) if self.condition(cond) else self.ev(no)
            if key == "Fn::Equals":
                a, b = (self.ev(x) for x in arg)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self.ev(arg[0])
            if key == "Fn::Or":
                return any(self.ev(x) for x in arg)
            if key == "Fn::And":
                return all(self.ev(x) for x in arg)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(x) for x in self.ev(items))
            if key == "Fn::Split":
                sep, text = arg
                return str(self.ev(text)).split(sep)
            if key == "Fn::Select":
                index, items = arg
                items = self.ev(items)
                index = int(self.ev(index))
                if index >= len(items):
                    raise IndexError(f"Fn::Select index {index} past the end of {items}")
                return items[index]
            if key == "Fn::Sub":
                if isinstance(arg, str):
                    return self.sub(arg, {})
                text, variables = arg
                return self.sub(text, {k: self.ev(v) for k, v in variables.items()})
            if key == "Fn::GetAtt":
                target = arg if isinstance(arg, str) else ".".join(arg)
                return f"<GetAtt {target}>"
        out = {}
        for k, v in node.items():
            value = self.ev(v)
            if value is not NOVALUE:
                out[k] = value
        return out


def provider_statements(template: dict, params: dict[str, str]) -> dict[str, dict]:
    ev = Evaluator(template, params)
    errors = ev.parameter_errors()
    if errors:
        raise ValueError("; ".join(errors))
    role = template["Resources"]["ProviderRole"]["Properties"]
    out = {}
    for pol in ev.ev(role["Policies"]):
        for st in pol["PolicyDocument"]["Statement"]:
            out[st.get("Sid", pol["PolicyName"])] = st
    return out


def listify(v):
    return v if isinstance(v, list) else [v]


def evaluated_checks(template: dict) -> None:
    p = f"arn:aws:ssm:*:{ACCOUNT}:parameter"

    # Defaults: every parameter of the account, every region, no role.
    st = provider_statements(template, {})
    report(listify(st["ReadParameters"]["Resource"]) == [f"{p}/*"] and "Condition" not in st["ReadParameters"],
           "defaults: ssm on every parameter of the account, no region condition")
    report("AssumeAllowedRoles" not in st, "defaults: no sts:AssumeRole statement")
    report(st["DecryptThroughSsmOnly"]["Condition"].get("StringLike", {}).get("kms:ViaService")
           == ["ssm.*.amazonaws.com", "ssm.*.amazonaws.com.cn"]
           and "StringEquals" not in st["DecryptThroughSsmOnly"]["Condition"],
           "defaults: kms:Decrypt only via SSM")

    # Restricted: three prefixes, two regions, one role pattern.
    st = provider_statements(template, {
        "AllowedParameterPaths": "/myapp,/shared/,/team-*",
        "AllowedRegions": "us-east-1,eu-west-1",
        "AllowedRoleArns": "arn:aws:iam::222222222222:role/crp-*",
    })
    want = [f"{p}/myapp*", f"{p}/shared/*", f"{p}/team-**"]
    got = listify(st["ReadParameters"]["Resource"])
    report(got == want, f"3 prefixes -> {len(want)} parameter ARNs (got {got})")
    regions = ["us-east-1", "eu-west-1"]
    for sid in ("ReadParameters", "ReadFunctionVersions", "ReadStackOutputs"):
        cond = st[sid].get("Condition", {}).get("StringEquals", {}).get("aws:RequestedRegion")
        report(cond == regions, f"2 regions -> aws:RequestedRegion on {sid}")
    cond = st["DecryptThroughSsmOnly"]["Condition"]
    report(cond.get("StringEquals", {}).get("aws:RequestedRegion") == regions and "StringLike" in cond,
           "2 regions -> aws:RequestedRegion and kms:ViaService on DecryptThroughSsmOnly")
    assume = st.get("AssumeAllowedRoles", {})
    report(listify(assume.get("Resource")) == ["arn:aws:iam::222222222222:role/crp-*"]
           and assume.get("Action") == "sts:AssumeRole",
           "1 role pattern -> sts:AssumeRole on exactly that ARN")

    # The maximum: eight prefixes.
    paths = [f"/p{i}/" for i in range(8)]
    st = provider_statements(template, {"AllowedParameterPaths": ",".join(paths), "AllowedRegions": "*"})
    got = listify(st["ReadParameters"]["Resource"])
    report(got == [f"{p}{x}*" for x in paths], f"8 prefixes -> 8 parameter ARNs (got {len(got)})")
    report("Condition" not in st["ReadParameters"], "regions '*' -> no region condition")

    # Values the parameters must refuse (so no policy is ever built from them).
    for name, bad in (
        ("AllowedParameterPaths", ",".join(f"/p{i}" for i in range(9))),
        ("AllowedParameterPaths", "/myapp, /shared"),
        ("AllowedParameterPaths", "myapp"),
        ("AllowedParameterPaths", ""),
        ("AllowedRegions", "us-east-1, eu-west-1"),
        ("AllowedRoleArns", "*"),
        ("OrganizationId", "123456789012"),
    ):
        try:
            provider_statements(template, {name: bad})
            report(False, f"{name}={bad!r} is refused by the template")
        except ValueError:
            report(True, f"{name}={bad!r} is refused by the template")

    # Environment variables the provider reads (public interface).
    env = template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    names = {"CRP_ALLOWED_PARAMETER_PATHS", "CRP_ALLOWED_REGIONS", "CRP_ALLOWED_ROLE_ARNS", "CRP_RESPONSE_URL_HOSTS"}
    report(set(env) == names, "function sets exactly the CRP_* environment variables")


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or [Path("template.yaml")]
    for path in paths:
        template, matches = decode(str(path))
        if matches or template is None:
            report(False, f"{path}: cannot be parsed: {matches}")
            continue
        n = static_checks(path, template)
        report(True, f"{path}: {n} policy statements walked")
        if path.name == "template.yaml":
            try:
                evaluated_checks(template)
            except Exception as exc:  # a template change broke the evaluation itself
                report(False, f"{path}: evaluating the provider role failed: {exc!r}")
    if failures:
        print(f"check_policy: {len(failures)} failure(s)")
        return 1
    print("check_policy: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
