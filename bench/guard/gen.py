#!/usr/bin/env python3
"""Generate the deploy-guard benchmark's template pair: OLD (JSON, as `get-template` returns a
deployed CDK template) and NEW (YAML with short-form tags, as written by hand), N resources each.

    bench/guard/gen.py OUT_DIR [--resources 2000] [--seed 7]

A realistic mix, in units of five: a DynamoDB table, an S3 bucket, an SQS queue, an IAM role and a
Lambda function that reads all three through Ref / GetAtt / Sub. Stateful resources mostly carry
DeletionPolicy/UpdateReplacePolicy Retain and the protection settings; some do not. NEW differs
from OLD the way a real release does:

- every 50th unit: the table's logical ID is renamed (same TableName): a stateful-rename;
- every 40th unit: the table's TableName changes: a replacement, which cascades into the function;
- every 25th unit: the function's memory and environment change (in-place updates);
- every 60th unit: the queue is removed (retained: an orphan) or, every 120th, deleted;
- every 10th unit: the bucket gains lifecycle rules (in place);
- a few new units at the end, so both sides keep N resources.

Deterministic for a given seed. Writes OUT_DIR/old.json and OUT_DIR/new.yaml.
"""

import argparse
import json
import os
import random

UNIT = 5


def unit(i, rng, new):
    """The five resources of unit i, as (logical id, resource) pairs, plus what changed."""
    protected = i % 7 != 3
    table_id = f"Table{i:04d}"
    renamed = new and i % 50 == 49
    if renamed:
        table_id = f"Table{i:04d}V2B7E1C9A"
    table_name = f"app-prod-t{i:04d}" + ("-v2" if new and i % 40 == 39 else "")
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": protected},
            "DeletionProtectionEnabled": protected,
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "Tags": [{"Key": "unit", "Value": f"u{i}"}],
        },
    }
    if protected:
        table["DeletionPolicy"] = "Retain"
        table["UpdateReplacePolicy"] = "Retain"
    bucket = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
        },
    }
    if new and i % 10 == 0:
        bucket["Properties"]["LifecycleConfiguration"] = {
            "Rules": [{"Id": "expire-tmp", "Status": "Enabled", "Prefix": "tmp/", "ExpirationInDays": 7}]
        }
    queue = {
        "Type": "AWS::SQS::Queue",
        "DeletionPolicy": "Retain" if i % 120 != 59 else "Delete",
        "UpdateReplacePolicy": "Retain",
        "Properties": {"MessageRetentionPeriod": 1209600, "VisibilityTimeout": 60 + (i % 5) * 30},
    }
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "ManagedPolicyArns": [
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
            ],
            "Policies": [
                {
                    "PolicyName": "data",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                                "Resource": [{"Fn::GetAtt": [table_id, "Arn"]}],
                            },
                            {
                                "Effect": "Allow",
                                "Action": ["s3:GetObject", "s3:PutObject"],
                                "Resource": [{"Fn::Sub": f"${{Bucket{i:04d}.Arn}}/*"}],
                            },
                            {
                                "Effect": "Allow",
                                "Action": ["sqs:SendMessage"],
                                "Resource": [{"Fn::GetAtt": [f"Queue{i:04d}", "Arn"]}],
                            },
                        ],
                    },
                }
            ],
        },
    }
    memory = 512 if not (new and i % 25 == 0) else 1024
    env = {
        "TABLE_NAME": {"Ref": table_id},
        "BUCKET": {"Ref": f"Bucket{i:04d}"},
        "QUEUE_URL": {"Ref": f"Queue{i:04d}"},
        "STAGE": "prod",
    }
    if new and i % 25 == 0:
        env["FEATURE_FLAGS"] = "checkout-v2"
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "nodejs22.x",
            "Handler": "index.handler",
            "MemorySize": memory,
            "Timeout": 30,
            "Role": {"Fn::GetAtt": [f"Role{i:04d}", "Arn"]},
            "Code": {"S3Bucket": "acme-artifacts", "S3Key": f"functions/f{i:04d}-{rng.randrange(16**8):08x}.zip"},
            "Environment": {"Variables": env},
        },
    }
    out = [(table_id, table), (f"Bucket{i:04d}", bucket)]
    if not (new and i % 60 == 59):
        out.append((f"Queue{i:04d}", queue))
    else:
        env.pop("QUEUE_URL")
        role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].pop()
    out += [(f"Role{i:04d}", role), (f"Function{i:04d}", function)]
    return out


def template(n, seed, new):
    rng = random.Random(seed)  # the same code keys on both sides
    out = {}
    i = 0
    while len(out) < n:
        for logical_id, body in unit(i, rng, new):
            if len(out) < n:
                out[logical_id] = body
        i += 1
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"holdfast guard benchmark: {n} resources ({'new' if new else 'old'})",
        "Resources": out,
    }


# --- YAML with short-form tags -----------------------------------------------------------------

def scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if s == "" or s[0].isdigit() or s[0] in "!&*{}[]|>'\"%@`#,?:-" or any(c in s for c in ": #") or s in ("true", "false", "null", "yes", "no", "on", "off") or s.replace(".", "", 1).isdigit():
        return json.dumps(s)
    return s


def tagged(v):
    """A short-form tag for an intrinsic, or None."""
    if isinstance(v, dict) and len(v) == 1:
        (k, a), = v.items()
        if k == "Ref" and isinstance(a, str):
            return f"!Ref {a}"
        if k == "Fn::GetAtt" and isinstance(a, list) and len(a) == 2:
            return f"!GetAtt {a[0]}.{a[1]}"
        if k == "Fn::Sub" and isinstance(a, str):
            return f"!Sub {json.dumps(a)}"
    return None


def emit(v, indent, out):
    pad = "  " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            t = tagged(x)
            if t is not None:
                out.append(f"{pad}{k}: {t}")
            elif isinstance(x, (dict, list)) and x:
                out.append(f"{pad}{k}:")
                emit(x, indent + 1, out)
            else:
                out.append(f"{pad}{k}: {scalar(x) if not isinstance(x, (dict, list)) else json.dumps(x)}")
    else:
        for x in v:
            t = tagged(x)
            if t is not None:
                out.append(f"{pad}- {t}")
            elif isinstance(x, dict) and x:
                sub = []
                emit(x, indent + 1, sub)
                first = sub[0].lstrip()
                out.append(f"{pad}- {first}")
                out.extend(sub[1:])
            elif isinstance(x, list) and x:
                out.append(f"{pad}-")
                emit(x, indent + 1, out)
            else:
                out.append(f"{pad}- {scalar(x)}")


def to_yaml(doc):
    out = []
    emit(doc, 0, out)
    return "\n".join(out) + "\n"


def renames(old, new):
    """Tables whose logical ID changed while their TableName stayed: the guard's renames."""
    o, n = old["Resources"], new["Resources"]
    return sum(1 for k, r in n.items() if k.endswith("V2B7E1C9A") and k[:9] in o
               and o[k[:9]]["Properties"]["TableName"] == r["Properties"]["TableName"])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--resources", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    old = template(a.resources, a.seed, new=False)
    new = template(a.resources, a.seed, new=True)
    with open(os.path.join(a.out, "old.json"), "w") as f:
        json.dump(old, f, indent=1)
        f.write("\n")
    with open(os.path.join(a.out, "new.yaml"), "w") as f:
        f.write(to_yaml(new))
    print(f"{len(old['Resources'])} / {len(new['Resources'])} resources, {renames(old, new)} renamed tables")


if __name__ == "__main__":
    main()
