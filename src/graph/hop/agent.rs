//! Agent hops: the ECS agent injecting secrets and parameters and pulling images with the
//! execution role (R4.3).

use crate::graph::ecs::ValueFrom;
use crate::graph::hop::{Ask, Note, On, Verdict};
use crate::graph::world::TaskPlace;
use crate::graph::world::{Caller, KeyRef, ResourceInfo, World, arn_account};
use crate::graph::{EdgeKind, EdgeStatus, NodeKind};
use crate::model::arn::ssm_parameter_arn;
use crate::model::{self, Arn, Diagnostic};
use crate::policy::{Blocker, Context, ContextValue, Request, RequestResource};

impl<'a> World<'a> {
    /// The injection of a value into a container by the execution role (agent plane, R4.3).
    ///
    /// The agent calls `secretsmanager:GetSecretValue` on a secret or `ssm:GetParameters` on a
    /// parameter, and `kms:Decrypt` through that service for a value under a customer-managed
    /// key. A secret read through Parameter Store (`via`, the `/aws/reference/secretsmanager/…`
    /// parameter) needs both `ssm:GetParameters` on that parameter and
    /// `secretsmanager:GetSecretValue` on the secret. The verdict's actions are the ones the agent
    /// performs.
    #[allow(
        clippy::too_many_arguments,
        reason = "a task's place (account, region, partition) and the reference's two resources"
    )]
    pub fn inject(
        &self,
        execution_role: Option<&str>,
        task_account: &str,
        task_region: &str,
        partition: &str,
        resource: &ResourceInfo<'a>,
        via: Option<&ResourceInfo<'a>>,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let action = match resource.kind {
            NodeKind::SsmParameter => "ssm:GetParameters",
            _ => "secretsmanager:GetSecretValue",
        };
        let Some(exec) = execution_role else {
            return Verdict::denied(
                Ask::agent(action, On::Id(resource.id.clone())),
                None,
                Note::NoExecutionRoleToFetch,
            );
        };
        let trust = self.ecs_trust(exec, task_account, task_region, partition, diags);
        if trust.status == EdgeStatus::Denied {
            return trust;
        }
        let Some(role) = self.roles.get(exec) else {
            return trust;
        };
        let caller = self.prepare(Caller::Role(role));
        let mut verdict = trust;
        if let Some(parameter) = via {
            verdict = verdict.and(self.access(
                &caller,
                parameter,
                &["ssm:GetParameters".to_string()],
                diags,
            ));
        }
        verdict = verdict.and(self.access(&caller, resource, &[action.to_string()], diags));
        if verdict.status != EdgeStatus::Denied {
            let decrypts = match &resource.encryption_key {
                Some(KeyRef::Key(arn)) => self
                    .resources
                    .get(arn)
                    .is_none_or(|key| !key.aws_managed_key),
                Some(KeyRef::Unresolved(_)) => true,
                Some(KeyRef::AwsManaged | KeyRef::Unknown) | None => false,
            };
            if decrypts {
                verdict.actions.push("kms:Decrypt".to_string());
            }
            verdict.normalize();
        }
        verdict
    }

    /// A value that a task definition names but that does not exist: the snapshot lists the
    /// secrets (or parameters) of its account and region, and it is not among them. ECS cannot
    /// fetch it, so the task fails to start.
    pub fn inject_not_found(&self, resource: &ResourceInfo<'_>) -> Verdict {
        let what = if resource.kind == NodeKind::SsmParameter {
            "parameter"
        } else {
            "secret"
        };
        Verdict::denied(
            Ask::agent(
                &format!("fetch the {what}"),
                On::Object(resource.id.clone()),
            ),
            Some(Blocker::NotFound {
                resource: resource.id.clone(),
            }),
            Note::ValueDoesNotExist {
                what,
                account: resource.account.clone(),
                region: resource.region.clone(),
            },
        )
    }

    /// The image pull of a container by the execution role (agent plane, R4.3).
    pub fn pull(
        &self,
        execution_role: Option<&str>,
        task_account: &str,
        task_region: &str,
        partition: &str,
        repository: &ResourceInfo<'a>,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let Some(exec) = execution_role else {
            return Verdict::denied(
                Ask::agent("ecr:BatchGetImage", On::Id(repository.id.clone())),
                None,
                Note::NoExecutionRoleToPull,
            );
        };
        let trust = self.ecs_trust(exec, task_account, task_region, partition, diags);
        if trust.status == EdgeStatus::Denied {
            return trust;
        }
        let Some(role) = self.roles.get(exec) else {
            return trust;
        };
        let caller = &self.prepare(Caller::Role(role));
        // GetAuthorizationToken is wildcard-only and only an identity policy can grant it.
        let token_text = || Ask::call(exec, "ecr:GetAuthorizationToken", "*");
        let ctx = Context::layered(
            ContextValue::Unknown,
            vec![self.direct(&repository.region), caller.context.clone()],
        );
        let request = Request {
            principal: Self::principal_of(caller),
            action: "ecr:GetAuthorizationToken".to_string(),
            resource: RequestResource::Any,
            resource_account: arn_account(exec).to_string(),
            context: ctx,
        };
        let decision = self.decide(caller, &request, None, "ecr", false, diags);
        let token = Verdict::from_decision(decision, token_text, "*");
        let mut verdict = trust.and(token);
        for action in ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"] {
            verdict = verdict.and(self.access_one(caller, repository, action, diags));
        }
        if verdict.status != EdgeStatus::Denied {
            verdict.actions = vec![
                "ecr:BatchGetImage".to_string(),
                "ecr:GetDownloadUrlForLayer".to_string(),
            ];
        }
        verdict
    }

    /// Resolves and evaluates one reference a container makes to a secret or parameter
    /// (`secrets[]`, `logConfiguration.secretOptions[]`, `repositoryCredentials`): the node it
    /// names, and whether the agent can inject it. The graph builder and `explain` both ask this,
    /// so they decide injections the same way. `None` when the reference cannot be read; a
    /// warning naming its JSON path goes to `diags`.
    pub fn injection(
        &self,
        place: TaskPlace<'_>,
        container: &str,
        reference: &model::SecretRef,
        is_registry_credentials: bool,
        only: Option<&str>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(ResourceInfo<'a>, Verdict)> {
        let TaskPlace {
            definition: td,
            account,
            region,
            partition,
        } = place;
        let warn = |diags: &mut Vec<Diagnostic>, code: &'static str, message: String| {
            diags.push(Diagnostic::warning(
                code,
                container.to_string(),
                format!("`{}`: {message}", reference.field),
            ));
        };
        let parsed = match crate::graph::ecs::parse_value_from(&reference.value_from) {
            Ok(p) => p,
            Err(message) => {
                warn(
                    diags,
                    "bad-value-from",
                    format!("{message}; this reference is not analysed"),
                );
                return None;
            }
        };
        // A secret by ARN (full or partial), resolved against the snapshot's secrets.
        let secret = |arn: &str, diags: &mut Vec<Diagnostic>| match self.lookup_secret(arn) {
            Ok(Some(r)) => Some((r.clone(), true)),
            Ok(None) => self.placeholder(arn).map(|p| (p, false)),
            Err(candidates) => {
                warn(
                    diags,
                    "ambiguous-secret",
                    format!("`{arn}` matches several secrets: {}", candidates.join(", ")),
                );
                self.placeholder(arn).map(|p| (p, false))
            }
        };
        let parameter = |arn: &str| match self.resources.get(arn) {
            Some(r) => Some((r.clone(), true)),
            None => self.placeholder(arn).map(|p| (p, false)),
        };
        let mut via = None;
        let found = match parsed {
            ValueFrom::Secret { arn, .. } => secret(&arn, diags),
            ValueFrom::Name(name) if is_registry_credentials => secret(
                &format!("arn:{partition}:secretsmanager:{region}:{account}:secret:{name}"),
                diags,
            ),
            ValueFrom::Name(name) => {
                parameter(&ssm_parameter_arn(partition, region, account, &name))
            }
            ValueFrom::ParameterArn(arn) => parameter(&arn),
            ValueFrom::SecretReference {
                parameter,
                secret_id,
            } => {
                // The reference parameter lives where the parameter is named: the task's account
                // and region for a name, the ARN's otherwise; the secret is in that place too.
                let (p_partition, p_region, p_account) = match Arn::parse(&parameter) {
                    Ok(arn) => (arn.partition, arn.region, arn.account),
                    Err(_) => (
                        partition.to_string(),
                        region.to_string(),
                        account.to_string(),
                    ),
                };
                let parameter_arn = if parameter.starts_with("arn:") {
                    parameter.clone()
                } else {
                    ssm_parameter_arn(&p_partition, &p_region, &p_account, &parameter)
                };
                via = Some(ResourceInfo {
                    id: parameter_arn,
                    kind: NodeKind::SsmParameter,
                    account: p_account.clone(),
                    region: p_region.clone(),
                    partition: p_partition.clone(),
                    label: parameter.clone(),
                    policy: None,
                    // Parameter Store serves it for every secret; it has no policy of its own.
                    in_snapshot: true,
                    tags: None,
                    encryption_key: None,
                    aws_managed_key: false,
                    bucket: None,
                    acl: None,
                    repository: None,
                });
                let secret_arn = if secret_id.starts_with("arn:") {
                    secret_id
                } else {
                    format!(
                        "arn:{p_partition}:secretsmanager:{p_region}:{p_account}:secret:{secret_id}"
                    )
                };
                secret(&secret_arn, diags)
            }
        };
        let Some((resource, in_snapshot)) = found else {
            warn(
                diags,
                "bad-value-from",
                format!(
                    "`{}` does not name a secret or parameter rolechain can place; this reference is not analysed",
                    reference.value_from
                ),
            );
            return None;
        };
        if only.is_some_and(|id| id != resource.id) {
            return None;
        }
        if !in_snapshot && self.collected(resource.kind, &resource.account, &resource.region) {
            let verdict = self.inject_not_found(&resource);
            return Some((resource, verdict));
        }
        let verdict = self.inject(
            td.execution_role_arn.as_deref(),
            account,
            region,
            partition,
            &resource,
            via.as_ref(),
            diags,
        );
        Some((resource, verdict))
    }

    /// Resolves and evaluates a container's image pull: the ECR repository its image names and
    /// whether the execution role can pull from it. `None` for images outside ECR, and for images
    /// that look like ECR but cannot be read (with a warning naming the JSON path).
    pub fn image_pull(
        &self,
        place: TaskPlace<'_>,
        container_id: &str,
        container: &model::ContainerDefinition,
        only: Option<&str>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(ResourceInfo<'a>, Verdict)> {
        let TaskPlace {
            definition: td,
            account,
            region,
            partition,
        } = place;
        let image = container.image.as_deref()?;
        let repo_arn = match crate::graph::ecs::parse_image_repository(image) {
            Ok(Some(arn)) => arn,
            Ok(None) => return None,
            Err(message) => {
                diags.push(Diagnostic::warning(
                    "bad-image",
                    container_id.to_string(),
                    format!(
                        "`containerDefinitions[{}].image`: {message}; its pull is not analysed",
                        container.index
                    ),
                ));
                return None;
            }
        };
        if only.is_some_and(|id| id != repo_arn) {
            return None;
        }
        let resource = match self.resources.get(&repo_arn) {
            Some(r) => r.clone(),
            None => self.placeholder(&repo_arn)?,
        };
        let mut verdict = self.pull(
            td.execution_role_arn.as_deref(),
            account,
            region,
            partition,
            &resource,
            diags,
        );
        if !resource.in_snapshot
            && verdict.status != EdgeStatus::Denied
            && self.collected(resource.kind, &resource.account, &resource.region)
        {
            verdict = verdict.note(Note::RepositoryNotListed {
                account: resource.account.clone(),
                region: resource.region.clone(),
                repository: resource.label.clone(),
            });
        }
        Some((resource, verdict))
    }

    /// Every reference a container makes, decided: each secret or parameter it injects
    /// (`secrets[]`, `logConfiguration.secretOptions[]`, `repositoryCredentials`) and the ECR
    /// repository it pulls its image from, with the node each names. The graph builder,
    /// `explain` and `findings` all take a container's references from here. With `only`, just
    /// the references that name that node are decided (the others are still read, so their
    /// warnings are the same).
    pub fn container_references(
        &self,
        place: TaskPlace<'_>,
        container_id: &str,
        container: &model::ContainerDefinition,
        only: Option<&str>,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<(EdgeKind, ResourceInfo<'a>, Verdict)> {
        let references = container
            .secrets
            .iter()
            .chain(container.log_secret_options.iter())
            .map(|r| (r, false))
            .chain(container.repository_credentials.iter().map(|r| (r, true)));
        let mut out = Vec::new();
        for (reference, is_registry_credentials) in references {
            if let Some((resource, verdict)) = self.injection(
                place,
                container_id,
                reference,
                is_registry_credentials,
                only,
                diags,
            ) {
                out.push((EdgeKind::Injects, resource, verdict));
            }
        }
        if let Some((resource, verdict)) =
            self.image_pull(place, container_id, container, only, diags)
        {
            out.push((EdgeKind::Pulls, resource, verdict));
        }
        out
    }
}
