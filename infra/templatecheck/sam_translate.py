#!/usr/bin/env python3
"""Runs the AWS SAM translator (the aws-sam-translator package, which
cfn-lint ships with) on template.yaml and prints the CloudFormation template
it produces as JSON, so that the transform itself is checked, not only
linted. Local CodeUri/DefinitionUri values are replaced by S3 locations, as
`sam package` would do; nothing is uploaded and no AWS call is made.

usage: sam_translate.py [--resolve-conditions] TEMPLATE [Name=Value ...]

Name=Value pairs override parameters. With --resolve-conditions the output
is the template as CloudFormation would create it for those parameter
values (the others at their defaults): every Condition evaluated, the
resources and outputs whose condition is false left out, Fn::If replaced by
its branch and AWS::NoValue by nothing, so that cfn-lint checks exactly the
stack one choice of parameters makes (the hosted UI on or off).
"""
import json
import logging
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# The translator fills AWS::Region and AWS::Partition from a boto3 session;
# give it a region (read when it makes the session) so it never looks for
# one, nor for credentials.
os.environ.setdefault("AWS_DEFAULT_REGION", "ap-northeast-2")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


class NoManagedPolicies:
    """The template names managed policies by ARN only, so the translator
    never needs to look a name up in IAM."""

    def load(self):
        return {}


def package_locally(template):
    """The S3 key keeps the local path, prefixed "local:", so that callers can
    still check where the code and the definition come from."""
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        for rtype, prop in (("AWS::Serverless::Function", "CodeUri"), ("AWS::Serverless::StateMachine", "DefinitionUri")):
            if resource.get("Type") == rtype and isinstance(props.get(prop), str):
                props[prop] = "s3://sam-translate-check/local:" + props[prop]


class RuleFailed(Exception):
    """A rule of the template refuses the parameter values."""


class NoValue:
    """AWS::NoValue: the key or list item that holds it is left out."""


def resolve_conditions(template, overrides):
    """The template for one set of parameter values (see the usage)."""
    params = {name: overrides.get(name, spec.get("Default")) for name, spec in template.get("Parameters", {}).items()}
    conditions = template.get("Conditions", {})
    known = {}

    def value(v):
        if isinstance(v, dict) and len(v) == 1 and "Ref" in v:
            name = v["Ref"]
            if name not in params:
                raise ValueError("condition refers to %r, which is no parameter" % name)
            return params[name]
        if isinstance(v, (str, int, float, bool)):
            return str(v).lower() if isinstance(v, bool) else str(v)
        raise ValueError("unsupported value in a condition: %r" % (v,))

    def evaluate(c):
        if isinstance(c, dict) and len(c) == 1:
            (fn, args), = c.items()
            if fn == "Condition":
                return condition(args)
            if fn == "Fn::Equals":
                return value(args[0]) == value(args[1])
            if fn == "Fn::Not":
                return not evaluate(args[0])
            if fn == "Fn::And":
                return all(evaluate(a) for a in args)
            if fn == "Fn::Or":
                return any(evaluate(a) for a in args)
        raise ValueError("unsupported condition: %r" % (c,))

    def condition(name):
        if name not in known:
            known[name] = evaluate(conditions[name])
        return known[name]

    def walk(v):
        if isinstance(v, dict):
            if len(v) == 1 and "Fn::If" in v:
                cond, yes, no = v["Fn::If"]
                return walk(yes if condition(cond) else no)
            if v == {"Ref": "AWS::NoValue"}:
                return NoValue
            out = {}
            for k, item in v.items():
                item = walk(item)
                if item is not NoValue:
                    out[k] = item
            return out
        if isinstance(v, list):
            return [item for item in (walk(i) for i in v) if item is not NoValue]
        return v

    # CloudFormation refuses the parameters before anything else when a
    # rule that applies fails one of its assertions.
    for name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"]):
            continue
        for a in rule.get("Assertions", []):
            if not evaluate(a["Assert"]):
                raise RuleFailed("rule %s: %s" % (name, a.get("AssertDescription", "assertion failed")))

    out = dict(template)
    for section in ("Resources", "Outputs"):
        kept = {}
        for name, body in template.get(section, {}).items():
            if "Condition" in body and not condition(body["Condition"]):
                continue
            body = walk({k: v for k, v in body.items() if k != "Condition"})
            kept[name] = body
        out[section] = kept
    # Every condition is decided now; none is left to refer to.
    out.pop("Conditions", None)
    # The values chosen become the parameters' defaults, so that cfn-lint
    # resolves Fn::Split and the like with what the stack gets.
    out["Parameters"] = {name: dict(spec, Default=overrides[name]) if name in overrides else spec
                         for name, spec in template.get("Parameters", {}).items()}
    return out


def main(argv):
    # Without a feature-toggle config (which sam deploy fetches) the
    # translator warns once per feature it asks about; nothing is wrong.
    logging.getLogger("samtranslator.feature_toggle").setLevel(logging.ERROR)
    args = argv[1:]
    resolve = "--resolve-conditions" in args
    args = [a for a in args if a != "--resolve-conditions"]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    params = dict(arg.split("=", 1) for arg in args[1:])
    package_locally(template)
    out = transform(template, params, NoManagedPolicies())
    if resolve:
        try:
            out = resolve_conditions(out, params)
        except RuleFailed as e:
            print("CloudFormation would refuse these parameters: %s" % e, file=sys.stderr)
            return 3
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
