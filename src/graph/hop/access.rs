//! Access hops: a principal acting on a resource, with the decrypt it needs (R4.4).

use crate::graph::context;
use crate::graph::hop::{Ask, Level, Note, On, Open, Verdict};
use crate::graph::kinds::service_of;
use crate::graph::outside::Outside;
use crate::graph::world::policy_is_public;
use crate::graph::world::{Caller, KeyRef, Prepared, ResourceInfo, World};
use crate::graph::{EdgeStatus, NodeKind};
use crate::model::{self, Diagnostic, PolicyDocument};
use crate::policy::{
    Blocker, Context, ContextValue, PolicyRef, PolicyType, Request, RequestResource,
};

impl<'a> World<'a> {
    /// The request resource for an action on a resource (S3 objects and log streams are "some
    /// resource under" the bucket or group).
    pub(in crate::graph) fn request_resource(
        resource: &ResourceInfo<'_>,
        action: &str,
    ) -> RequestResource {
        let name = action.split_once(':').map_or(action, |(_, n)| n);
        match resource.kind {
            // Actions match whatever their case (R1.2): `s3:getobject` reads objects too.
            NodeKind::S3Bucket if name.to_ascii_lowercase().contains("object") => {
                RequestResource::Under(format!("{}/", resource.id))
            }
            NodeKind::LogGroup
                if name.eq_ignore_ascii_case("GetLogEvents")
                    || name.eq_ignore_ascii_case("GetLogRecord") =>
            {
                RequestResource::Under(format!("{}:log-stream:", resource.id))
            }
            NodeKind::LogGroup => RequestResource::Arn(format!("{}:*", resource.id)),
            _ => RequestResource::Arn(resource.id.clone()),
        }
    }

    /// Evaluates `caller` acting on `resource` with each of `actions`; the hop allows the actions
    /// that are allowed. Reading a value under a customer-managed key also needs `kms:Decrypt`
    /// through the owning service (R4.4).
    pub fn access(
        &self,
        caller: &Prepared<'a>,
        resource: &ResourceInfo<'a>,
        actions: &[String],
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let mut result: Option<Verdict> = None;
        for action in actions {
            let v = self.access_one(caller, resource, action, diags);
            let v = if v.status != EdgeStatus::Denied {
                Verdict {
                    actions: vec![action.clone()],
                    ..v
                }
            } else {
                v
            };
            result = Some(match result {
                None => v,
                Some(prev) => prev.or(v),
            });
        }
        let verdict = result.unwrap_or_else(|| {
            Verdict::denied(
                Ask::call(caller.id(), "(no action)", &resource.id),
                None,
                Note::NoActionApplies,
            )
        });
        Self::outside_verdict(caller, verdict)
    }

    pub(in crate::graph) fn access_one(
        &self,
        caller: &Prepared<'a>,
        resource: &ResourceInfo<'a>,
        action: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let request_text = || Ask::call(caller.id(), action, &resource.id);
        if !caller.caller.in_partition(&resource.partition) {
            return Verdict::denied(request_text(), None, Note::AccessAcrossPartitions);
        }
        let mut ctx = Context::layered(
            ContextValue::Unknown,
            vec![
                self.direct(&resource.region),
                caller.context.clone(),
                self.resource_ctx(&resource.id, &resource.account, resource.tags),
            ],
        );
        if resource.kind == NodeKind::KmsKey {
            let account = caller.caller.account();
            ctx.set(
                "kms:CallerAccount",
                if account.is_empty() {
                    ContextValue::Unknown
                } else {
                    ContextValue::Single(account.to_string())
                },
            );
            ctx.set("kms:ViaService", ContextValue::Absent);
        }
        let request = Request {
            principal: Self::principal_of(caller),
            action: action.to_string(),
            resource: Self::request_resource(resource, action),
            resource_account: resource.account.clone(),
            context: ctx,
        };
        let policy_type = if resource.kind == NodeKind::KmsKey {
            PolicyType::Key
        } else {
            PolicyType::Resource
        };
        // A bucket's public ACL grants are weighed with its policy.
        let merged: Option<PolicyDocument> = resource.acl.as_ref().map(|acl| {
            let mut doc = resource.policy.cloned().unwrap_or(PolicyDocument {
                version: Some("2012-10-17".to_string()),
                statements: Vec::new(),
            });
            doc.statements.extend(acl.statements.iter().cloned());
            doc
        });
        let resource_ref = merged.as_ref().or(resource.policy).map(|doc| PolicyRef {
            policy_type,
            id: &resource.id,
            document: doc,
        });
        let service = service_of(resource.kind);
        let decision = self.decide(
            caller,
            &request,
            resource_ref,
            service,
            resource.aws_managed_key,
            diags,
        );
        let mut verdict = Verdict::from_decision(decision, request_text, &resource.id);
        verdict = self.unknown_resource_policy(verdict, caller, resource);
        if verdict.status == EdgeStatus::Denied {
            return verdict;
        }
        if resource.kind == NodeKind::S3Bucket {
            verdict = self.public_access_block(verdict, caller, resource, request_text);
            if verdict.status == EdgeStatus::Denied {
                return verdict;
            }
        }
        let reads_value = matches!(
            (resource.kind, action.to_ascii_lowercase().as_str()),
            (NodeKind::Secret, "secretsmanager:getsecretvalue")
                | (
                    NodeKind::SsmParameter,
                    "ssm:getparameter" | "ssm:getparameters" | "ssm:getparametersbypath"
                )
                | (NodeKind::S3Bucket, "s3:getobject" | "s3:getobjectversion")
        );
        if reads_value {
            if let Some(key) = &resource.encryption_key {
                verdict = verdict.and(self.decrypt_via(caller, resource, key, diags));
            }
        }
        verdict
    }

    /// S3 Block Public Access (`RestrictPublicBuckets`, of the account or the bucket): a bucket
    /// whose policy is public serves only AWS service principals and principals of its own
    /// account. Where the settings were not collected, the hop keeps a note.
    pub(in crate::graph) fn public_access_block(
        &self,
        verdict: Verdict,
        caller: &Prepared<'_>,
        resource: &ResourceInfo<'_>,
        request_text: impl FnOnce() -> Ask,
    ) -> Verdict {
        let Some(bucket) = resource.bucket else {
            return verdict;
        };
        if !bucket.policy.as_ref().is_some_and(policy_is_public)
            || caller.caller.account() == resource.account
        {
            return verdict;
        }
        let account_block = self
            .accounts
            .get(resource.account.as_str())
            .and_then(|a| a.s3_public_access_block);
        let restricts = |b: Option<model::PublicAccessBlock>| b.map(|b| b.restrict_public_buckets);
        match (
            restricts(account_block),
            restricts(bucket.public_access_block),
        ) {
            (Some(true), _) | (_, Some(true)) => {
                let level = if account_block.is_some_and(|b| b.restrict_public_buckets) {
                    Level::Account(resource.account.clone())
                } else {
                    Level::Bucket(resource.label.clone())
                };
                Verdict::denied(request_text(), None, Note::PublicAccessBlocked { level })
            }
            (Some(false), Some(false)) => verdict,
            _ => verdict.note(Note::PublicAccessBlockUnknown {
                bucket: resource.label.clone(),
                account: resource.account.clone(),
            }),
        }
    }

    /// A resource the snapshot does not hold has an unknown policy: where that policy could be
    /// the missing side, the hop is conditional rather than denied.
    pub(in crate::graph) fn unknown_resource_policy(
        &self,
        verdict: Verdict,
        caller: &Prepared<'_>,
        resource: &ResourceInfo<'_>,
    ) -> Verdict {
        if !resource.policy_unknown() {
            return verdict;
        }
        let unknown = |open: Open| Note::PolicyUnknown {
            resource: resource.id.clone(),
            key_policy: resource.in_snapshot,
            open,
            caller: caller.id().to_string(),
        };
        let missing_resource_side = matches!(
            verdict.blocked.as_ref().and_then(|b| b.blocker.as_ref()),
            Some(Blocker::ResourceMissingAllow { .. } | Blocker::KeyPolicyMissing)
        );
        if missing_resource_side {
            return Verdict {
                status: EdgeStatus::Conditional,
                blocked: None,
                ..Verdict::allowed()
            }
            .note(unknown(Open::DependsOnIt));
        }
        if verdict.status == EdgeStatus::Denied {
            return verdict;
        }
        if resource.kind == NodeKind::KmsKey {
            // A key policy must always allow (R2.7): without it the access is only possible.
            return verdict.conditional(unknown(Open::MustAllow));
        }
        verdict.note(unknown(Open::CouldDeny))
    }

    /// `kms:Decrypt` on the key of a secret, a SecureString parameter or the objects of an SSE-KMS
    /// bucket, called through the service.
    pub(in crate::graph) fn decrypt_via(
        &self,
        caller: &Prepared<'a>,
        value: &ResourceInfo<'_>,
        key: &KeyRef,
        diags: &mut Vec<Diagnostic>,
    ) -> Verdict {
        let caller_account = caller.caller.account();
        let service = service_of(value.kind);
        if matches!(caller.caller, Caller::Outside(o) if o.who == Outside::Anonymous) {
            // S3 serves objects under SSE-KMS only to requests signed with Signature Version 4,
            // whatever the key policy says (R7.1).
            return Verdict::denied(
                Ask {
                    on: On::KeyOf(value.id.clone()),
                    via: Some(service.to_string()),
                    ..Ask::call(caller.id(), "kms:Decrypt", "")
                },
                None,
                Note::UnsignedKms {
                    bucket: value.id.clone(),
                },
            );
        }
        match key {
            KeyRef::AwsManaged => {
                if caller_account != value.account {
                    return Verdict::denied(
                        Ask {
                            on: On::AwsManagedKey {
                                service: service.to_string(),
                                account: value.account.clone(),
                            },
                            ..Ask::call(caller.id(), "kms:Decrypt", "")
                        },
                        Some(Blocker::AwsManagedKeyCrossAccount),
                        Note::AwsManagedKeyElsewhere {
                            value: value.id.clone(),
                            service: service.to_string(),
                        },
                    );
                }
                Verdict::allowed()
            }
            KeyRef::Unresolved(reference) => {
                Verdict::allowed().conditional(Note::KeyReferenceUnresolved {
                    reference: reference.clone(),
                    value: value.id.clone(),
                })
            }
            KeyRef::Unknown => Verdict::allowed().conditional(Note::KeyOfValueUnknown {
                value: value.id.clone(),
            }),
            KeyRef::Key(key_arn) => {
                let Some(info) = self.resources.get(key_arn) else {
                    return Verdict::allowed().conditional(Note::KeyNotInSnapshot {
                        key: key_arn.clone(),
                    });
                };
                if info.aws_managed_key && caller_account == info.account && info.policy.is_none() {
                    return Verdict::allowed();
                }
                let request_text = || Ask {
                    via: Some(service.to_string()),
                    ..Ask::call(caller.id(), "kms:Decrypt", key_arn)
                };
                let mut ctx = Context::layered(
                    ContextValue::Unknown,
                    vec![
                        caller.context.clone(),
                        self.resource_ctx(&info.id, &info.account, info.tags),
                    ],
                );
                // A bucket's region may be unknown; its SSE-KMS key is in the bucket's region,
                // where S3 calls KMS, and a key's region is always known.
                let region = if value.region.is_empty() {
                    &info.region
                } else {
                    &value.region
                };
                context::via_service(&mut ctx, service, region, caller_account);
                match value.kind {
                    NodeKind::Secret => ctx.set(
                        "kms:EncryptionContext:SecretARN",
                        ContextValue::Single(value.id.clone()),
                    ),
                    NodeKind::S3Bucket => ctx.set(
                        "kms:EncryptionContext:aws:s3:arn",
                        ContextValue::Prefix(value.id.clone()),
                    ),
                    _ => ctx.set(
                        "kms:EncryptionContext:PARAMETER_ARN",
                        ContextValue::Single(value.id.clone()),
                    ),
                };
                let request = Request {
                    principal: Self::principal_of(caller),
                    action: "kms:Decrypt".to_string(),
                    resource: RequestResource::Arn(key_arn.clone()),
                    resource_account: info.account.clone(),
                    context: ctx,
                };
                let key_ref = info.policy.map(|doc| PolicyRef {
                    policy_type: PolicyType::Key,
                    id: &info.id,
                    document: doc,
                });
                if key_ref.is_none() {
                    return Verdict::allowed().conditional(Note::KeyPolicyNotInSnapshot {
                        key: key_arn.clone(),
                    });
                }
                let decision = self.decide(
                    caller,
                    &request,
                    key_ref,
                    "kms",
                    info.aws_managed_key,
                    diags,
                );
                Verdict::from_decision(decision, request_text, key_arn)
                    .note_if_allowed(Note::KmsGrants)
            }
        }
    }
}
