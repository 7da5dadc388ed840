//! ECS privilege escalation: which principals can make ECS run code of their choosing as a role,
//! or in a container's place, and so hold what it holds. The hops themselves are decided by
//! [`super::hop`] (`escalate.rs`); this module finds what each principal could escalate to.
//!
//! Four ways, each needing every one of its actions to be allowed:
//! - `pass-role`: `iam:PassRole` on a role that trusts ECS tasks, `ecs:RegisterTaskDefinition`
//!   and a call that starts the task; or a task definition of the account run with a task-role
//!   override. The edge ends at the role.
//! - `run-task`: `ecs:RunTask`/`StartTask` on an existing task definition, with `iam:PassRole`
//!   on the roles it names (ECS checks them at launch): the caller's command runs in its
//!   containers' place. The edges end at its containers.
//! - `execute-command`: `ecs:ExecuteCommand` on a task with ECS Exec turned on: a shell in its
//!   containers.
//! - `image-push`: pushing to an ECR repository that containers pull by tag (not by digest).
//!
//! Escalating into a container gives its task role and the values the agent injects into it,
//! which the paths then follow.

use std::collections::{BTreeMap, BTreeSet};

use super::hop::{Note, RUN_ACTIONS, Verdict, ecs_prefix};
use super::index::{ResourceIndex, statement_services};
use super::world::{Caller, Prepared, ResourceInfo, TaskPlace, World, arn_account, container_id};
use super::{EdgeStatus, NodeKind};
use crate::model::arn::last_segment;
use crate::model::{self, Diagnostic};
use crate::policy::RequestResource;

/// The services that some Allow of these identity policies names, `None` for every service (a
/// wildcard service or `NotAction`). Where no Allow names a service, no call of it can be allowed:
/// ECS and IAM have no resource policies, and an ECR push needs `ecr:GetAuthorizationToken`,
/// which only identity policies grant.
fn allowed_services<'d>(
    documents: impl Iterator<Item = &'d model::PolicyDocument>,
) -> Option<BTreeSet<String>> {
    let mut services = BTreeSet::new();
    for doc in documents {
        for s in &doc.statements {
            if s.effect != model::Effect::Allow {
                continue;
            }
            services.extend(statement_services(
                s.action.as_ref(),
                s.not_action.is_some(),
            )?);
        }
    }
    Some(services)
}

/// True when some Allow of these identity policies could grant `action` (a `NotAction` Allow
/// always could).
fn identity_may_allow<'d>(
    documents: impl Iterator<Item = &'d model::PolicyDocument>,
    action: &str,
) -> bool {
    documents
        .flat_map(|d| &d.statements)
        .filter(|s| s.effect == model::Effect::Allow)
        .any(|s| {
            s.not_action.is_some()
                || s.action
                    .iter()
                    .flatten()
                    .any(|pattern| crate::policy::matching::action_matches(pattern, action))
        })
}

/// False when a caller with these identity policies surely escalates nowhere (see
/// [`Targets::of`]): no Allow names ECS or ECR.
pub(super) fn may_escalate<'d>(documents: impl Iterator<Item = &'d model::PolicyDocument>) -> bool {
    allowed_services(documents).is_none_or(|s| s.contains("ecs") || s.contains("ecr"))
}

/// A task that ECS Exec may open a shell in: a running task, or some task of a service.
struct ExecTarget<'a> {
    task: RequestResource,
    region: &'a str,
    exec: Option<bool>,
    place: TaskPlace<'a>,
    what: String,
}

/// The roles and containers whose escalations are wanted, when not every one is: a build toward
/// one resource asks only for those it has found on a path to it.
pub(super) struct Wanted<'w> {
    /// Role ARNs.
    pub(super) roles: &'w BTreeSet<String>,
    /// Container ids.
    pub(super) containers: &'w BTreeSet<String>,
}

/// What principals could escalate to, indexed once per build.
pub(super) struct Targets<'a> {
    /// account → (region, partition) where a task could be started: the regions the snapshot
    /// holds for the account, or, for an account with none, every region of the snapshot.
    regions: BTreeMap<&'a str, BTreeSet<(&'a str, &'a str)>>,
    /// (account, region) → whether the account has a cluster there; `None` when the clusters
    /// there were not collected.
    clusters: BTreeMap<(&'a str, &'a str), bool>,
    /// (account, region) → roles ECS may assume for a task there, with that trust's verdict.
    ecs_roles: BTreeMap<(&'a str, &'a str), Vec<(&'a str, Verdict)>>,
    /// account → its task definitions.
    definitions: BTreeMap<&'a str, Vec<TaskPlace<'a>>>,
    /// account → tasks ECS Exec may serve.
    exec: BTreeMap<&'a str, Vec<ExecTarget<'a>>>,
    /// Repositories that containers pull by tag, and (at the same position) those containers.
    repositories: Vec<ResourceInfo<'a>>,
    pulled_by: Vec<Vec<String>>,
    index: ResourceIndex,
    /// Every repository is a push candidate, as [`super::BuildOptions::exhaustive`] asks.
    exhaustive: bool,
    /// The containers escalations may end at; `None` for all.
    containers: Option<BTreeSet<String>>,
    /// What indexing noticed (trust evaluation).
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl<'a> Targets<'a> {
    /// Every role and container a principal could escalate to (`wanted` `None`), or only those
    /// of `wanted`: the others are left out before any of their hops is evaluated.
    pub(super) fn new(
        world: &World<'a>,
        exhaustive: bool,
        wanted: Option<&Wanted<'_>>,
    ) -> Targets<'a> {
        let wants_role = |arn: &str| wanted.is_none_or(|w| w.roles.contains(arn));
        let wants_container = |id: &str| wanted.is_none_or(|w| w.containers.contains(id));
        let wants_any = |td: &model::TaskDefinition| {
            wanted.is_none()
                || td
                    .containers
                    .iter()
                    .any(|c| wants_container(&container_id(&td.arn, &c.name)))
        };
        let mut diagnostics = Vec::new();
        let mut regions: BTreeMap<&'a str, BTreeSet<(&'a str, &'a str)>> = BTreeMap::new();
        let mut clusters: BTreeMap<(&'a str, &'a str), bool> = BTreeMap::new();
        let mut exec: BTreeMap<&'a str, Vec<ExecTarget<'a>>> = BTreeMap::new();
        let every_region: BTreeSet<&'a str> = world
            .inventory
            .accounts
            .iter()
            .flat_map(|a| a.regions.keys().map(String::as_str))
            .collect();
        for account in &world.inventory.accounts {
            // A principal may start a task in any region; those the snapshot holds for the
            // account are where its SCPs and clusters are known.
            // With no region in the whole snapshot (IAM only), the partition's first region
            // stands for all: tasks can still be started somewhere.
            let own: Vec<&'a str> = if !account.regions.is_empty() {
                account.regions.keys().map(String::as_str).collect()
            } else if !every_region.is_empty() {
                every_region.iter().copied().collect()
            } else {
                vec![match account.partition.as_str() {
                    "aws-cn" => "cn-north-1",
                    "aws-us-gov" => "us-gov-west-1",
                    _ => "us-east-1",
                }]
            };
            for region in own {
                regions
                    .entry(&account.id)
                    .or_default()
                    .insert((region, &account.partition));
            }
            for (region, r) in &account.regions {
                let Some(ecs) = &r.ecs else { continue };
                if let Some(list) = &ecs.clusters {
                    clusters.insert((&account.id, region), !list.is_empty());
                }
                let targets = exec.entry(&account.id).or_default();
                for task in ecs.tasks.iter().flatten() {
                    if let Some(place) = world
                        .task_definition(&task.task_definition_arn)
                        .filter(|p| wants_any(p.definition))
                    {
                        targets.push(ExecTarget {
                            task: RequestResource::Arn(task.arn.clone()),
                            region,
                            exec: task.enable_execute_command,
                            place,
                            what: format!("task `{}`", task.arn),
                        });
                    }
                }
                for s in ecs.services.iter().flatten() {
                    let (Some(td), Some(cluster)) = (&s.task_definition, &s.cluster_arn) else {
                        continue;
                    };
                    let Some(place) = world
                        .task_definition(td)
                        .filter(|p| wants_any(p.definition))
                    else {
                        continue;
                    };
                    targets.push(ExecTarget {
                        task: RequestResource::Under(format!(
                            "{}{}/",
                            ecs_prefix(&account.partition, region, &account.id, "task"),
                            last_segment(cluster)
                        )),
                        region,
                        exec: s.enable_execute_command,
                        place,
                        what: format!("the tasks of service `{}`", s.name),
                    });
                }
            }
        }
        let mut ecs_roles: BTreeMap<(&'a str, &'a str), Vec<(&'a str, Verdict)>> = BTreeMap::new();
        for (arn, _) in world.roles.iter() {
            if !wants_role(arn) {
                continue;
            }
            let account = arn_account(arn);
            for &(region, partition) in regions.get(account).into_iter().flatten() {
                let verdict = world.ecs_trust(arn, account, region, partition, &mut diagnostics);
                if verdict.status != EdgeStatus::Denied {
                    ecs_roles
                        .entry((account, region))
                        .or_default()
                        .push((arn, verdict));
                }
            }
        }
        let mut definitions: BTreeMap<&'a str, Vec<TaskPlace<'a>>> = BTreeMap::new();
        let mut pulled: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (arn, place) in world.task_definitions() {
            definitions.entry(place.account).or_default().push(place);
            for c in &place.definition.containers {
                let Some(image) = c.image.as_deref() else {
                    continue;
                };
                // An image pinned by digest does not change when a tag is pushed.
                if image.contains('@') {
                    continue;
                }
                let id = container_id(arn, &c.name);
                if !wants_container(&id) {
                    continue;
                }
                if let Ok(Some(repo)) = super::ecs::parse_image_repository(image) {
                    pulled.entry(repo).or_default().push(id);
                }
            }
        }
        let (repositories, pulled_by): (Vec<ResourceInfo<'a>>, Vec<Vec<String>>) = pulled
            .into_iter()
            .filter_map(|(repo, containers)| {
                let info = world
                    .resources
                    .get(&repo)
                    .cloned()
                    .or_else(|| world.placeholder(&repo))?;
                Some((info, containers))
            })
            .unzip();
        Targets {
            regions,
            clusters,
            ecs_roles,
            definitions,
            exec,
            index: ResourceIndex::new(&repositories),
            exhaustive,
            containers: wanted.map(|w| w.containers.clone()),
            repositories,
            pulled_by,
            diagnostics,
        }
    }

    /// True when nothing in the snapshot could be escalated to.
    pub(super) fn is_empty(&self) -> bool {
        self.ecs_roles.is_empty()
            && (self.definitions.is_empty()
                || self.containers.as_ref().is_some_and(BTreeSet::is_empty))
            && self.repositories.is_empty()
    }

    /// True when an escalation into some container of `td` is wanted.
    fn wants_any(&self, td: &model::TaskDefinition) -> bool {
        self.containers.as_ref().is_none_or(|wanted| {
            td.containers
                .iter()
                .any(|c| wanted.contains(&container_id(&td.arn, &c.name)))
        })
    }

    /// Every escalation of one caller: the node it reaches (a role or a container) and the
    /// verdict, with what it took in the notes. Only roles and users of the snapshot escalate:
    /// ECS acts in the caller's own account, and a repository push needs an identity policy.
    pub(super) fn of(
        &self,
        world: &World<'a>,
        p: &Prepared<'a>,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<(String, Verdict)> {
        if matches!(p.caller, Caller::Outside(_)) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let services = allowed_services(p.identity_documents());
        let names = |svc: &str| services.as_ref().is_none_or(|s| s.contains(svc));
        let account = p.caller.account();
        if names("ecs") && names("iam") {
            self.pass_role(world, p, account, diags, &mut out);
        }
        if names("ecs") {
            self.run_task(world, p, account, diags, &mut out);
            self.execute_command(world, p, account, diags, &mut out);
        }
        if names("ecr") {
            self.image_push(world, p, diags, &mut out);
        }
        out
    }

    fn pass_role(
        &self,
        world: &World<'a>,
        p: &Prepared<'a>,
        account: &str,
        diags: &mut Vec<Diagnostic>,
        out: &mut Vec<(String, Verdict)>,
    ) {
        for &(region, partition) in self.regions.get(account).into_iter().flatten() {
            let Some(roles) = self.ecs_roles.get(&(account, region)) else {
                continue;
            };
            let mut start = world.launch_new(p, partition, region, diags);
            let definitions = ecs_prefix(partition, region, account, "task-definition");
            if start.status == EdgeStatus::Denied
                && world.may_call_under(p, &RUN_ACTIONS, &definitions, region, diags)
            {
                // A task definition of the account, run with the role as its task role and as
                // its execution role too (both may be overridden), so only that role is passed.
                for place in self.definitions.get(account).into_iter().flatten() {
                    if place.region == region {
                        start = start.or(world.run_definition(p, *place, diags));
                    }
                }
            }
            // With no cluster in the region, the task needs a new one.
            if self.clusters.get(&(account, region)) == Some(&false) {
                start = start.and(world.create_cluster(p, partition, region, diags));
            }
            if start.status == EdgeStatus::Denied {
                continue;
            }
            for (role, trust) in roles {
                let pass = world.pass_role(p, role, region, diags);
                if pass.status == EdgeStatus::Denied {
                    continue;
                }
                let verdict = start
                    .clone()
                    .and(pass)
                    .and(trust.clone())
                    .note(Note::PassRole {
                        region: region.to_string(),
                        role: last_segment(role).to_string(),
                    });
                out.push((role.to_string(), verdict));
            }
        }
    }

    fn run_task(
        &self,
        world: &World<'a>,
        p: &Prepared<'a>,
        account: &str,
        diags: &mut Vec<Diagnostic>,
        out: &mut Vec<(String, Verdict)>,
    ) {
        // Whether any task definition of a region may be run at all, asked once per region.
        let mut may_run: BTreeMap<&str, bool> = BTreeMap::new();
        for place in self.definitions.get(account).into_iter().flatten() {
            let td = place.definition;
            if !self.wants_any(td) {
                continue;
            }
            let prefix = ecs_prefix(place.partition, place.region, account, "task-definition");
            let gate = *may_run.entry(place.region).or_insert_with(|| {
                world.may_call_under(p, &RUN_ACTIONS, &prefix, place.region, diags)
            });
            if !gate {
                continue;
            }
            let verdict = world.run_existing(p, *place, diags);
            if verdict.status == EdgeStatus::Denied {
                continue;
            }
            let verdict = verdict.note(Note::RunTask {
                definition: last_segment(&td.arn).to_string(),
            });
            for c in &td.containers {
                out.push((container_id(&td.arn, &c.name), verdict.clone()));
            }
        }
    }

    fn execute_command(
        &self,
        world: &World<'a>,
        p: &Prepared<'a>,
        account: &str,
        diags: &mut Vec<Diagnostic>,
        out: &mut Vec<(String, Verdict)>,
    ) {
        // Whether any task of a region may be exec'd into at all, asked once per region.
        let mut may_exec: BTreeMap<&str, bool> = BTreeMap::new();
        for t in self.exec.get(account).into_iter().flatten() {
            if t.exec == Some(false) {
                continue;
            }
            let prefix = ecs_prefix(t.place.partition, t.region, account, "task");
            let gate = *may_exec.entry(t.region).or_insert_with(|| {
                world.may_call_under(p, &["ecs:ExecuteCommand"], &prefix, t.region, diags)
            });
            if !gate {
                continue;
            }
            let verdict =
                world.execute_command(p, t.task.clone(), account, t.region, t.exec, diags);
            if verdict.status == EdgeStatus::Denied {
                continue;
            }
            let verdict = verdict.note(Note::ExecuteCommand {
                task: t.what.to_string(),
            });
            for c in &t.place.definition.containers {
                out.push((
                    container_id(&t.place.definition.arn, &c.name),
                    verdict.clone(),
                ));
            }
        }
    }

    fn image_push(
        &self,
        world: &World<'a>,
        p: &Prepared<'a>,
        diags: &mut Vec<Diagnostic>,
        out: &mut Vec<(String, Verdict)>,
    ) {
        let candidates: BTreeSet<usize> = if self.exhaustive {
            (0..self.repositories.len()).collect()
        } else {
            super::build::candidates(
                p.id(),
                p.identity_documents(),
                &self.repositories,
                &self.index,
            )
        };
        // Without an identity Allow that could grant `ecr:PutImage`, only a repository policy can,
        // and only in the caller's own account (across accounts both sides must allow).
        let identity_push = identity_may_allow(p.identity_documents(), "ecr:PutImage");
        let account = p.caller.account();
        // The registry token, which only identity policies grant, asked once per region.
        let mut tokens: BTreeMap<&str, Verdict> = BTreeMap::new();
        for i in candidates {
            let (repo, containers) = (&self.repositories[i], &self.pulled_by[i]);
            if repo.kind != NodeKind::EcrRepository {
                continue;
            }
            let policy_may_grant =
                repo.account == account && (repo.policy.is_some() || repo.policy_unknown());
            if !identity_push && !policy_may_grant {
                continue;
            }
            let token = tokens
                .entry(repo.region.as_str())
                .or_insert_with(|| world.registry_token(p, &repo.region, diags));
            if token.status == EdgeStatus::Denied {
                continue;
            }
            let verdict = world.push_image(p, repo, token, diags);
            if verdict.status == EdgeStatus::Denied {
                continue;
            }
            let verdict = verdict.note(Note::ImagePush {
                repository: repo.label.clone(),
            });
            for c in containers {
                out.push((c.clone(), verdict.clone()));
            }
        }
    }
}
