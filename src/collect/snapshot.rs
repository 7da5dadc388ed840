//! The `rolechain.snapshot/v1` reader (SNAPSHOT-V1.md §1).
//!
//! A snapshot's parts are AWS API response shapes, verbatim. They are parsed leniently: unknown
//! fields are ignored at every level, because AWS adds fields over time, and every list part is
//! optional (absent = not collected). What is wrong gets an error that names the file, the JSON
//! path and what was expected.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::arn::ssm_parameter_arn;
use crate::model::{self, Arn, PolicyDocument, PolicyError};

/// The schema name a snapshot must carry.
pub const SNAPSHOT_SCHEMA: &str = "rolechain.snapshot/v1";

/// Why a snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("reading `{file}`")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid JSON.
    #[error("`{file}` is not valid JSON: {message} (line {line}, column {column})")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The `schema` field is missing or names another format.
    #[error("`{file}` has schema `{found}`: expected `{SNAPSHOT_SCHEMA}`")]
    Schema {
        /// The file.
        file: String,
        /// What it says, or `(none)`.
        found: String,
    },
    /// A value has the wrong type or shape.
    #[error("`{file}` at `{path}`: {message}")]
    Shape {
        /// The file.
        file: String,
        /// The JSON path.
        path: String,
        /// What was expected.
        message: String,
    },
    /// A policy document is not a policy.
    #[error("`{file}` at `{path}`: not a policy document")]
    Policy {
        /// The file.
        file: String,
        /// The JSON path of the document.
        path: String,
        /// What is wrong inside it.
        #[source]
        source: PolicyError,
    },
    /// An ARN is malformed.
    #[error("`{file}` at `{path}`")]
    Arn {
        /// The file.
        file: String,
        /// The JSON path of the ARN.
        path: String,
        /// What is wrong with it.
        #[source]
        source: model::ArnError,
    },
}

/// Reads a snapshot file.
///
/// # Errors
/// See [`load_str`]; also when the file cannot be read.
pub fn load_file(path: &Path) -> Result<model::Inventory, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        file: file.clone(),
        source,
    })?;
    load_str(&text, &file)
}

/// Parses a snapshot from text; `file` names it in errors.
///
/// # Errors
/// Invalid JSON, a missing or unknown `schema`, a value of the wrong type, a malformed ARN, or a
/// policy document that is not a policy.
pub fn load_str(text: &str, file: &str) -> Result<model::Inventory, LoadError> {
    // A document that is not an object, or whose schema is missing or another one, is refused
    // before the rest is read: a large file of the wrong kind fails at once.
    probe_schema(text, file)?;
    // The fast path parses without tracking JSON paths; only a failure is parsed again, with
    // path tracking, to say where it failed.
    let parsed: Result<Snapshot, _> = match serde_json::from_str(text) {
        Ok(s) => Ok(s),
        Err(_) => {
            let mut de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de)
        }
    };
    let snapshot = match parsed {
        Ok(s) => s,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(LoadError::Syntax {
                    file: file.to_string(),
                    message: syntax_message(&inner),
                    line: inner.line(),
                    column: inner.column(),
                });
            }
            return Err(LoadError::Shape {
                file: file.to_string(),
                path,
                message: shape_message(&inner),
            });
        }
    };
    if snapshot.schema.as_deref() != Some(SNAPSHOT_SCHEMA) {
        return Err(LoadError::Schema {
            file: file.to_string(),
            found: snapshot.schema.unwrap_or_else(|| "(none)".to_string()),
        });
    }
    Converter {
        file,
        diagnostics: std::cell::RefCell::new(Vec::new()),
    }
    .inventory(snapshot)
}

/// What the top level of a document says about itself.
enum Probe {
    /// An object; its `schema`, when it is a string.
    Object(Option<String>),
    /// Another JSON type, named.
    Other(&'static str),
}

/// Reads the top level of a document only as far as its `schema` field, skipping other values
/// without building them, and stops there.
struct ProbeVisitor<'c>(&'c std::cell::RefCell<Option<Probe>>);

impl<'de> serde::de::Visitor<'de> for ProbeVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "schema" {
                let value: Value = map.next_value()?;
                *self.0.borrow_mut() = Some(Probe::Object(value.as_str().map(str::to_string)));
                // Stop here: the rest is read by the real parse.
                return Ok(());
            }
            map.next_value::<serde::de::IgnoredAny>()?;
        }
        *self.0.borrow_mut() = Some(Probe::Object(None));
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        *self.0.borrow_mut() = Some(Probe::Other("an array"));
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        *self.0.borrow_mut() = Some(Probe::Other("a string"));
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        *self.0.borrow_mut() = Some(Probe::Other("a boolean"));
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        *self.0.borrow_mut() = Some(Probe::Other("a number"));
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        *self.0.borrow_mut() = Some(Probe::Other("a number"));
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        *self.0.borrow_mut() = Some(Probe::Other("a number"));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        *self.0.borrow_mut() = Some(Probe::Other("null"));
        Ok(())
    }
}

/// Refuses a document whose top level is not an object, or whose `schema` is missing or names
/// another format, reading no further than the `schema` field. Syntax errors are left to the
/// real parse, which says where they are.
fn probe_schema(text: &str, file: &str) -> Result<(), LoadError> {
    let found = std::cell::RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    // Returning early from an object is an error to serde_json; only what was seen counts.
    let _ = serde::Deserializer::deserialize_any(&mut de, ProbeVisitor(&found));
    match found.into_inner() {
        Some(Probe::Other(kind)) => Err(LoadError::Shape {
            file: file.to_string(),
            path: ".".to_string(),
            message: format!(
                "expected a JSON object (a `{SNAPSHOT_SCHEMA}` document), found {kind}"
            ),
        }),
        Some(Probe::Object(schema)) if schema.as_deref() != Some(SNAPSHOT_SCHEMA) => {
            Err(LoadError::Schema {
                file: file.to_string(),
                found: schema.unwrap_or_else(|| "(none)".to_string()),
            })
        }
        _ => Ok(()),
    }
}

fn syntax_message(err: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the error carries those separately.
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn shape_message(err: &serde_json::Error) -> String {
    // serde says "invalid type: integer `5`, expected a string"; lead with what was expected.
    let text = syntax_message(err);
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = text.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.split_once(", expected ") {
                return format!("expected {expected}, found {found}");
            }
        }
    }
    text
}

// ---- serde shapes (AWS names, lenient) ----
//
// One definition of each shape serves the reader and the writers (`collect::aws`, `merge`):
// they derive `Serialize` as well, and leave absent optional fields out, so a written snapshot
// carries only what was read, under AWS's names.

/// `null` reads as the type's default (an empty list or string): ECS treats a null field as
/// absent, and real task definitions carry `"secrets": null` or `"secretOptions": null`.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A part that is read on its own: when it does not have its expected shape, only that part is
/// skipped, with a warning that names its JSON path, and the rest of the snapshot is analysed.
/// Task definitions are read this way, because real ones carry odd fields and one of them must
/// never refuse an organization.
pub(super) enum Lenient<T> {
    /// The part, read.
    Read(T),
    /// The part as it stands, and why it could not be read.
    Unread {
        /// The JSON value, kept so a writer (`merge`) keeps it unchanged.
        value: Value,
        /// The JSON path inside the part.
        path: String,
        /// What was expected.
        message: String,
    },
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(t) => Ok(Lenient::Read(t)),
            Err(err) => {
                let path = err.path().to_string();
                let message = shape_message(err.inner());
                Ok(Lenient::Unread {
                    value,
                    path,
                    message,
                })
            }
        }
    }
}

impl<T: Serialize> Serialize for Lenient<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Lenient::Read(t) => t.serialize(serializer),
            Lenient::Unread { value, .. } => value.serialize(serializer),
        }
    }
}

#[derive(Deserialize, Serialize)]
pub(super) struct Snapshot {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) collected_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) organization: Option<OrgDto>,
    #[serde(default)]
    pub(super) accounts: Vec<AccountDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) gaps: Option<Vec<GapDto>>,
}

#[derive(Deserialize, Serialize)]
pub(super) struct OrgDto {
    #[serde(default)]
    pub(super) id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) management_account_id: Option<String>,
    #[serde(default)]
    pub(super) accounts: Vec<OrgAccountDto>,
    #[serde(default)]
    pub(super) parents: BTreeMap<String, String>,
    /// `aws organizations describe-organizational-unit` → `.OrganizationalUnit`, one per OU
    /// that `parents` names; absent in snapshots written before it was collected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) organizational_units: Vec<OrgUnitDto>,
    #[serde(default)]
    pub(super) policies: Vec<OrgPolicyDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OrgUnitDto {
    pub(super) id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OrgAccountDto {
    pub(super) id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
}

#[derive(Deserialize, Serialize)]
pub(super) struct OrgPolicyDto {
    #[serde(rename = "PolicySummary")]
    pub(super) summary: OrgPolicySummaryDto,
    #[serde(rename = "Content")]
    pub(super) content: Value,
    #[serde(default)]
    pub(super) targets: Vec<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OrgPolicySummaryDto {
    pub(super) id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
    #[serde(rename = "Type")]
    pub(super) kind: String,
}

#[derive(Deserialize, Serialize)]
pub(super) struct AccountDto {
    pub(super) id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) partition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) iam: Option<IamDto>,
    #[serde(default)]
    pub(super) regions: BTreeMap<String, RegionDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) s3_buckets: Option<Vec<BucketDto>>,
    /// `aws s3control get-public-access-block` → `.PublicAccessBlockConfiguration`; absent when
    /// not collected, all `false` when the account has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) s3_public_access_block: Option<PublicAccessBlockDto>,
}

/// S3 Block Public Access settings, of an account or a bucket; a missing flag is `false`.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PublicAccessBlockDto {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) block_public_acls: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) ignore_public_acls: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) block_public_policy: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) restrict_public_buckets: bool,
}

/// `aws s3api get-bucket-acl` output.
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BucketAclDto {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) grants: Vec<GrantDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GrantDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) grantee: Option<GranteeDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) permission: Option<String>,
}

#[derive(Deserialize, Serialize)]
pub(super) struct GranteeDto {
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub(super) kind: Option<String>,
    #[serde(rename = "URI", skip_serializing_if = "Option::is_none")]
    pub(super) uri: Option<String>,
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    pub(super) id: Option<String>,
}

/// `aws s3api get-bucket-encryption` → `.ServerSideEncryptionConfiguration`.
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BucketEncryptionDto {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) rules: Vec<EncryptionRuleDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct EncryptionRuleDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) apply_server_side_encryption_by_default: Option<SseDefaultDto>,
}

#[derive(Deserialize, Serialize)]
pub(super) struct SseDefaultDto {
    #[serde(rename = "SSEAlgorithm", skip_serializing_if = "Option::is_none")]
    pub(super) sse_algorithm: Option<String>,
    #[serde(rename = "KMSMasterKeyID", skip_serializing_if = "Option::is_none")]
    pub(super) kms_master_key_id: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct IamDto {
    #[serde(default)]
    pub(super) user_detail_list: Vec<UserDto>,
    #[serde(default)]
    pub(super) group_detail_list: Vec<GroupDto>,
    #[serde(default)]
    pub(super) role_detail_list: Vec<RoleDto>,
    #[serde(default)]
    pub(super) policies: Vec<ManagedPolicyDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct NamedPolicyDto {
    pub(super) policy_name: String,
    pub(super) policy_document: Value,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AttachedDto {
    pub(super) policy_arn: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BoundaryDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) permissions_boundary_arn: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagDto {
    pub(super) key: String,
    #[serde(default)]
    pub(super) value: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct RoleDto {
    pub(super) arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) role_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) role_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) assume_role_policy_document: Option<Value>,
    #[serde(default)]
    pub(super) role_policy_list: Vec<NamedPolicyDto>,
    #[serde(default)]
    pub(super) attached_managed_policies: Vec<AttachedDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) permissions_boundary: Option<BoundaryDto>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) tags: Vec<TagDto>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) instance_profile_list: Vec<InstanceProfileDto>,
}

/// `RoleDetailList[].InstanceProfileList[]`: the instance profiles a role is in.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct InstanceProfileDto {
    pub(super) arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) instance_profile_name: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserDto {
    pub(super) arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user_id: Option<String>,
    #[serde(default)]
    pub(super) user_policy_list: Vec<NamedPolicyDto>,
    #[serde(default)]
    pub(super) group_list: Vec<String>,
    #[serde(default)]
    pub(super) attached_managed_policies: Vec<AttachedDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) permissions_boundary: Option<BoundaryDto>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) tags: Vec<TagDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct GroupDto {
    pub(super) arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) group_name: Option<String>,
    #[serde(default)]
    pub(super) group_policy_list: Vec<NamedPolicyDto>,
    #[serde(default)]
    pub(super) attached_managed_policies: Vec<AttachedDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ManagedPolicyDto {
    pub(super) arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) policy_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) default_version_id: Option<String>,
    #[serde(default)]
    pub(super) policy_version_list: Vec<PolicyVersionDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PolicyVersionDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) document: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) version_id: Option<String>,
    #[serde(default)]
    pub(super) is_default_version: bool,
}

#[derive(Deserialize, Serialize, Default)]
pub(super) struct RegionDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ecs: Option<EcsDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) secrets: Option<Vec<SecretDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ssm_parameters: Option<Vec<SsmParameterDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) kms_keys: Option<Vec<KmsKeyDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ecr_repositories: Option<Vec<EcrRepositoryDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) log_groups: Option<Vec<LogGroupDto>>,
    /// `ec2 describe-instances` → `.Reservations[].Instances[]`; absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ec2_instances: Option<Vec<Ec2InstanceDto>>,
}

#[derive(Deserialize, Serialize)]
pub(super) struct EcsDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) clusters: Option<Vec<ClusterDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) services: Option<Vec<ServiceDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) task_definitions: Option<Vec<Lenient<TaskDefinitionDto>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tasks: Option<Vec<TaskDto>>,
    /// `describe-container-instances` → `.containerInstances[]`, of every cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) container_instances: Option<Vec<ContainerInstanceDto>>,
}

/// An ECS container instance (EC2 launch type).
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ContainerInstanceDto {
    pub(super) container_instance_arn: String,
    /// The cluster; when absent, taken from the ARN (`container-instance/<cluster>/<id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cluster_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ec2_instance_id: Option<String>,
    /// ECS agent settings of `/etc/ecs/ecs.config` that bear on credentials, such as
    /// `ECS_AWSVPC_BLOCK_IMDS`. No API returns them: absent means unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) agent_settings: Option<BTreeMap<String, String>>,
}

/// `ec2 describe-instances` → `.Reservations[].Instances[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Ec2InstanceDto {
    pub(super) instance_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) iam_instance_profile: Option<IamInstanceProfileDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct IamInstanceProfileDto {
    pub(super) arn: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ClusterDto {
    pub(super) cluster_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cluster_name: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ServiceDto {
    pub(super) service_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) service_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cluster_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) task_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) launch_type: Option<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub(super) capacity_provider_strategy: Vec<CapacityProviderItemDto>,
}

/// One item of a service's `capacityProviderStrategy`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CapacityProviderItemDto {
    pub(super) capacity_provider: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TaskDefinitionDto {
    pub(super) task_definition_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) revision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) task_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) execution_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) network_mode: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) requires_compatibilities: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) container_definitions: Vec<ContainerDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ContainerDto {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) image: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) secrets: Vec<SecretRefDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) log_configuration: Option<LogConfigurationDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) repository_credentials: Option<RepositoryCredentialsDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SecretRefDto {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) value_from: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LogConfigurationDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) log_driver: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) options: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) secret_options: Vec<SecretRefDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RepositoryCredentialsDto {
    #[serde(default, deserialize_with = "nullable")]
    pub(super) credentials_parameter: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TaskDto {
    pub(super) task_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) cluster_arn: Option<String>,
    pub(super) task_definition_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) launch_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) container_instance_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) overrides: Option<TaskOverridesDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TaskOverridesDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) task_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) execution_role_arn: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SecretDto {
    #[serde(rename = "ARN")]
    pub(super) arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) tags: Vec<TagDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) resource_policy: Option<Value>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct SsmParameterDto {
    pub(super) name: String,
    #[serde(rename = "ARN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) arn: Option<String>,
    #[serde(rename = "Type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) parameter_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) key_id: Option<String>,
    /// `ssm list-tags-for-resource` → `.TagList`; absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tags: Option<Vec<TagDto>>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct KmsKeyDto {
    pub(super) key_metadata: KeyMetadataDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) policy: Option<Value>,
    #[serde(default)]
    pub(super) aliases: Vec<AliasDto>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) tags: Vec<KmsTagDto>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct KeyMetadataDto {
    pub(super) key_id: String,
    pub(super) arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) key_manager: Option<String>,
}

#[derive(Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AliasDto {
    pub(super) alias_name: String,
}

#[derive(Deserialize, Serialize)]
pub(super) struct KmsTagDto {
    #[serde(rename = "TagKey")]
    pub(super) key: String,
    #[serde(rename = "TagValue", default)]
    pub(super) value: String,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EcrRepositoryDto {
    pub(super) repository_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) repository_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) repository_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) policy_text: Option<Value>,
    /// `ecr list-tags-for-resource` → `.tags` (`Key`/`Value`); absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tags: Option<Vec<TagDto>>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LogGroupDto {
    pub(super) log_group_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) arn: Option<String>,
    /// `logs list-tags-for-resource` → `.tags` (a map); absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct BucketDto {
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) policy: Option<Value>,
    /// `get-public-access-block` → `.PublicAccessBlockConfiguration`; absent when not
    /// collected, all `false` when the bucket has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) public_access_block: Option<PublicAccessBlockDto>,
    /// `get-bucket-acl` output; absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) acl: Option<BucketAclDto>,
    /// `get-bucket-encryption` → `.ServerSideEncryptionConfiguration`; absent when not
    /// collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) encryption: Option<BucketEncryptionDto>,
    /// `get-bucket-tagging` → `.TagSet`; absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tags: Option<Vec<TagDto>>,
}

#[derive(Deserialize, Serialize, Debug)]
pub(super) struct GapDto {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) operation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<String>,
}

// ---- conversion into the model ----

struct Converter<'a> {
    file: &'a str,
    /// Warnings about parts read as absent or skipped.
    diagnostics: std::cell::RefCell<Vec<model::Diagnostic>>,
}

/// Where a task definition stands, to resolve what it names relative to its own account.
struct TaskPlace<'r> {
    partition: &'r str,
    account: &'r str,
    /// The account's roles, when IAM was collected, to resolve bare role names with their path.
    roles: Option<&'r [model::Role]>,
}

fn tags(list: Vec<TagDto>) -> model::Tags {
    list.into_iter().map(|t| (t.key, t.value)).collect()
}

fn public_access_block(b: PublicAccessBlockDto) -> model::PublicAccessBlock {
    model::PublicAccessBlock {
        block_public_acls: b.block_public_acls,
        ignore_public_acls: b.ignore_public_acls,
        block_public_policy: b.block_public_policy,
        restrict_public_buckets: b.restrict_public_buckets,
    }
}

/// The grants of an ACL that name everyone or every signed AWS principal.
fn public_grants(acl: BucketAclDto) -> Vec<model::PublicGrant> {
    acl.grants
        .into_iter()
        .filter_map(|g| {
            let uri = g.grantee?.uri?;
            let grantee = match uri.rsplit('/').next()? {
                "AllUsers" => model::PublicGrantee::AllUsers,
                "AuthenticatedUsers" => model::PublicGrantee::AuthenticatedUsers,
                _ => return None,
            };
            Some(model::PublicGrant {
                grantee,
                permission: g.permission.unwrap_or_default(),
            })
        })
        .collect()
}

/// The KMS key of a bucket's default encryption: `Some(key)` for SSE-KMS (`None` key: the
/// AWS-managed `aws/s3`), `None` for SSE-S3 or no rule.
fn default_kms_key(encryption: &BucketEncryptionDto) -> Option<Option<String>> {
    encryption.rules.iter().find_map(|r| {
        let d = r.apply_server_side_encryption_by_default.as_ref()?;
        let algorithm = d.sse_algorithm.as_deref()?;
        algorithm
            .starts_with("aws:kms")
            .then(|| d.kms_master_key_id.clone().filter(|k| !k.is_empty()))
    })
}

/// The last segment of a `/`-separated ARN resource, as IAM names roles, users and policies.
fn last_segment(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

impl Converter<'_> {
    fn policy(&self, value: &Value, path: &str) -> Result<PolicyDocument, LoadError> {
        PolicyDocument::parse(value).map_err(|source| LoadError::Policy {
            file: self.file.to_string(),
            path: path.to_string(),
            source,
        })
    }

    fn opt_policy(
        &self,
        value: Option<&Value>,
        path: &str,
    ) -> Result<Option<PolicyDocument>, LoadError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v) => self.policy(v, path).map(Some),
        }
    }

    fn arn(&self, arn: &str, path: &str) -> Result<Arn, LoadError> {
        Arn::parse(arn).map_err(|source| LoadError::Arn {
            file: self.file.to_string(),
            path: path.to_string(),
            source,
        })
    }

    fn shape(&self, path: String, message: impl Into<String>) -> LoadError {
        LoadError::Shape {
            file: self.file.to_string(),
            path,
            message: message.into(),
        }
    }

    fn inline(
        &self,
        list: Vec<NamedPolicyDto>,
        path: &str,
    ) -> Result<Vec<model::InlinePolicy>, LoadError> {
        list.into_iter()
            .enumerate()
            .map(|(i, p)| {
                Ok(model::InlinePolicy {
                    document: self
                        .policy(&p.policy_document, &format!("{path}[{i}].PolicyDocument"))?,
                    name: p.policy_name,
                })
            })
            .collect()
    }

    fn inventory(&self, s: Snapshot) -> Result<model::Inventory, LoadError> {
        let organization = s.organization.map(|o| self.organization(o)).transpose()?;
        let accounts = s
            .accounts
            .into_iter()
            .enumerate()
            .map(|(i, a)| self.account(a, &format!("accounts[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let gaps = s
            .gaps
            .unwrap_or_default()
            .into_iter()
            .map(|g| model::Gap {
                account: g.account,
                region: g.region,
                service: g.service,
                operation: g.operation,
                resource: g.resource,
                error: g.error,
            })
            .collect();
        Ok(model::Inventory {
            collected_at: s.collected_at,
            organization,
            accounts,
            gaps,
            diagnostics: self.diagnostics.take(),
        })
    }

    fn organization(&self, o: OrgDto) -> Result<model::Organization, LoadError> {
        let mut policies = Vec::new();
        for (i, p) in o.policies.into_iter().enumerate() {
            let path = format!("organization.policies[{i}]");
            let kind = match p.summary.kind.as_str() {
                "SERVICE_CONTROL_POLICY" => model::OrgPolicyKind::Scp,
                "RESOURCE_CONTROL_POLICY" => model::OrgPolicyKind::Rcp,
                other => {
                    return Err(self.shape(
                        format!("{path}.PolicySummary.Type"),
                        format!("expected `SERVICE_CONTROL_POLICY` or `RESOURCE_CONTROL_POLICY`, found `{other}`"),
                    ));
                }
            };
            policies.push(model::OrgPolicy {
                document: self.policy(&p.content, &format!("{path}.Content"))?,
                name: p.summary.name.unwrap_or_else(|| p.summary.id.clone()),
                id: p.summary.id,
                kind,
                targets: p.targets,
            });
        }
        Ok(model::Organization {
            id: o.id,
            management_account_id: o.management_account_id,
            accounts: o
                .accounts
                .into_iter()
                .map(|a| model::OrgAccount {
                    id: a.id,
                    name: a.name,
                })
                .collect(),
            parents: o.parents,
            unit_names: o
                .organizational_units
                .into_iter()
                .filter_map(|u| Some((u.id, u.name?)))
                .collect(),
            policies,
        })
    }

    fn account(&self, a: AccountDto, path: &str) -> Result<model::Account, LoadError> {
        if !model::arn::is_account_id(&a.id) {
            return Err(self.shape(
                format!("{path}.id"),
                format!("expected a 12-digit account id, found `{}`", a.id),
            ));
        }
        let partition = a.partition.unwrap_or_else(|| "aws".to_string());
        let iam = a
            .iam
            .map(|iam| self.iam(iam, &format!("{path}.iam")))
            .transpose()?;
        let mut regions = BTreeMap::new();
        for (name, r) in a.regions {
            let rpath = format!("{path}.regions.{name}");
            let place = TaskPlace {
                partition: &partition,
                account: &a.id,
                roles: iam.as_ref().map(|i| i.roles.as_slice()),
            };
            let region = self.region(r, &rpath, &place, &name)?;
            regions.insert(name, region);
        }
        let s3_buckets = a
            .s3_buckets
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, b)| {
                        Ok(model::Bucket {
                            policy: self.opt_policy(
                                b.policy.as_ref(),
                                &format!("{path}.s3_buckets[{i}].Policy"),
                            )?,
                            public_access_block: b.public_access_block.map(public_access_block),
                            public_grants: b.acl.map(public_grants),
                            encryption_collected: b.encryption.is_some(),
                            default_kms_key: b.encryption.as_ref().and_then(default_kms_key),
                            tags: b.tags.map(tags),
                            name: b.name,
                            region: b.region,
                        })
                    })
                    .collect::<Result<Vec<_>, LoadError>>()
            })
            .transpose()?;
        Ok(model::Account {
            id: a.id,
            name: a.name,
            partition,
            iam,
            regions,
            s3_buckets,
            s3_public_access_block: a.s3_public_access_block.map(public_access_block),
        })
    }

    fn iam(&self, iam: IamDto, path: &str) -> Result<model::Iam, LoadError> {
        let mut roles = Vec::new();
        for (i, r) in iam.role_detail_list.into_iter().enumerate() {
            let rpath = format!("{path}.RoleDetailList[{i}]");
            self.arn(&r.arn, &format!("{rpath}.Arn"))?;
            roles.push(model::Role {
                name: r.role_name.unwrap_or_else(|| last_segment(&r.arn)),
                path: r.path.unwrap_or_else(|| "/".to_string()),
                role_id: r.role_id,
                trust: self.opt_policy(
                    r.assume_role_policy_document.as_ref(),
                    &format!("{rpath}.AssumeRolePolicyDocument"),
                )?,
                inline: self.inline(r.role_policy_list, &format!("{rpath}.RolePolicyList"))?,
                attached: r
                    .attached_managed_policies
                    .into_iter()
                    .map(|p| p.policy_arn)
                    .collect(),
                boundary: r
                    .permissions_boundary
                    .and_then(|b| b.permissions_boundary_arn),
                tags: tags(r.tags),
                instance_profiles: r.instance_profile_list.into_iter().map(|p| p.arn).collect(),
                arn: r.arn,
            });
        }
        let mut users = Vec::new();
        for (i, u) in iam.user_detail_list.into_iter().enumerate() {
            let upath = format!("{path}.UserDetailList[{i}]");
            self.arn(&u.arn, &format!("{upath}.Arn"))?;
            users.push(model::User {
                name: u.user_name.unwrap_or_else(|| last_segment(&u.arn)),
                user_id: u.user_id,
                inline: self.inline(u.user_policy_list, &format!("{upath}.UserPolicyList"))?,
                attached: u
                    .attached_managed_policies
                    .into_iter()
                    .map(|p| p.policy_arn)
                    .collect(),
                groups: u.group_list,
                boundary: u
                    .permissions_boundary
                    .and_then(|b| b.permissions_boundary_arn),
                tags: tags(u.tags),
                arn: u.arn,
            });
        }
        let mut groups = Vec::new();
        for (i, g) in iam.group_detail_list.into_iter().enumerate() {
            let gpath = format!("{path}.GroupDetailList[{i}]");
            groups.push(model::Group {
                name: g.group_name.unwrap_or_else(|| last_segment(&g.arn)),
                inline: self.inline(g.group_policy_list, &format!("{gpath}.GroupPolicyList"))?,
                attached: g
                    .attached_managed_policies
                    .into_iter()
                    .map(|p| p.policy_arn)
                    .collect(),
                arn: g.arn,
            });
        }
        let mut policies = Vec::new();
        for (i, p) in iam.policies.into_iter().enumerate() {
            let ppath = format!("{path}.Policies[{i}]");
            let default = p.policy_version_list.iter().enumerate().find(|(_, v)| {
                v.is_default_version
                    || (v.version_id.is_some() && v.version_id == p.default_version_id)
            });
            let document = match default {
                Some((j, v)) => self.opt_policy(
                    v.document.as_ref(),
                    &format!("{ppath}.PolicyVersionList[{j}].Document"),
                )?,
                None => None,
            };
            policies.push(model::ManagedPolicy {
                name: p.policy_name.unwrap_or_else(|| last_segment(&p.arn)),
                arn: p.arn,
                document,
            });
        }
        Ok(model::Iam {
            roles,
            users,
            groups,
            policies,
        })
    }

    fn region(
        &self,
        r: RegionDto,
        path: &str,
        place: &TaskPlace<'_>,
        region: &str,
    ) -> Result<model::Region, LoadError> {
        let (partition, account) = (place.partition, place.account);
        let ecs = r
            .ecs
            .map(|e| self.ecs(e, &format!("{path}.ecs"), place))
            .transpose()?;
        let secrets = r
            .secrets
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let spath = format!("{path}.secrets[{i}]");
                        self.arn(&s.arn, &format!("{spath}.ARN"))?;
                        Ok(model::Secret {
                            name: s.name.unwrap_or_else(|| {
                                s.arn.rsplit(':').next().unwrap_or_default().to_string()
                            }),
                            kms_key_id: s.kms_key_id,
                            policy: self.opt_policy(
                                s.resource_policy.as_ref(),
                                &format!("{spath}.ResourcePolicy"),
                            )?,
                            tags: tags(s.tags),
                            arn: s.arn,
                        })
                    })
                    .collect::<Result<Vec<_>, LoadError>>()
            })
            .transpose()?;
        let ssm_parameters = r.ssm_parameters.map(|list| {
            list.into_iter()
                .map(|p| model::SsmParameter {
                    arn: p
                        .arn
                        .unwrap_or_else(|| ssm_parameter_arn(partition, region, account, &p.name)),
                    parameter_type: p.parameter_type.unwrap_or_else(|| "String".to_string()),
                    key_id: p.key_id,
                    tags: p.tags.map(tags),
                    name: p.name,
                })
                .collect()
        });
        let kms_keys = r
            .kms_keys
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, k)| {
                        let kpath = format!("{path}.kms_keys[{i}]");
                        self.arn(&k.key_metadata.arn, &format!("{kpath}.KeyMetadata.Arn"))?;
                        let aliases: Vec<String> =
                            k.aliases.into_iter().map(|a| a.alias_name).collect();
                        let manager = match k.key_metadata.key_manager.as_deref() {
                            Some("AWS") => model::KeyManager::Aws,
                            Some(_) => model::KeyManager::Customer,
                            None if aliases.iter().any(|a| a.starts_with("alias/aws/")) => {
                                model::KeyManager::Aws
                            }
                            None => model::KeyManager::Customer,
                        };
                        Ok(model::KmsKey {
                            arn: k.key_metadata.arn,
                            key_id: k.key_metadata.key_id,
                            manager,
                            policy: self
                                .opt_policy(k.policy.as_ref(), &format!("{kpath}.Policy"))?,
                            aliases,
                            tags: k.tags.into_iter().map(|t| (t.key, t.value)).collect(),
                        })
                    })
                    .collect::<Result<Vec<_>, LoadError>>()
            })
            .transpose()?;
        let ecr_repositories = r
            .ecr_repositories
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let epath = format!("{path}.ecr_repositories[{i}]");
                        let arn = self.arn(&e.repository_arn, &format!("{epath}.repositoryArn"))?;
                        Ok(model::EcrRepository {
                            name: e
                                .repository_name
                                .unwrap_or_else(|| arn.resource_name().to_string()),
                            uri: e.repository_uri,
                            policy: self.opt_policy(
                                e.policy_text.as_ref(),
                                &format!("{epath}.policyText"),
                            )?,
                            tags: e.tags.map(tags),
                            arn: e.repository_arn,
                        })
                    })
                    .collect::<Result<Vec<_>, LoadError>>()
            })
            .transpose()?;
        let log_groups = r.log_groups.map(|list| {
            list.into_iter()
                .map(|g| {
                    let arn = match g.arn {
                        Some(arn) => arn.strip_suffix(":*").unwrap_or(&arn).to_string(),
                        None => format!(
                            "arn:{partition}:logs:{region}:{account}:log-group:{}",
                            g.log_group_name
                        ),
                    };
                    model::LogGroup {
                        arn,
                        name: g.log_group_name,
                        tags: g.tags,
                    }
                })
                .collect()
        });
        let ec2_instances = r.ec2_instances.map(|list| {
            list.into_iter()
                .map(|i| model::Ec2Instance {
                    instance_id: i.instance_id,
                    instance_profile_arn: i.iam_instance_profile.map(|p| p.arn),
                })
                .collect()
        });
        Ok(model::Region {
            ecs,
            secrets,
            ssm_parameters,
            kms_keys,
            ecr_repositories,
            log_groups,
            ec2_instances,
        })
    }

    fn ecs(&self, e: EcsDto, path: &str, place: &TaskPlace<'_>) -> Result<model::Ecs, LoadError> {
        let clusters = e
            .clusters
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let arn =
                            self.arn(&c.cluster_arn, &format!("{path}.clusters[{i}].clusterArn"))?;
                        Ok(model::Cluster {
                            name: c
                                .cluster_name
                                .unwrap_or_else(|| arn.resource_name().to_string()),
                            arn: c.cluster_arn,
                        })
                    })
                    .collect::<Result<Vec<_>, LoadError>>()
            })
            .transpose()?;
        let services = e
            .services
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let arn =
                            self.arn(&s.service_arn, &format!("{path}.services[{i}].serviceArn"))?;
                        Ok(model::Service {
                            name: s
                                .service_name
                                .unwrap_or_else(|| last_segment(arn.resource_name())),
                            arn: s.service_arn,
                            cluster_arn: s.cluster_arn,
                            task_definition: s.task_definition,
                            launch_type: s.launch_type,
                            capacity_providers: s
                                .capacity_provider_strategy
                                .into_iter()
                                .map(|c| c.capacity_provider)
                                .collect(),
                        })
                    })
                    .collect::<Result<Vec<_>, LoadError>>()
            })
            .transpose()?;
        let task_definitions = e.task_definitions.map(|list| {
            list.into_iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    let tpath = format!("{path}.task_definitions[{i}]");
                    match t {
                        Lenient::Read(t) => self.task_definition(t, &tpath, place),
                        Lenient::Unread {
                            value,
                            path: inner,
                            message,
                        } => {
                            let subject = value
                                .get("taskDefinitionArn")
                                .and_then(Value::as_str)
                                .map_or_else(|| self.place(&tpath), str::to_string);
                            let at = if inner.is_empty() || inner == "." {
                                tpath
                            } else {
                                format!("{tpath}.{inner}")
                            };
                            self.warn(
                                "task-definition-skipped",
                                subject,
                                format!("`{at}`: {message}; this task definition is skipped, the rest of the snapshot is analysed"),
                            );
                            None
                        }
                    }
                })
                .collect()
        });
        let tasks = e
            .tasks
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, t)| {
                        self.arn(&t.task_arn, &format!("{path}.tasks[{i}].taskArn"))?;
                        let overrides = t.overrides;
                        Ok(model::Task {
                            arn: t.task_arn,
                            cluster_arn: t.cluster_arn,
                            task_definition_arn: t.task_definition_arn,
                            task_role_override: overrides
                                .as_ref()
                                .and_then(|o| o.task_role_arn.clone()),
                            execution_role_override: overrides.and_then(|o| o.execution_role_arn),
                            group: t.group,
                            launch_type: t.launch_type,
                            container_instance_arn: t.container_instance_arn,
                        })
                    })
                    .collect::<Result<Vec<_>, LoadError>>()
            })
            .transpose()?;
        let container_instances = e
            .container_instances
            .map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let arn = self.arn(
                            &c.container_instance_arn,
                            &format!("{path}.container_instances[{i}].containerInstanceArn"),
                        )?;
                        // `container-instance/<cluster>/<id>` names its cluster.
                        let cluster_arn = c.cluster_arn.or_else(|| {
                            let rest = arn.resource.strip_prefix("container-instance/")?;
                            let (cluster, _) = rest.split_once('/')?;
                            Some(format!(
                                "arn:{}:ecs:{}:{}:cluster/{cluster}",
                                arn.partition, arn.region, arn.account
                            ))
                        });
                        Ok(model::ContainerInstance {
                            arn: c.container_instance_arn,
                            cluster_arn,
                            ec2_instance_id: c.ec2_instance_id,
                            agent_settings: c.agent_settings,
                        })
                    })
                    .collect::<Result<Vec<_>, LoadError>>()
            })
            .transpose()?;
        Ok(model::Ecs {
            clusters,
            services,
            task_definitions,
            tasks,
            container_instances,
        })
    }

    /// `file` at `path`, for warnings about a part with no ARN of its own.
    fn place(&self, path: &str) -> String {
        format!("{} at {path}", self.file)
    }

    fn warn(&self, code: &'static str, subject: String, message: String) {
        self.diagnostics
            .borrow_mut()
            .push(model::Diagnostic::warning(code, subject, message));
    }

    /// Reads a task definition. What is wrong inside it stays local: a field that cannot be read
    /// is read as absent, with a warning naming its JSON path; only a task definition without a
    /// valid ARN is skipped (`None`).
    fn task_definition(
        &self,
        t: TaskDefinitionDto,
        path: &str,
        place: &TaskPlace<'_>,
    ) -> Option<model::TaskDefinition> {
        let arn = match Arn::parse(&t.task_definition_arn) {
            Ok(arn) if arn.service == "ecs" && arn.resource_type() == "task-definition" => arn,
            Ok(_) | Err(_) => {
                self.warn(
                    "task-definition-skipped",
                    self.place(path),
                    format!(
                        "`{path}.taskDefinitionArn` is `{}`: expected `arn:<partition>:ecs:<region>:<account>:task-definition/<family>:<revision>`; this task definition is skipped",
                        t.task_definition_arn
                    ),
                );
                return None;
            }
        };
        let subject = t.task_definition_arn.clone();
        let task_role_arn = self.task_role(
            t.task_role_arn.as_deref(),
            &format!("{path}.taskRoleArn"),
            &subject,
            place,
        );
        let execution_role_arn = self.task_role(
            t.execution_role_arn.as_deref(),
            &format!("{path}.executionRoleArn"),
            &subject,
            place,
        );
        let mut containers = Vec::new();
        for (i, c) in t.container_definitions.into_iter().enumerate() {
            let cfield = format!("containerDefinitions[{i}]");
            if c.name.trim().is_empty() {
                self.warn(
                    "container-skipped",
                    subject.clone(),
                    format!("`{path}.{cfield}.name` is missing or empty: expected a container name; this container is skipped"),
                );
                continue;
            }
            let (log_driver, log_options, log_secret_options) = match c.log_configuration {
                Some(l) => (l.log_driver, l.options, l.secret_options),
                None => (None, BTreeMap::new(), Vec::new()),
            };
            let refs = |list: Vec<SecretRefDto>, field: &str| -> Vec<model::SecretRef> {
                list.into_iter()
                    .enumerate()
                    .map(|(j, s)| model::SecretRef {
                        name: s.name,
                        value_from: s.value_from,
                        field: format!("{cfield}.{field}[{j}].valueFrom"),
                    })
                    .collect()
            };
            let repository_credentials = c
                .repository_credentials
                .filter(|r| !r.credentials_parameter.trim().is_empty())
                .map(|r| model::SecretRef {
                    name: "credentialsParameter".to_string(),
                    value_from: r.credentials_parameter,
                    field: format!("{cfield}.repositoryCredentials.credentialsParameter"),
                });
            containers.push(model::ContainerDefinition {
                secrets: refs(c.secrets, "secrets"),
                log_secret_options: refs(log_secret_options, "logConfiguration.secretOptions"),
                name: c.name,
                index: i,
                image: c.image.filter(|i| !i.trim().is_empty()),
                log_driver,
                log_options,
                repository_credentials,
            });
        }
        let family = t.family.unwrap_or_else(|| {
            let name = arn.resource_name();
            name.rsplit_once(':').map_or(name, |(f, _)| f).to_string()
        });
        Some(model::TaskDefinition {
            arn: t.task_definition_arn,
            family,
            revision: t.revision,
            task_role_arn,
            execution_role_arn,
            network_mode: t.network_mode,
            requires_compatibilities: t.requires_compatibilities,
            containers,
        })
    }

    /// Resolves `taskRoleArn` or `executionRoleArn`. ECS takes "the short name or full ARN" of a
    /// role of the task's own account; null and the empty string mean no role. A value that is
    /// neither is read as absent, with a warning.
    fn task_role(
        &self,
        value: Option<&str>,
        path: &str,
        subject: &str,
        place: &TaskPlace<'_>,
    ) -> Option<String> {
        let value = value.map(str::trim).filter(|v| !v.is_empty())?;
        if value.starts_with("arn:") {
            return match Arn::parse(value) {
                Ok(arn) if arn.service == "iam" && arn.resource_type() == "role" => {
                    Some(value.to_string())
                }
                Ok(_) | Err(_) => {
                    self.warn(
                        "bad-role-reference",
                        subject.to_string(),
                        format!("`{path}` is `{value}`: expected a role ARN `arn:<partition>:iam::<account>:role/<name>` or a role name; the task definition is analysed without this role"),
                    );
                    None
                }
            };
        }
        if !is_role_name(value) {
            self.warn(
                "bad-role-reference",
                subject.to_string(),
                format!("`{path}` is `{value}`: expected a role ARN or a role name (letters, digits and `+=,.@_-`, at most 64); the task definition is analysed without this role"),
            );
            return None;
        }
        // A role name is unique in its account whatever its path, so a name resolves to the
        // role of that name in the snapshot, path included.
        let found = place.roles.and_then(|roles| {
            roles
                .iter()
                .find(|r| r.name == value)
                .or_else(|| roles.iter().find(|r| r.name.eq_ignore_ascii_case(value)))
        });
        Some(match found {
            Some(role) => role.arn.clone(),
            None => format!(
                "arn:{}:iam::{}:role/{value}",
                place.partition, place.account
            ),
        })
    }
}

/// True for a valid IAM role name: 1 to 64 of `[A-Za-z0-9+=,.@_-]`.
fn is_role_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error with its chain of causes, as the CLI prints it.
    fn err(text: &str) -> String {
        let e = load_str(text, "snap.json").unwrap_err();
        let mut out = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            out.push_str(&format!(": {s}"));
            source = s.source();
        }
        out
    }

    #[test]
    fn truncated_json_names_file_and_position() {
        let e = err(r#"{"schema": "rolechain.snapshot/v1", "accounts": ["#);
        assert!(
            e.starts_with("`snap.json` is not valid JSON: EOF while parsing a list"),
            "{e}"
        );
        assert!(e.contains("line 1"), "{e}");
    }

    #[test]
    fn unknown_schema_is_named() {
        assert_eq!(
            err(r#"{"schema": "rolechain.graph/v1", "nodes": []}"#),
            "`snap.json` has schema `rolechain.graph/v1`: expected `rolechain.snapshot/v1`"
        );
        assert_eq!(
            err(r#"{"accounts": []}"#),
            "`snap.json` has schema `(none)`: expected `rolechain.snapshot/v1`"
        );
    }

    #[test]
    fn wrong_top_level_or_schema_is_refused_before_the_rest_is_read() {
        assert_eq!(
            err(r#"[{"schema": "rolechain.snapshot/v1"}]"#),
            "`snap.json` at `.`: expected a JSON object (a `rolechain.snapshot/v1` document), found an array"
        );
        assert_eq!(
            err(r#""rolechain.snapshot/v1""#),
            "`snap.json` at `.`: expected a JSON object (a `rolechain.snapshot/v1` document), found a string"
        );
        // The schema is read first; the malformed rest is never reached.
        assert_eq!(
            err(r#"{"schema": "rolechain.graph/v1", "nodes": [1, 2, {"#),
            "`snap.json` has schema `rolechain.graph/v1`: expected `rolechain.snapshot/v1`"
        );
        // A schema after other parts is found too.
        assert_eq!(
            err(r#"{"accounts": [{"id": "x"}], "schema": "other/v2"}"#),
            "`snap.json` has schema `other/v2`: expected `rolechain.snapshot/v1`"
        );
    }

    #[test]
    fn task_definitions_with_odd_fields_stay_local() {
        let text = r#"{"schema": "rolechain.snapshot/v1", "accounts": [{"id": "111111111111",
          "iam": {"RoleDetailList": [{"Arn": "arn:aws:iam::111111111111:role/service-role/ecsTaskExecutionRole", "RoleName": "ecsTaskExecutionRole", "Path": "/service-role/"}]},
          "regions": {"us-east-1": {"ecs": {"task_definitions": [
            {"taskDefinitionArn": "arn:aws:ecs:us-east-1:111111111111:task-definition/a:1",
             "executionRoleArn": "ecsTaskExecutionRole", "taskRoleArn": "",
             "containerDefinitions": [{"name": "app", "secrets": null,
               "logConfiguration": {"logDriver": "awslogs", "secretOptions": null},
               "repositoryCredentials": {"credentialsParameter": null}}]},
            {"taskDefinitionArn": "arn:aws:ecs:us-east-1:111111111111:task-definition/b:1",
             "taskRoleArn": "{{task-role-arn}}",
             "containerDefinitions": [{"name": "app", "secrets": "not a list"}]},
            {"taskDefinitionArn": "arn:aws:ecs:us-east-1:111111111111:task-definition/c:1",
             "taskRoleArn": "<role-arn>", "containerDefinitions": [{"name": "app"}]}
          ]}}}}]}"#;
        let inv = load_str(text, "snap.json").unwrap();
        let tds = inv.accounts[0].regions["us-east-1"]
            .ecs
            .as_ref()
            .unwrap()
            .task_definitions
            .as_ref()
            .unwrap();
        // `b` has a field of the wrong type: it alone is skipped.
        assert_eq!(tds.len(), 2);
        assert_eq!(
            tds[0].execution_role_arn.as_deref(),
            Some("arn:aws:iam::111111111111:role/service-role/ecsTaskExecutionRole"),
            "a role name resolves to the role of that name, path included"
        );
        assert_eq!(tds[0].task_role_arn, None, "an empty role is absent");
        assert!(tds[0].containers[0].secrets.is_empty());
        assert_eq!(tds[0].containers[0].repository_credentials, None);
        assert_eq!(
            tds[1].task_role_arn, None,
            "a placeholder is read as absent"
        );
        let codes: Vec<(&str, &str)> = inv
            .diagnostics
            .iter()
            .map(|d| (d.code, d.subject.as_str()))
            .collect();
        assert!(
            codes.contains(&(
                "task-definition-skipped",
                "arn:aws:ecs:us-east-1:111111111111:task-definition/b:1"
            )),
            "{codes:?}"
        );
        assert!(
            codes.contains(&(
                "bad-role-reference",
                "arn:aws:ecs:us-east-1:111111111111:task-definition/c:1"
            )),
            "{codes:?}"
        );
        let skipped = inv
            .diagnostics
            .iter()
            .find(|d| d.code == "task-definition-skipped")
            .unwrap();
        assert!(
            skipped
                .message
                .contains("task_definitions[1].containerDefinitions[0].secrets"),
            "{}",
            skipped.message
        );
    }

    #[test]
    fn wrong_type_names_json_path() {
        let e = err(
            r#"{"schema": "rolechain.snapshot/v1", "accounts": [{"id": "111111111111", "iam": {"RoleDetailList": [{"Arn": 5}]}}]}"#,
        );
        assert!(e.starts_with("`snap.json` at `accounts[0].iam.RoleDetailList[0].Arn`: expected a string, found integer `5`"), "{e}");
    }

    #[test]
    fn malformed_arn_names_json_path() {
        let e = err(
            r#"{"schema": "rolechain.snapshot/v1", "accounts": [{"id": "111111111111", "iam": {"RoleDetailList": [{"Arn": "role/web"}]}}]}"#,
        );
        assert_eq!(
            e,
            "`snap.json` at `accounts[0].iam.RoleDetailList[0].Arn`: `role/web` is not an ARN: expected it to start with `arn:`"
        );
    }

    #[test]
    fn policy_that_is_not_a_policy_names_paths() {
        let e = err(
            r#"{"schema": "rolechain.snapshot/v1", "accounts": [{"id": "111111111111", "iam": {"RoleDetailList": [{"Arn": "arn:aws:iam::111111111111:role/r", "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Permit", "Action": "sts:AssumeRole"}]}}]}}]}"#,
        );
        assert_eq!(
            e,
            "`snap.json` at `accounts[0].iam.RoleDetailList[0].AssumeRolePolicyDocument`: not a policy document: expected `Allow` or `Deny` at `Statement[0].Effect`"
        );
    }

    #[test]
    fn ssm_arn_is_derived_without_leading_slash() {
        assert_eq!(
            ssm_parameter_arn("aws", "us-east-1", "111111111111", "/prod/db"),
            "arn:aws:ssm:us-east-1:111111111111:parameter/prod/db"
        );
        assert_eq!(
            ssm_parameter_arn("aws", "us-east-1", "111111111111", "prod/db"),
            "arn:aws:ssm:us-east-1:111111111111:parameter/prod/db"
        );
    }

    #[test]
    fn log_group_id_drops_trailing_star_and_policy_names_come_from_arns() {
        let inv = load_str(
            r#"{"schema": "rolechain.snapshot/v1", "accounts": [{"id": "111111111111",
              "iam": {"Policies": [{"Arn": "arn:aws:iam::111111111111:policy/team/read", "DefaultVersionId": "v2",
                 "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": false, "Document": {"Statement": []}},
                                       {"VersionId": "v2", "IsDefaultVersion": true, "Document": "%7B%22Statement%22%3A%5B%5D%7D"}]}]},
              "regions": {"us-east-1": {"log_groups": [{"logGroupName": "/ecs/web", "arn": "arn:aws:logs:us-east-1:111111111111:log-group:/ecs/web:*"}]}}}]}"#,
            "s.json",
        )
        .unwrap();
        let acct = &inv.accounts[0];
        let p = &acct.iam.as_ref().unwrap().policies[0];
        assert_eq!(p.name, "read");
        assert_eq!(p.document.as_ref().unwrap().statements.len(), 0);
        let lg = &acct.regions["us-east-1"].log_groups.as_ref().unwrap()[0];
        assert_eq!(
            lg.arn,
            "arn:aws:logs:us-east-1:111111111111:log-group:/ecs/web"
        );
        assert!(
            acct.regions["us-east-1"].secrets.is_none(),
            "absent list means not collected"
        );
    }
}
