//! Workload accounts: ECS services with their task and execution roles, task definitions and
//! running tasks, and the secrets, parameters, keys, buckets and log groups they use.

use std::collections::BTreeMap;

use rolechain::collect::snapshot::{
    AccountDto, BucketDto, ClusterDto, ContainerDto, EcsDto, Lenient, LogConfigurationDto,
    LogGroupDto, RegionDto, SecretDto, SecretRefDto, ServiceDto, SsmParameterDto,
    TaskDefinitionDto, TaskDto,
};
use serde_json::json;

use super::Summary;
use super::iam::{EXEC_POLICY, as_string, policy, tag};
use super::plan::{Account, DATA, Gen, HOME_REGION, Layout, SHARED, Service};
use super::random::{Choice, HEX, alnum};

const BUCKET_PURPOSES: &[&str] = &["uploads", "exports", "artifacts", "archive", "reports"];

impl Gen<'_> {
    /// A workload account: its services, what they read, and the usual roles.
    pub(super) fn workload(&self, a: &Account, summary: &mut Summary) -> AccountDto {
        let acct = &a.id;
        let r = a.region;
        let env = a.env.as_str();
        let layout = self.layout();
        let s_count = self.c.services_per_account;
        let app_key = self.key_arn(a.idx, r, 0);
        let shared_key = self.key_arn(SHARED, HOME_REGION, 0);
        let via = json!([
            format!("secretsmanager.{r}.amazonaws.com"),
            format!("ssm.{r}.amazonaws.com")
        ]);

        // Roles: the account's two standard roles, two per service, chain hops, then fillers.
        let mut roles = vec![
            self.org_admin_role(a),
            Gen::role(
                a,
                "ecsTaskExecutionRole",
                Gen::ecs_trust(a),
                vec![],
                &[EXEC_POLICY],
                &[],
            ),
        ];
        let baseline_arn = format!("arn:aws:iam::{acct}:policy/app-baseline");
        let services: Vec<Service> = (0..s_count).map(|s| self.service(a, s)).collect();
        for svc in &services {
            let name = &svc.name;
            let tags = [("app", svc.app), ("env", env)];
            let mut statements = vec![
                json!({"Sid": "ReadOwnConfig", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                       "Resource": format!("arn:aws:ssm:{r}:{acct}:parameter/{env}/{name}/*")}),
                json!({"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                       "Resource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/{name}/*")}),
                json!({"Sid": "DecryptOwnValues", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [&app_key, &shared_key],
                       "Condition": {"StringEquals": {"kms:ViaService": via}}}),
                json!({"Sid": "OwnObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                       "Resource": format!("arn:aws:s3:::{}-{name}-*/*", Gen::bucket_prefix(a))}),
                json!({"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"],
                       "Resource": format!("arn:aws:logs:{r}:{acct}:log-group:/ecs/{env}/{name}:*")}),
            ];
            match svc.profile % 100 {
                // A broad reader of the environment's secrets, fenced by a Deny.
                0..=14 => {
                    statements.push(json!({"Sid": "ReadEnvironmentSecrets", "Effect": "Allow", "Action": "secretsmanager:Get*",
                                           "Resource": format!("arn:aws:secretsmanager:*:{acct}:secret:{env}/*")}));
                    statements.push(json!({"Sid": "ExceptPayments", "Effect": "Deny", "Action": "secretsmanager:*",
                                           "Resource": format!("arn:aws:secretsmanager:*:{acct}:secret:{env}/payments-*")}));
                }
                // A power user: everything but identity, minus secrets and keys.
                15..=19 => {
                    statements.push(json!({"Sid": "Broad", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "sts:*"], "Resource": "*"}));
                    statements.push(json!({"Sid": "NoSecretValues", "Effect": "Deny", "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"], "NotResource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/{name}/*")}));
                }
                // Whole buckets of the account.
                20..=29 => {
                    statements.push(json!({"Sid": "AllBuckets", "Effect": "Allow", "Action": "s3:*",
                                           "Resource": [format!("arn:aws:s3:::{}-*", Gen::bucket_prefix(a)), format!("arn:aws:s3:::{}-*/*", Gen::bucket_prefix(a))]}));
                }
                _ => {}
            }
            let first_hop = self
                .starts
                .get(&(a.idx, svc.s))
                .and_then(|&c| self.chains.get(c))
                .and_then(|chain| chain.hops.first());
            if let Some(first) = first_hop {
                statements.push(json!({"Sid": "StartChain", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": self.role_arn_of(first.account, &first.name)}));
            }
            if svc.app == "reporting" {
                statements.push(json!({"Sid": "AssumeAnalytics", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": self.role_arn_of(DATA, "analytics-readonly")}));
            }
            roles.push(Gen::role(
                a,
                &format!("{name}-task"),
                Gen::ecs_trust(a),
                vec![(format!("{name}-app"), policy(statements))],
                &[&baseline_arn],
                &tags,
            ));
            if !svc.shared_exec {
                let mut exec = vec![
                    json!({"Sid": "ReadInjectedSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                           "Resource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/{name}/*")}),
                    json!({"Sid": "ReadInjectedParameters", "Effect": "Allow", "Action": "ssm:GetParameters",
                           "Resource": format!("arn:aws:ssm:{r}:{acct}:parameter/{env}/{name}/*")}),
                    json!({"Sid": "DecryptInjectedValues", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [&app_key, &shared_key],
                           "Condition": {"StringEquals": {"kms:ViaService": via}}}),
                ];
                if svc.profile % 20 == 7 {
                    exec.push(json!({"Sid": "NoSigningKeys", "Effect": "Deny", "Action": "secretsmanager:GetSecretValue",
                                     "Resource": format!("arn:aws:secretsmanager:{r}:{acct}:secret:{env}/*/signing-key*")}));
                }
                roles.push(Gen::role(
                    a,
                    &format!("{name}-exec"),
                    Gen::ecs_trust(a),
                    vec![(format!("{name}-inject"), policy(exec))],
                    &[EXEC_POLICY],
                    &tags,
                ));
            }
        }
        roles.extend(self.chain_roles(a));
        self.fill(a, &mut roles);
        let baseline = policy(vec![
            json!({"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": format!("arn:aws:logs:{r}:{acct}:log-group:/ecs/*")}),
            json!({"Sid": "ReadSharedConfig", "Effect": "Allow", "Action": "ssm:GetParameter*", "Resource": format!("arn:aws:ssm:{r}:{acct}:parameter/shared/*")}),
            json!({"Sid": "NeverBreakGlass", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": format!("arn:aws:secretsmanager:*:{acct}:secret:{env}/breakglass/*")}),
        ]);
        let mut policies = Gen::aws_managed_policies();
        policies.push(Gen::managed_policy(
            &baseline_arn,
            "app-baseline",
            &baseline,
        ));
        let iam = Gen::iam(roles, policies, summary);

        // Resources.
        let key_policy = policy(vec![
            json!({"Sid": "EnableIAMUserPermissions", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)}, "Action": "kms:*", "Resource": "*"}),
            json!({"Sid": "AllowKeyAdministration", "Effect": "Allow", "Principal": {"AWS": Gen::role_arn(a, "OrganizationAccountAccessRole")},
                   "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*", "kms:Get*"], "Resource": "*"}),
            json!({"Sid": "AllowSecretsAndParameters", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(acct)},
                   "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*"], "Resource": "*",
                   "Condition": {"StringEquals": {"kms:CallerAccount": acct, "kms:ViaService": via}}}),
        ]);
        let mut keys =
            vec![self.kms_key(a, r, 0, &format!("alias/{env}/app-secrets"), &key_policy)];
        if layout.kms > 1 {
            keys.push(self.kms_key(a, r, 1, &format!("alias/{env}/logs"), &key_policy));
        }
        let mut secrets = Vec::with_capacity(layout.secrets);
        for j in 0..layout.secrets {
            let h = self.hash(&[Choice::SecretKey as u64, a.idx as u64, j as u64]);
            let mut secret = SecretDto {
                arn: self.secret_arn(a, j),
                name: Some(self.secret_name(a, j)),
                kms_key_id: None,
                tags: vec![
                    tag("app", self.service(a, j % s_count).app),
                    tag("env", env),
                ],
                resource_policy: None,
            };
            match h % 10 {
                0 if r == HOME_REGION => secret.kms_key_id = Some(shared_key.clone()),
                1 => {}
                _ => secret.kms_key_id = Some(format!("alias/{env}/app-secrets")),
            }
            if self.hash(&[Choice::SecretPolicy as u64, a.idx as u64, j as u64]) % 10 == 0 {
                secret.resource_policy = Some(as_string(&policy(vec![
                    json!({"Sid": "OnlyThisAccount", "Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*",
                           "Condition": {"StringNotEquals": {"aws:PrincipalAccount": acct}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}),
                ])));
            }
            secrets.push(secret);
        }
        let params: Vec<SsmParameterDto> = (0..layout.params)
            .map(|j| {
                let secure =
                    self.hash(&[Choice::ParamType as u64, a.idx as u64, j as u64]) % 2 == 0;
                let key = if secure {
                    Some(format!("alias/{env}/app-secrets"))
                } else {
                    None
                };
                Gen::parameter(a, r, &self.param_name(a, j), secure, key.as_deref())
            })
            .collect();
        let logs: Vec<LogGroupDto> = (0..layout.logs)
            .map(|j| {
                let name = match services.get(j) {
                    Some(svc) => format!("/ecs/{env}/{}", svc.name),
                    None => format!("/aws/lambda/{env}-job-{j}"),
                };
                LogGroupDto {
                    arn: Some(format!("arn:aws:logs:{r}:{acct}:log-group:{name}:*")),
                    log_group_name: name,
                    tags: None,
                }
            })
            .collect();
        let buckets: Vec<BucketDto> = (0..layout.buckets)
            .map(|j| {
                let svc = &services[j % s_count];
                let purpose = BUCKET_PURPOSES[(j / s_count) % BUCKET_PURPOSES.len()];
                let name = format!("{}-{}-{purpose}-{j}", Gen::bucket_prefix(a), svc.name);
                let both = json!([format!("arn:aws:s3:::{name}"), format!("arn:aws:s3:::{name}/*")]);
                let p = match self.hash(&[Choice::BucketPolicy as u64, a.idx as u64, j as u64]) % 10 {
                    0..=4 => Some(as_string(&policy(vec![json!({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": both,
                                                          "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]))),
                    5 => Some(as_string(&policy(vec![json!({"Sid": "BackupFromSharedServices", "Effect": "Allow", "Principal": {"AWS": Gen::root_arn(&self.account_id(SHARED))},
                                                       "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": both})]))),
                    _ => None,
                };
                Gen::bucket(name, r, p)
            })
            .collect();

        // ECS.
        let clusters: Vec<ClusterDto> = ["web", "workers"]
            .iter()
            .take(s_count.min(2))
            .map(|c| {
                let name = format!("{env}-{c}");
                ClusterDto {
                    cluster_arn: format!("arn:aws:ecs:{r}:{acct}:cluster/{name}"),
                    cluster_name: Some(name),
                }
            })
            .collect();
        let mut ecs_services = Vec::with_capacity(s_count);
        let mut task_definitions = Vec::with_capacity(s_count);
        let mut tasks = Vec::with_capacity(s_count);
        for svc in &services {
            let td_arn = self.task_definition_arn(a, svc);
            let cluster_arn = format!("arn:aws:ecs:{r}:{acct}:cluster/{}", svc.cluster);
            let launch = if svc.profile % 10 == 9 {
                "EC2"
            } else {
                "FARGATE"
            };
            ecs_services.push(ServiceDto {
                service_arn: format!(
                    "arn:aws:ecs:{r}:{acct}:service/{}/{}",
                    svc.cluster, svc.name
                ),
                service_name: Some(svc.name.clone()),
                cluster_arn: Some(cluster_arn.clone()),
                task_definition: Some(td_arn.clone()),
                launch_type: Some(launch.to_string()),
                capacity_provider_strategy: Vec::new(),
                enable_execute_command: None,
            });
            let containers = self.containers(a, svc, &layout, summary);
            summary.containers += containers.len();
            let exec_name = if svc.shared_exec {
                "ecsTaskExecutionRole".to_string()
            } else {
                format!("{}-exec", svc.name)
            };
            task_definitions.push(Lenient::Read(TaskDefinitionDto {
                task_definition_arn: td_arn.clone(),
                family: Some(svc.name.clone()),
                revision: Some(svc.revision),
                task_role_arn: Some(Gen::role_arn(a, &format!("{}-task", svc.name))),
                execution_role_arn: Some(Gen::role_arn(a, &exec_name)),
                network_mode: Some("awsvpc".to_string()),
                requires_compatibilities: vec![launch.to_string()],
                container_definitions: containers,
            }));
            let task_id = alnum(
                self.hash(&[Choice::TaskId as u64, a.idx as u64, svc.s as u64]),
                32,
                HEX,
            );
            tasks.push(TaskDto {
                task_arn: format!("arn:aws:ecs:{r}:{acct}:task/{}/{task_id}", svc.cluster),
                cluster_arn: Some(cluster_arn),
                task_definition_arn: td_arn,
                group: Some(format!("service:{}", svc.name)),
                launch_type: Some(launch.to_string()),
                container_instance_arn: None,
                overrides: None,
                enable_execute_command: None,
            });
        }
        summary.services += services.len();
        summary.secrets += secrets.len();
        summary.parameters += params.len();
        summary.kms_keys += keys.len();
        summary.log_groups += logs.len();
        summary.buckets += buckets.len();
        let region = RegionDto {
            ecs: Some(EcsDto {
                clusters: Some(clusters),
                services: Some(ecs_services),
                task_definitions: Some(task_definitions),
                tasks: Some(tasks),
                container_instances: None,
            }),
            secrets: Some(secrets),
            ssm_parameters: Some(params),
            kms_keys: Some(keys),
            ecr_repositories: Some(Vec::new()),
            log_groups: Some(logs),
            ec2_instances: None,
        };
        Gen::account_frame(a, iam, region, buckets)
    }

    /// The containers of a service: the app (image from the shared ECR, injected secrets and
    /// parameters), then sidecars.
    fn containers(
        &self,
        a: &Account,
        svc: &Service,
        layout: &Layout,
        summary: &mut Summary,
    ) -> Vec<ContainerDto> {
        let s_count = self.c.services_per_account;
        let env = a.env.as_str();
        let log = |prefix: &str| LogConfigurationDto {
            log_driver: Some("awslogs".to_string()),
            options: BTreeMap::from([
                (
                    "awslogs-group".to_string(),
                    format!("/ecs/{env}/{}", svc.name),
                ),
                ("awslogs-region".to_string(), a.region.to_string()),
                ("awslogs-stream-prefix".to_string(), prefix.to_string()),
            ]),
            secret_options: Vec::new(),
        };
        let mut secrets = Vec::new();
        let h = self.hash(&[Choice::Injection as u64, a.idx as u64, svc.s as u64]);
        // The service's own secrets are j = s, s + S, …; inject up to two of them.
        for (k, j) in (svc.s..layout.secrets)
            .step_by(s_count)
            .take(1 + (h % 2) as usize)
            .enumerate()
        {
            let arn = self.secret_arn(a, j);
            let value_from = if k == 0 && h % 3 == 0 {
                format!("{arn}:password::")
            } else {
                arn
            };
            secrets.push(SecretRefDto {
                name: format!("SECRET_{k}"),
                value_from,
            });
        }
        for (k, j) in (svc.s..layout.params)
            .step_by(s_count)
            .take((h >> 8) as usize % 3)
            .enumerate()
        {
            let name = self.param_name(a, j);
            let value_from = if k == 1 {
                format!("arn:aws:ssm:{}:{}:parameter{name}", a.region, a.id)
            } else {
                name
            };
            secrets.push(SecretRefDto {
                name: format!("PARAM_{k}"),
                value_from,
            });
        }
        summary.injections += secrets.len();
        let repo = self.repo_name(svc.repo);
        let shared = self.account_id(SHARED);
        let container =
            |name: &str, image: String, secrets: Vec<SecretRefDto>, prefix: &str| ContainerDto {
                name: name.to_string(),
                image: Some(image),
                secrets,
                log_configuration: Some(log(prefix)),
                repository_credentials: None,
            };
        let mut out = vec![container(
            "app",
            format!(
                "{shared}.dkr.ecr.{HOME_REGION}.amazonaws.com/{repo}:2025.11.{}",
                svc.revision
            ),
            secrets,
            "app",
        )];
        if svc.containers >= 2 {
            out.push(container(
                "envoy",
                "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod".to_string(),
                Vec::new(),
                "envoy",
            ));
        }
        if svc.containers >= 3 {
            out.push(container(
                "otel-collector",
                format!(
                    "{shared}.dkr.ecr.{HOME_REGION}.amazonaws.com/{}:0.98.0",
                    self.repo_name(0)
                ),
                Vec::new(),
                "otel",
            ));
        }
        out
    }
}
