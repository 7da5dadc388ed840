"""Seeds a moto server with a one-account chain of N roles for the collection benchmark.

role-0000 is an ECS task role; each role-i may assume role-(i+1), and the last one reads a
secret. One cluster, service and task definition use role-0000. N/5 more secrets, each with a
resource policy, make one GetResourcePolicy call each: the per-resource calls that
`--concurrency` overlaps. Seeding runs from one thread,
because moto's server is not safe for concurrent writes.

Usage: python3 bench/seed_chain.py ENDPOINT_URL N [EXTRA]

With --who-can, it seeds the chain of the who-can comparison instead (tests/it/chain.rs builds
the same one): a user chain-user and roles r-0 … r-(N-1), where the user may assume r-0 and each
r-i may assume r-(i+1) (each trust names the previous principal by ARN, each identity policy
allows sts:AssumeRole on the next role), and every tenth role up to r-(N·9/10) may call
secretsmanager:GetSecretValue on the secret sec-0, which has no resource policy. It prints the
secret's ARN. With --snapshot FILE it also writes a rolechain.snapshot/v1 of the account built
from moto's own answers to GetAccountAuthorizationDetails, ListSecrets and GetResourcePolicy,
for a rolechain built without the AWS SDK (which cannot run `rolechain collect`).

Usage: python3 bench/seed_chain.py ENDPOINT_URL N --who-can [--snapshot FILE]
"""

import json
import sys

import boto3

ACCOUNT = "123456789012"


def clients(url: str) -> dict:
    return dict(endpoint_url=url, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing")


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def seed_who_can(url: str, n: int) -> str:
    """Seeds the who-can chain; returns the secret's ARN."""
    kw = clients(url)
    iam = boto3.client("iam", **kw)
    sm = boto3.client("secretsmanager", **kw)
    secret = sm.create_secret(Name="sec-0", SecretString="x")["ARN"]
    last_reader = (n * 9 // 10) // 10 * 10
    role = lambda i: f"arn:aws:iam::{ACCOUNT}:role/r-{i}"
    assume = lambda arn: {"Sid": "AssumeNext", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}
    user = iam.create_user(UserName="chain-user")["User"]["Arn"]
    iam.put_user_policy(UserName="chain-user", PolicyName="chain", PolicyDocument=policy(assume(role(0))))
    for i in range(n):
        previous = user if i == 0 else role(i - 1)
        trust = policy({"Effect": "Allow", "Principal": {"AWS": previous}, "Action": "sts:AssumeRole"})
        iam.create_role(RoleName=f"r-{i}", AssumeRolePolicyDocument=trust)
        statements = []
        if i + 1 < n:
            statements.append(assume(role(i + 1)))
        if i % 10 == 0 and i <= last_reader:
            statements.append({"Sid": "ReadSecret", "Effect": "Allow",
                               "Action": "secretsmanager:GetSecretValue", "Resource": secret})
        if statements:
            iam.put_role_policy(RoleName=f"r-{i}", PolicyName="chain", PolicyDocument=policy(*statements))
    return secret


def write_snapshot(url: str, path: str) -> None:
    """A rolechain.snapshot/v1 of the account from moto's answers, as `rolechain collect` reads them."""
    kw = clients(url)
    iam = boto3.client("iam", **kw)
    sm = boto3.client("secretsmanager", **kw)
    details = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key in details:
            details[key].extend(page.get(key, []))
    secrets = []
    for page in sm.get_paginator("list_secrets").paginate():
        for entry in page["SecretList"]:
            entry = dict(entry)
            entry["ResourcePolicy"] = sm.get_resource_policy(SecretId=entry["ARN"]).get("ResourcePolicy")
            secrets.append(entry)
    snapshot = {
        "schema": "rolechain.snapshot/v1",
        "accounts": [{
            "id": ACCOUNT, "partition": "aws", "iam": details,
            "regions": {"us-east-1": {"secrets": secrets, "ssm_parameters": [], "kms_keys": [],
                                      "ecr_repositories": [], "log_groups": []}},
            "s3_buckets": [],
        }],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(snapshot, f, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))


def main() -> None:
    if "--who-can" in sys.argv:
        args = [a for a in sys.argv[1:] if a != "--who-can"]
        snapshot = None
        if "--snapshot" in args:
            i = args.index("--snapshot")
            snapshot = args[i + 1]
            del args[i:i + 2]
        url, n = args[0], int(args[1])
        print(seed_who_can(url, n))
        if snapshot:
            write_snapshot(url, snapshot)
        return
    url, n = sys.argv[1], int(sys.argv[2])
    extra = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    kw = clients(url)
    iam = boto3.client("iam", **kw)
    sm = boto3.client("secretsmanager", **kw)
    ecs = boto3.client("ecs", **kw)
    secret = sm.create_secret(Name="chain/end", SecretString="x")["ARN"]
    for i in range(n):
        name = f"role-{i:04d}"
        if i == 0:
            principal = {"Service": "ecs-tasks.amazonaws.com"}
        else:
            principal = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/role-{i - 1:04d}"}
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        if i + 1 < n:
            stmt = {"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Resource": f"arn:aws:iam::{ACCOUNT}:role/role-{i + 1:04d}"}
        else:
            stmt = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}
        iam.put_role_policy(RoleName=name, PolicyName="next",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [stmt]}))
    for i in range(extra):
        arn = sm.create_secret(Name=f"extra/{i:04d}", SecretString="x")["ARN"]
        sm.put_resource_policy(SecretId=arn, ResourcePolicy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/role-{i % n:04d}"},
                "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))
    ecs.create_cluster(clusterName="bench")
    ecs.register_task_definition(
        family="head", taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/role-0000",
        containerDefinitions=[{"name": "app", "image": "busybox", "memory": 64}])
    ecs.create_service(cluster="bench", serviceName="head", taskDefinition="head:1", desiredCount=1)


if __name__ == "__main__":
    main()
