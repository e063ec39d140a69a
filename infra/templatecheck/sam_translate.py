#!/usr/bin/env python3
"""Runs the AWS SAM translator (the aws-sam-translator package, which
cfn-lint ships with) on template.yaml and prints the CloudFormation template
it produces as JSON, so that the transform itself is checked, not only
linted. Local CodeUri/DefinitionUri values are replaced by S3 locations, as
`sam package` would do; nothing is uploaded and no AWS call is made.

usage: sam_translate.py TEMPLATE [Name=Value ...]   (parameter overrides)
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


def main(argv):
    # Without a feature-toggle config (which sam deploy fetches) the
    # translator warns once per feature it asks about; nothing is wrong.
    logging.getLogger("samtranslator.feature_toggle").setLevel(logging.ERROR)
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        template = yaml_parse(f.read())
    params = dict(arg.split("=", 1) for arg in argv[2:])
    package_locally(template)
    out = transform(template, params, NoManagedPolicies())
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
