//! Escalation hops: a principal that can make ECS run code of its choosing with a role's
//! credentials, or in a container's place (R4.6 of docs/iam-semantics.md).
//!
//! Every required action is evaluated like any other request, with the caller's identity
//! policies, boundary and SCPs (ECS and IAM have no resource policies; ECR repositories do, and
//! are evaluated as access hops). Nothing is inferred from action names. The names a caller
//! would choose (a new task definition's family, a new service's name) are "some resource under"
//! the account's prefix: an Allow that covers some of them suffices, and a Deny that covers only
//! some leaves the hop conditional.

use crate::graph::EdgeStatus;
use crate::graph::hop::{Ask, Note, On, Verdict};
use crate::graph::world::{ECS_TASKS, Prepared, ResourceInfo, TaskPlace, World, arn_account};
use crate::model::{self, Diagnostic};
use crate::policy::{Context, ContextValue, Request, RequestResource};

/// The calls that start tasks of a task definition the caller registers; one suffices.
pub const LAUNCH_ACTIONS: [&str; 4] = [
    "ecs:RunTask",
    "ecs:StartTask",
    "ecs:CreateService",
    "ecs:UpdateService",
];

/// The calls that run an existing task definition with overrides; one suffices.
pub const RUN_ACTIONS: [&str; 2] = ["ecs:RunTask", "ecs:StartTask"];

/// What pushing an image to a repository takes, on the repository (with its policy); all are
/// needed, with `ecr:GetAuthorizationToken`, which only identity policies grant.
/// `ecr:PutImage` comes first: it is the one most principals lack, so most pushes are decided by
/// one evaluation.
pub const PUSH_ACTIONS: [&str; 5] = [
    "ecr:PutImage",
    "ecr:BatchCheckLayerAvailability",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
];

/// The prefix of the ARNs of ECS resources of one type (`task-definition`, `service`, `task`,
/// `cluster`) in an account and region: the names a caller would choose lie under it.
pub(in crate::graph) fn ecs_prefix(
    partition: &str,
    region: &str,
    account: &str,
    kind: &str,
) -> String {
    format!("arn:{partition}:ecs:{region}:{account}:{kind}/")
}

/// How a principal comes to run code as a role or in a container's place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Technique {
    /// `iam:PassRole` on the role, `ecs:RegisterTaskDefinition`, and a call that starts the
    /// task (`RunTask`, `StartTask`, `CreateService` or `UpdateService`).
    PassRole,
    /// `ecs:RunTask` (or `StartTask`) on an existing task definition with container overrides,
    /// and `iam:PassRole` on the roles it names (ECS checks them at launch).
    RunTask,
    /// `ecs:ExecuteCommand` on a running task with ECS Exec turned on.
    ExecuteCommand,
    /// Pushing an image to a repository a container pulls by tag.
    ImagePush,
}

impl Technique {
    /// The contract name: `pass-role`, `run-task`, `execute-command`, `image-push`.
    pub fn as_str(self) -> &'static str {
        match self {
            Technique::PassRole => "pass-role",
            Technique::RunTask => "run-task",
            Technique::ExecuteCommand => "execute-command",
            Technique::ImagePush => "image-push",
        }
    }
}

impl<'a> World<'a> {
    /// A call of the caller's own account that only identity policies, the boundary and SCPs
    /// decide: ECS and IAM have no resource policies, and their APIs act in the caller's account.
    fn own_call(
        &self,
        caller: &Prepared<'a>,
        action: &str,
        resource: RequestResource,
        region: &str,
        extra: &[(&str, ContextValue)],
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let target = match &resource {
            RequestResource::Any => "*".to_string(),
            RequestResource::Arn(a) => a.clone(),
            RequestResource::Under(p) => format!("{p}…"),
        };
        let request_text = || Ask::call(caller.id(), action, &target);
        let mut ctx = Context::layered(
            ContextValue::Unknown,
            vec![self.direct(region), caller.context.clone()],
        );
        for (key, value) in extra {
            ctx.set(key, value.clone());
        }
        let request = Request {
            principal: Self::principal_of(caller),
            action: action.to_string(),
            resource,
            resource_account: caller.caller.account().to_string(),
            context: ctx,
        };
        let service = action.split_once(':').map_or(action, |(s, _)| s);
        let decision = self.decide(caller, &request, None, service, false, diags);
        let verdict = Verdict::from_decision(decision, request_text, &target);
        if verdict.status == EdgeStatus::Denied {
            verdict
        } else {
            Verdict {
                actions: vec![action.to_string()],
                ..verdict
            }
        }
    }

    /// The first of `actions` that is allowed outright, with its proof alone; else the
    /// conditional ones joined, or the denial.
    fn any_of(
        &self,
        caller: &Prepared<'a>,
        actions: &[&str],
        resource: impl Fn(&str) -> RequestResource,
        region: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let mut result: Option<Verdict> = None;
        for action in actions {
            let v = self.own_call(caller, action, resource(action), region, &[], diags);
            if v.status == EdgeStatus::Allowed {
                return v;
            }
            result = Some(match result {
                None => v,
                Some(prev) => prev.or(v),
            });
        }
        result.unwrap_or_else(Verdict::allowed)
    }

    /// `iam:PassRole` of `role` to ECS tasks, which holds only for roles of the caller's own
    /// account (R4.1).
    pub fn pass_role(
        &self,
        caller: &Prepared<'a>,
        role: &str,
        region: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        if arn_account(role) != caller.caller.account() {
            return Verdict::denied(
                Ask::call(caller.id(), "iam:PassRole", role),
                None,
                Note::PassRoleOfOtherAccount {
                    role: role.to_string(),
                },
            );
        }
        self.own_call(
            caller,
            "iam:PassRole",
            RequestResource::Arn(role.to_string()),
            region,
            &[(
                "iam:PassedToService",
                ContextValue::Single(ECS_TASKS.to_string()),
            )],
            diags,
        )
    }

    /// Registering a task definition of the caller's choosing in `region` of its account and
    /// starting it: `ecs:RegisterTaskDefinition` and one of [`LAUNCH_ACTIONS`]. The roles it names
    /// are passed separately ([`World::pass_role`]).
    ///
    /// `RegisterTaskDefinition` is evaluated on "some task definition of the account", so an
    /// Allow naming task definitions matches as well as `*`.
    pub fn launch_new(
        &self,
        caller: &Prepared<'a>,
        partition: &str,
        region: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let account = caller.caller.account();
        let definitions = ecs_prefix(partition, region, account, "task-definition");
        let services = ecs_prefix(partition, region, account, "service");
        let register = self.own_call(
            caller,
            "ecs:RegisterTaskDefinition",
            RequestResource::Under(definitions.clone()),
            region,
            &[],
            diags,
        );
        if register.status == EdgeStatus::Denied {
            return register;
        }
        let start = self.any_of(
            caller,
            &LAUNCH_ACTIONS,
            |action| match action {
                "ecs:CreateService" | "ecs:UpdateService" => {
                    RequestResource::Under(services.clone())
                }
                _ => RequestResource::Under(definitions.clone()),
            },
            region,
            diags,
        );
        register.and(start)
    }

    /// False when no call of `actions` on any resource under `prefix` (of the caller's account)
    /// can be allowed: then none on a resource under it can be either, because an Allow that
    /// matches one of them covers part of the prefix. A gate before evaluating them one by one.
    pub fn may_call_under(
        &self,
        caller: &Prepared<'a>,
        actions: &[&str],
        prefix: &str,
        region: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        let v = self.any_of(
            caller,
            actions,
            |_| RequestResource::Under(prefix.to_string()),
            region,
            diags,
        );
        v.status != EdgeStatus::Denied
    }

    /// `ecr:GetAuthorizationToken` in `region`, which only identity policies grant: the first
    /// call of every image push.
    pub fn registry_token(
        &self,
        caller: &Prepared<'a>,
        region: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        self.own_call(
            caller,
            "ecr:GetAuthorizationToken",
            RequestResource::Any,
            region,
            &[],
            diags,
        )
    }

    /// `ecs:CreateCluster` in `region` of the caller's account, for a task where it has no
    /// cluster yet.
    pub fn create_cluster(
        &self,
        caller: &Prepared<'a>,
        partition: &str,
        region: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let account = caller.caller.account();
        self.own_call(
            caller,
            "ecs:CreateCluster",
            RequestResource::Under(ecs_prefix(partition, region, account, "cluster")),
            region,
            &[],
            diags,
        )
    }

    /// Starting an existing task definition: one of [`RUN_ACTIONS`] on it. The roles the task
    /// gets are passed separately: its own ([`World::run_existing`]), or overrides of both the
    /// task role and the execution role, which may be any role the caller can pass.
    pub fn run_definition(
        &self,
        caller: &Prepared<'a>,
        place: TaskPlace<'_>,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        if place.account != caller.caller.account() {
            return Verdict::denied(
                Ask::call(caller.id(), "ecs:RunTask", &place.definition.arn),
                None,
                Note::RunTaskOtherAccount,
            );
        }
        let arn = &place.definition.arn;
        self.any_of(
            caller,
            &RUN_ACTIONS,
            |_| RequestResource::Arn(arn.clone()),
            place.region,
            diags,
        )
    }

    /// Running an existing task definition with its own roles and the caller's command
    /// (container overrides): [`World::run_definition`], and `iam:PassRole` on its execution
    /// role and task role, which ECS checks at launch.
    pub fn run_existing(
        &self,
        caller: &Prepared<'a>,
        place: TaskPlace<'_>,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let mut verdict = self.run_definition(caller, place, diags);
        let definition = place.definition;
        let roles = [
            definition.execution_role_arn.as_deref(),
            definition.task_role_arn.as_deref(),
        ];
        for role in roles.into_iter().flatten() {
            if verdict.status == EdgeStatus::Denied {
                break;
            }
            verdict = verdict.and(self.pass_role(caller, role, place.region, diags));
        }
        verdict
    }

    /// `ecs:ExecuteCommand` on a running task (or on some task of a service's cluster), for
    /// tasks with ECS Exec turned on; `exec` is that setting, `None` when not collected.
    pub fn execute_command(
        &self,
        caller: &Prepared<'a>,
        task: RequestResource,
        account: &str,
        region: &str,
        exec: Option<bool>,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let text = || Ask {
            on: On::Nothing,
            ..Ask::call(caller.id(), "ecs:ExecuteCommand", "")
        };
        if account != caller.caller.account() {
            return Verdict::denied(text(), None, Note::ExecOtherAccount);
        }
        if exec == Some(false) {
            return Verdict::denied(text(), None, Note::ExecOff);
        }
        let verdict = self.own_call(caller, "ecs:ExecuteCommand", task, region, &[], diags);
        match exec {
            None => verdict.conditional(Note::ExecUnknown),
            Some(_) => verdict,
        }
    }

    /// Pushing an image to `repository`: `ecr:GetAuthorizationToken` (identity policies only)
    /// and every one of [`PUSH_ACTIONS`] on the repository, each an access hop with its policy.
    /// A repository whose tags are immutable cannot have a tag in use replaced.
    pub fn push_image(
        &self,
        caller: &Prepared<'a>,
        repository: &ResourceInfo<'a>,
        token: &Verdict,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let mutability = repository
            .repository
            .and_then(|r: &model::EcrRepository| r.image_tag_mutability.as_deref());
        if mutability == Some("IMMUTABLE") {
            return Verdict::denied(
                Ask::call(caller.id(), "ecr:PutImage", &repository.id),
                None,
                Note::TagsImmutable {
                    repository: repository.label.clone(),
                },
            );
        }
        let mut verdict = token.clone();
        for action in PUSH_ACTIONS {
            if verdict.status == EdgeStatus::Denied {
                return verdict;
            }
            let mut one = self.access_one(caller, repository, action, diags);
            if one.status != EdgeStatus::Denied {
                one.actions = vec![action.to_string()];
            }
            verdict = verdict.and(one);
        }
        match mutability {
            Some(m) if m.ends_with("_WITH_EXCLUSION") => {
                verdict.conditional(Note::TagsMutableWithExclusion {
                    repository: repository.label.clone(),
                    setting: m.to_string(),
                })
            }
            None if verdict.status != EdgeStatus::Denied => {
                verdict.note(Note::TagMutabilityUnknown {
                    repository: repository.label.clone(),
                })
            }
            _ => verdict,
        }
    }
}
