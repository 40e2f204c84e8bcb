#!/usr/bin/env python3
"""Generate the env benchmark's input: a CDK cloud assembly (`cdk.out`) of N Lambda functions
in stacks of 250 (a stack's 500-resource limit: each function has its role), as `cdk synth`
writes it — manifest.json, one *.template.json per stack, CDK metadata, asset code through
`Fn::Sub`, roles through `Fn::GetAtt`.

    bench/env/gen.py OUT_DIR [--functions 2000] [--seed 7]

Each function has eight to eleven variables of the usual kinds (table names, a queue URL, a
secret ARN through `Ref`, log level, an API URL, a feature flag, a timeout). Planted, by
function index i, so that every peer's findings can be counted against what was planted:

- i % 50 == 7:  a literal Stripe live key in STRIPE_KEY (a credential, and a live key in staging);
- i % 40 == 3:  `${env:SECRET_KEY}` left literal in SESSION_SECRET (a Serverless variable);
- i % 30 == 11: PARAMS_PATH names `/prod/...` in a staging function (another stage's parameters);
- i % 70 == 5:  a literal GitHub token in GITHUB_TOKEN;
- i % 90 == 2:  a literal AWS access key id and secret in AWS_KEY_ID / AWS_KEY_SECRET.

The credentials are fake and assembled here from parts. Deterministic for a given seed.
Prints a JSON line of the planted counts.
"""

import argparse
import json
import os
import random

PER_STACK = 250


def fake(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def function(i, rng, planted):
    fid = f"Fn{i:04d}"
    env = {
        "ORDERS_TABLE": f"orders-staging-{i % 17}",
        "USERS_TABLE": f"users-staging-{i % 5}",
        "QUEUE_URL": {"Fn::Sub": "https://sqs.${AWS::Region}.amazonaws.com/${AWS::AccountId}/jobs-staging"},
        "LOG_LEVEL": rng.choice(["debug", "info", "warn"]),
        "API_URL": f"https://api.staging.example.com/v{1 + i % 3}",
        "FEATURE_CHECKOUT": rng.choice(["true", "false"]),
        "TIMEOUT": f"{5 + i % 25}s",
        "POWERTOOLS_SERVICE_NAME": f"svc-{i % 40}",
    }
    if i % 50 == 7:
        env["STRIPE_KEY"] = "sk_" + "live_" + fake(rng, ALNUM, 24)
        planted["stripe_live"] += 1
    if i % 40 == 3:
        env["SESSION_SECRET"] = "${" + "env:SECRET_KEY}"
        planted["unresolved"] += 1
    if i % 30 == 11:
        env["PARAMS_PATH"] = f"/prod/svc-{i % 40}/config"
        planted["cross_stage"] += 1
    if i % 70 == 5:
        env["GITHUB_TOKEN"] = "gh" + "p_" + fake(rng, ALNUM, 36)
        planted["github"] += 1
    if i % 90 == 2:
        env["AWS_KEY_ID"] = "AK" + "IA" + fake(rng, UPPER, 16)
        env["AWS_KEY_SECRET"] = fake(rng, ALNUM + "/+", 40)
        planted["aws_key"] += 1
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                               "Principal": {"Service": "lambda.amazonaws.com"}}],
                "Version": "2012-10-17",
            },
            "ManagedPolicyArns": [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"},
                                   ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}],
        },
        "Metadata": {"aws:cdk:path": f"App/{fid}/ServiceRole/Resource"},
    }
    fn = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": {"S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"},
                     "S3Key": f"{rng.getrandbits(128):032x}.zip"},
            "Role": {"Fn::GetAtt": [f"{fid}ServiceRole", "Arn"]},
            "Environment": {"Variables": env},
            "Handler": "index.handler",
            "MemorySize": 256,
            "Runtime": "nodejs20.x",
            "Timeout": 30,
        },
        "DependsOn": [f"{fid}ServiceRole"],
        "Metadata": {"aws:cdk:path": f"App/{fid}/Resource", "aws:asset:property": "Code"},
    }
    return {f"{fid}ServiceRole": role, fid: fn}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--functions", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    planted = {"stripe_live": 0, "unresolved": 0, "cross_stage": 0, "github": 0, "aws_key": 0}
    artifacts = {}
    stacks = (a.functions + PER_STACK - 1) // PER_STACK
    for s in range(stacks):
        name = f"AppStaging{s:02d}"
        resources = {}
        for i in range(s * PER_STACK, min(a.functions, (s + 1) * PER_STACK)):
            resources.update(function(i, rng, planted))
        resources["CDKMetadata"] = {"Type": "AWS::CDK::Metadata",
                                    "Properties": {"Analytics": "v2:deflate64:H4sIAAAAAAAA"}}
        template = {"Resources": resources,
                    "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>",
                                                        "Default": "/cdk-bootstrap/hnb659fds/version"}}}
        with open(os.path.join(a.out, f"{name}.template.json"), "w") as f:
            json.dump(template, f, indent=1)
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region",
                           "properties": {"templateFile": f"{name}.template.json"}}
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump({"version": "36.0.0", "artifacts": artifacts}, f, indent=1)
    print(json.dumps(planted))


if __name__ == "__main__":
    main()
