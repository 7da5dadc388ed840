//! Request contexts: what callers and resources bring to every request, built once and shared.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use crate::graph::context;
use crate::graph::outside::{Outside, Outsider};
use crate::graph::world::{Caller, World, arn_account};
use crate::model::{self};
use crate::policy::{Context, ContextValue};

impl<'a> World<'a> {
    pub(in crate::graph) fn share_contexts(&mut self) {
        let mut no_source = Context::new(ContextValue::Unknown);
        no_source.set("aws:SourceAccount", ContextValue::Absent);
        no_source.set("aws:SourceArn", ContextValue::Absent);
        self.shared.no_source = Arc::new(no_source);
        let mut regions: BTreeSet<String> = BTreeSet::from([String::new()]);
        for a in &self.inventory.accounts {
            regions.extend(a.regions.keys().cloned());
            regions.extend(
                a.s3_buckets
                    .iter()
                    .flatten()
                    .filter_map(|b| b.region.clone()),
            );
        }
        for region in regions {
            let mut ctx = Context::new(ContextValue::Unknown);
            context::direct_call(&mut ctx, &region);
            self.shared.direct.insert(region, Arc::new(ctx));
        }
        // A resource's keys are built when a request first needs them: a build toward one
        // resource asks for a few, a full build for all, and each is built once either way.
        let mut resources = BTreeMap::new();
        for id in self.resources.keys() {
            resources.insert(id.clone(), OnceLock::new());
        }
        for arn in self.roles.keys() {
            resources.insert(arn.to_string(), OnceLock::new());
        }
        self.shared.resources = resources;
    }

    pub(in crate::graph) fn build_resource_ctx(
        &self,
        account: &str,
        tags: Option<&model::Tags>,
    ) -> Arc<Context> {
        let mut ctx = Context::new(ContextValue::Unknown);
        self.resource_context(&mut ctx, account, tags);
        Arc::new(ctx)
    }

    /// The resource keys of a resource or role, shared between requests.
    ///
    /// The first request for `id` builds them from its `account` and `tags`, so every caller
    /// passes the world's own for that resource or role (`World::resources`, `World::roles`).
    pub(in crate::graph) fn resource_ctx(
        &self,
        id: &str,
        account: &str,
        tags: Option<&model::Tags>,
    ) -> Arc<Context> {
        match self.shared.resources.get(id) {
            Some(ctx) => ctx
                .get_or_init(|| self.build_resource_ctx(account, tags))
                .clone(),
            None => self.build_resource_ctx(account, tags),
        }
    }

    /// The keys of a direct call in `region`.
    pub(in crate::graph) fn direct(&self, region: &str) -> Arc<Context> {
        match self.shared.direct.get(region) {
            Some(ctx) => ctx.clone(),
            None => {
                let mut ctx = Context::new(ContextValue::Unknown);
                context::direct_call(&mut ctx, region);
                Arc::new(ctx)
            }
        }
    }

    pub(in crate::graph) fn caller_context(&self, caller: Caller<'a>) -> Context {
        let mut ctx = context::base();
        let account = arn_account(caller.id());
        match caller {
            Caller::Role(r) => context::role_principal(&mut ctx, r, account),
            Caller::User(u) => context::user_principal(&mut ctx, u, account),
            Caller::Outside(o) => {
                self.outsider_context(&mut ctx, o);
                return ctx;
            }
        }
        context::principal_org(&mut ctx, self.org_of(account));
        ctx
    }

    /// The principal keys of an outsider. What the snapshot cannot know stays unknown; what the
    /// outsider is fixes the rest: anonymous requests carry no principal keys, any principal is
    /// outside every account and the organization of the snapshot.
    pub(in crate::graph) fn outsider_context(&self, ctx: &mut Context, o: &Outsider) {
        let snapshot_accounts: Vec<String> = self.accounts.keys().map(|a| a.to_string()).collect();
        let mut snapshot_org: Vec<String> = self
            .inventory
            .organization
            .iter()
            .map(|o| o.id.clone())
            .collect();
        snapshot_org.extend(o.other_organizations.iter().cloned());
        snapshot_org.sort();
        snapshot_org.dedup();
        match &o.who {
            Outside::Anonymous => {
                for key in [
                    "aws:PrincipalArn",
                    "aws:PrincipalAccount",
                    "aws:PrincipalOrgID",
                    "aws:PrincipalOrgPaths",
                    "aws:PrincipalType",
                    "aws:PrincipalIsAWSService",
                    "aws:PrincipalServiceName",
                    "aws:userid",
                    "aws:username",
                    "aws:MultiFactorAuthPresent",
                    "aws:SourceAccount",
                    "aws:SourceArn",
                ] {
                    ctx.set(key, ContextValue::Absent);
                }
                ctx.set("aws:SecureTransport", ContextValue::Unknown);
                ctx.absent_prefixes.push("aws:principaltag/".to_string());
            }
            Outside::AnyPrincipal | Outside::Organization(_) => {
                ctx.set(
                    "aws:PrincipalAccount",
                    ContextValue::NoneOf(snapshot_accounts),
                );
                ctx.set(
                    "aws:PrincipalIsAWSService",
                    ContextValue::Single("false".into()),
                );
                ctx.set("aws:PrincipalServiceName", ContextValue::Absent);
                ctx.set("aws:SourceAccount", ContextValue::Absent);
                ctx.set("aws:SourceArn", ContextValue::Absent);
                match &o.who {
                    Outside::Organization(path) => {
                        let id = path.split('/').next().unwrap_or(path);
                        ctx.set("aws:PrincipalOrgID", ContextValue::Single(id.to_string()));
                        if path.contains('/') {
                            ctx.set(
                                "aws:PrincipalOrgPaths",
                                ContextValue::Multi(vec![path.clone()]),
                            );
                        }
                    }
                    _ if !snapshot_org.is_empty() => {
                        ctx.set("aws:PrincipalOrgID", ContextValue::NoneOf(snapshot_org));
                    }
                    _ => {}
                }
            }
            Outside::Account(arn) | Outside::Principal(arn) => {
                let account = arn_account(arn).to_string();
                ctx.set(
                    "aws:PrincipalAccount",
                    ContextValue::Single(account.clone()),
                );
                ctx.set(
                    "aws:PrincipalIsAWSService",
                    ContextValue::Single("false".into()),
                );
                ctx.set("aws:SourceAccount", ContextValue::Absent);
                ctx.set("aws:SourceArn", ContextValue::Absent);
                if matches!(o.who, Outside::Principal(_)) {
                    ctx.set("aws:PrincipalArn", ContextValue::Single(arn.clone()));
                }
                match (self.org_of(&account), &self.inventory.organization) {
                    (Some(org), _) => context::principal_org(ctx, Some(org)),
                    (None, Some(org)) => {
                        ctx.set(
                            "aws:PrincipalOrgID",
                            ContextValue::NoneOf(vec![org.id.clone()]),
                        );
                    }
                    (None, None) => {}
                }
            }
            Outside::Federated { provider, claims } => {
                ctx.set(
                    "aws:FederatedProvider",
                    ContextValue::Single(provider.clone()),
                );
                ctx.set(
                    "aws:PrincipalIsAWSService",
                    ContextValue::Single("false".into()),
                );
                ctx.set("aws:SourceAccount", ContextValue::Absent);
                ctx.set("aws:SourceArn", ContextValue::Absent);
                ctx.set("sts:ExternalId", ContextValue::Absent);
                for (key, value) in claims {
                    ctx.set(key, ContextValue::Single(value.clone()));
                }
            }
        }
    }

    pub(in crate::graph) fn resource_context(
        &self,
        ctx: &mut Context,
        resource_account: &str,
        tags: Option<&model::Tags>,
    ) {
        context::resource(ctx, resource_account, self.org_of(resource_account), tags);
    }
}
