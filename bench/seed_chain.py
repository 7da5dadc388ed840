"""Seeds a moto server with a one-account chain of N roles for the collection benchmark.

role-0000 is an ECS task role; each role-i may assume role-(i+1), and the last one reads a
secret. One cluster, service and task definition use role-0000. N/5 more secrets, each with a
resource policy, make one GetResourcePolicy call each: the per-resource calls that
`--concurrency` overlaps. Seeding runs from one thread,
because moto's server is not safe for concurrent writes.

Usage: python3 bench/seed_chain.py ENDPOINT_URL N
"""

import json
import sys

import boto3

ACCOUNT = "123456789012"


def main() -> None:
    url, n = sys.argv[1], int(sys.argv[2])
    extra = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    kw = dict(endpoint_url=url, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
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
