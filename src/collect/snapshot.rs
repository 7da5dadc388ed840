//! The `rolechain.snapshot/v1` reader (SNAPSHOT-V1.md §1), and the shapes every writer of a
//! snapshot serializes.
//!
//! A snapshot's parts are AWS API response shapes, verbatim. They are parsed leniently: unknown
//! fields are ignored at every level, because AWS adds fields over time, and every list part is
//! optional (absent = not collected). What is wrong gets an error that names the file, the JSON
//! path and what was expected.
//!
//! The shapes ([`Snapshot`] and the `…Dto` types under it) are public so that a program outside
//! the library writes a snapshot through the same definitions as the collector (the synthetic
//! organizations of `examples/synth/` do). Each field is named after the AWS field it holds; only
//! the fields that rolechain reads are there.

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
    // Each account is converted as soon as it is read, so that the parsed form of only one
    // account is held at a time. The fast path parses without tracking JSON paths; only a
    // failure is parsed again, with path tracking, to say where it failed.
    let converter = Converter::new(file);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = serde::de::DeserializeSeed::deserialize(Streamed(&converter), &mut de)
        .and_then(|read| de.end().map(|()| read));
    let read = match parsed {
        Ok(read) => read,
        Err(first) => {
            if let Some(err) = converter.failed.take() {
                return Err(err);
            }
            let converter = Converter::new(file);
            let mut de = serde_json::Deserializer::from_str(text);
            let mut track = serde_path_to_error::Track::new();
            let result = serde::de::DeserializeSeed::deserialize(
                Streamed(&converter),
                serde_path_to_error::Deserializer::new(&mut de, &mut track),
            )
            .and_then(|read| de.end().map(|()| read));
            if let Some(err) = converter.failed.take() {
                return Err(err);
            }
            // The same text fails the same way twice; should it not, the first error stands,
            // without its path.
            let (inner, path) = match result {
                Err(inner) => (inner, track.path().to_string()),
                Ok(_) => (first, ".".to_string()),
            };
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
    if read.schema.as_deref() != Some(SNAPSHOT_SCHEMA) {
        return Err(LoadError::Schema {
            file: file.to_string(),
            found: read.schema.unwrap_or_else(|| "(none)".to_string()),
        });
    }
    converter.inventory(read)
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
// One definition of each shape serves the reader and every writer (`collect::aws`, `merge`, and
// the synthetic organizations of `examples/synth/`): they derive `Serialize` as well, and leave
// absent optional fields out, so a written snapshot carries only what was read, under AWS's
// names. They are public for the writers outside the library; the rest of the library sees only
// `model` values.

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
pub enum Lenient<T> {
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
        // The part is held as its text and read from there, so that no `Value` tree is built
        // for it unless it cannot be read.
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        if let Ok(t) = serde_json::from_str::<T>(raw.get()) {
            return Ok(Lenient::Read(t));
        }
        let value: Value = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
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

/// A policy document as a snapshot holds it: a JSON object, or text that is JSON or URL-encoded
/// JSON (as the IAM API returns it).
///
/// It is kept as its JSON text, as written: reading a snapshot builds no tree for it (the
/// reader parses the text straight into the model, [`PolicyDocument::parse_json`]). A writer
/// makes one from a `serde_json::Value` with `Document::from`.
#[derive(Clone, Debug)]
pub struct Document(Box<serde_json::value::RawValue>);

impl Document {
    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }

    /// The document as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    /// True for `null`, or text that is empty or blank: no document.
    fn is_absent(&self) -> bool {
        let json = self.json();
        if json == "null" {
            return true;
        }
        // A string of blanks, escaped (`\n`, `\u0020`, …) or not. Only a text made of blanks and
        // the characters of escapes is decoded to be sure, so a document's text never is.
        let Some(inner) = json.strip_prefix('"').and_then(|j| j.strip_suffix('"')) else {
            return false;
        };
        inner.chars().all(|c| {
            c.is_whitespace() || c.is_ascii_hexdigit() || matches!(c, '\\' | 'n' | 'r' | 't' | 'u')
        }) && serde_json::from_str::<String>(json).is_ok_and(|s| s.trim().is_empty())
    }
}

impl From<Value> for Document {
    fn from(value: Value) -> Document {
        Document::from(&value)
    }
}

impl From<&Value> for Document {
    fn from(value: &Value) -> Document {
        // A `Value` always serializes; `null` stands in should that ever change.
        Document(
            serde_json::value::to_raw_value(value)
                .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned()),
        )
    }
}

impl Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Document, D::Error> {
        Box::<serde_json::value::RawValue>::deserialize(deserializer).map(Document)
    }
}

/// A whole snapshot (SNAPSHOT-V1.md §1, "Fields").
///
/// `A` holds the accounts: a `Vec` when a snapshot is read, or any sequence that serializes as
/// one, so that a writer can produce the accounts one at a time instead of holding them all.
#[derive(Deserialize, Serialize)]
pub struct Snapshot<A = Vec<AccountDto>> {
    /// `schema`: [`SNAPSHOT_SCHEMA`]; anything else is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `collected_at`: when the snapshot was collected, as RFC 3339 text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<String>,
    /// `organization`: the AWS Organizations tree and its policies; without it, no SCP or RCP
    /// applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgDto>,
    /// `accounts`: one entry per account.
    #[serde(default)]
    pub accounts: A,
    /// `gaps`: what collection could not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gaps: Option<Vec<GapDto>>,
}

/// The `organization` part.
#[derive(Deserialize, Serialize)]
pub struct OrgDto {
    /// `id`: the organization id (`o-…`), the value of `aws:PrincipalOrgID`.
    #[serde(default)]
    pub id: String,
    /// `management_account_id`: the account that no SCP or RCP restricts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_account_id: Option<String>,
    /// `accounts`: `aws organizations list-accounts` → `.Accounts[]`.
    #[serde(default)]
    pub accounts: Vec<OrgAccountDto>,
    /// `parents`: each child id (account or OU) to its parent id (OU or root).
    #[serde(default)]
    pub parents: BTreeMap<String, String>,
    /// `aws organizations describe-organizational-unit` → `.OrganizationalUnit`, one per OU
    /// that `parents` names; absent in snapshots written before it was collected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organizational_units: Vec<OrgUnitDto>,
    /// `policies`: the SCPs and RCPs, with their targets.
    #[serde(default)]
    pub policies: Vec<OrgPolicyDto>,
}

/// `aws organizations describe-organizational-unit` → `.OrganizationalUnit`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrgUnitDto {
    /// `Id`: the OU id (`ou-…`).
    pub id: String,
    /// `Name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `aws organizations list-accounts` → `.Accounts[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrgAccountDto {
    /// `Id`: the account id.
    pub id: String,
    /// `Name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `aws organizations describe-policy` → `.Policy`, plus `targets`.
#[derive(Deserialize, Serialize)]
pub struct OrgPolicyDto {
    /// `PolicySummary`.
    #[serde(rename = "PolicySummary")]
    pub summary: OrgPolicySummaryDto,
    /// `Content`: the policy document.
    #[serde(rename = "Content")]
    pub content: Document,
    /// `targets`: the root, OU and account ids the policy is attached to.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// An organization policy's `PolicySummary`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrgPolicySummaryDto {
    /// `Id`: names the policy in proofs.
    pub id: String,
    /// `Name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Type`: `SERVICE_CONTROL_POLICY` or `RESOURCE_CONTROL_POLICY`.
    #[serde(rename = "Type")]
    pub kind: String,
}

/// One entry of `accounts`.
#[derive(Deserialize, Serialize)]
pub struct AccountDto {
    /// `id`: the 12-digit account id.
    pub id: String,
    /// `name`: a label for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `partition`: `aws` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// `iam`: `aws iam get-account-authorization-details`; absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam: Option<IamDto>,
    /// `regions`: each region name to that region's parts.
    #[serde(default)]
    pub regions: BTreeMap<String, RegionDto>,
    /// `s3_buckets`: absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_buckets: Option<Vec<BucketDto>>,
    /// `aws s3control get-public-access-block` → `.PublicAccessBlockConfiguration`; absent when
    /// not collected, all `false` when the account has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_public_access_block: Option<PublicAccessBlockDto>,
}

/// S3 Block Public Access settings, of an account or a bucket; a missing flag is `false`.
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlockDto {
    /// `BlockPublicAcls`.
    #[serde(default, deserialize_with = "nullable")]
    pub block_public_acls: bool,
    /// `IgnorePublicAcls`.
    #[serde(default, deserialize_with = "nullable")]
    pub ignore_public_acls: bool,
    /// `BlockPublicPolicy`.
    #[serde(default, deserialize_with = "nullable")]
    pub block_public_policy: bool,
    /// `RestrictPublicBuckets`.
    #[serde(default, deserialize_with = "nullable")]
    pub restrict_public_buckets: bool,
}

/// `aws s3api get-bucket-acl` output.
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BucketAclDto {
    /// `Grants`.
    #[serde(default, deserialize_with = "nullable")]
    pub grants: Vec<GrantDto>,
}

/// One of a bucket ACL's `Grants`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrantDto {
    /// `Grantee`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grantee: Option<GranteeDto>,
    /// `Permission`, such as `READ` or `FULL_CONTROL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
}

/// A grant's `Grantee`.
#[derive(Deserialize, Serialize)]
pub struct GranteeDto {
    /// `Type`: `CanonicalUser` or `Group`.
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `URI`: the group of a `Group` grantee.
    #[serde(rename = "URI", skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// `ID`: the canonical user id of a `CanonicalUser` grantee.
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `aws s3api get-bucket-encryption` → `.ServerSideEncryptionConfiguration`.
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryptionDto {
    /// `Rules`.
    #[serde(default, deserialize_with = "nullable")]
    pub rules: Vec<EncryptionRuleDto>,
}

/// One of a bucket encryption's `Rules`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionRuleDto {
    /// `ApplyServerSideEncryptionByDefault`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_server_side_encryption_by_default: Option<SseDefaultDto>,
}

/// A rule's `ApplyServerSideEncryptionByDefault`.
#[derive(Deserialize, Serialize)]
pub struct SseDefaultDto {
    /// `SSEAlgorithm`: `AES256`, `aws:kms` or `aws:kms:dsse`.
    #[serde(rename = "SSEAlgorithm", skip_serializing_if = "Option::is_none")]
    pub sse_algorithm: Option<String>,
    /// `KMSMasterKeyID`: the key of SSE-KMS; absent for the AWS-managed `aws/s3`.
    #[serde(rename = "KMSMasterKeyID", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
}

/// `aws iam get-account-authorization-details`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamDto {
    /// `UserDetailList`.
    #[serde(default)]
    pub user_detail_list: Vec<UserDto>,
    /// `GroupDetailList`.
    #[serde(default)]
    pub group_detail_list: Vec<GroupDto>,
    /// `RoleDetailList`.
    #[serde(default)]
    pub role_detail_list: Vec<RoleDto>,
    /// `Policies`: the customer-managed policies (and any AWS-managed ones collected).
    #[serde(default)]
    pub policies: Vec<ManagedPolicyDto>,
}

/// An inline policy: `RolePolicyList[]`, `UserPolicyList[]` or `GroupPolicyList[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NamedPolicyDto {
    /// `PolicyName`.
    pub policy_name: String,
    /// `PolicyDocument`: an object, its JSON text or its URL-encoded JSON text.
    pub policy_document: Document,
}

/// One of `AttachedManagedPolicies`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedDto {
    /// `PolicyArn`.
    pub policy_arn: String,
}

/// A role's or user's `PermissionsBoundary`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BoundaryDto {
    /// `PermissionsBoundaryArn`: the managed policy used as the boundary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary_arn: Option<String>,
}

/// A tag in `Key`/`Value` form.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagDto {
    /// `Key`.
    pub key: String,
    /// `Value`.
    #[serde(default)]
    pub value: String,
}

/// `RoleDetailList[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleDto {
    /// `Arn`.
    pub arn: String,
    /// `RoleName`; taken from the ARN when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// `Path`; `/aws-service-role/…` marks a service-linked role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `RoleId`: the known part of `aws:userid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// `AssumeRolePolicyDocument`: the trust policy; without one, the role cannot be assumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assume_role_policy_document: Option<Document>,
    /// `RolePolicyList`: the inline policies.
    #[serde(default)]
    pub role_policy_list: Vec<NamedPolicyDto>,
    /// `AttachedManagedPolicies`.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedDto>,
    /// `PermissionsBoundary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<BoundaryDto>,
    /// `Tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagDto>,
    /// `InstanceProfileList`: the instance profiles the role is in.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub instance_profile_list: Vec<InstanceProfileDto>,
}

/// `RoleDetailList[].InstanceProfileList[]`: the instance profiles a role is in.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceProfileDto {
    /// `Arn`.
    pub arn: String,
    /// `InstanceProfileName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_profile_name: Option<String>,
}

/// `UserDetailList[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserDto {
    /// `Arn`.
    pub arn: String,
    /// `UserName`; taken from the ARN when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// `UserId`: the value of `aws:userid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// `UserPolicyList`: the inline policies.
    #[serde(default)]
    pub user_policy_list: Vec<NamedPolicyDto>,
    /// `GroupList`: the names of the user's groups.
    #[serde(default)]
    pub group_list: Vec<String>,
    /// `AttachedManagedPolicies`.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedDto>,
    /// `PermissionsBoundary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<BoundaryDto>,
    /// `Tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagDto>,
}

/// `GroupDetailList[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupDto {
    /// `Arn`.
    pub arn: String,
    /// `GroupName`; taken from the ARN when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// `GroupPolicyList`: the inline policies.
    #[serde(default)]
    pub group_policy_list: Vec<NamedPolicyDto>,
    /// `AttachedManagedPolicies`.
    #[serde(default)]
    pub attached_managed_policies: Vec<AttachedDto>,
}

/// `Policies[]`: a managed policy with its versions.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicyDto {
    /// `Arn`.
    pub arn: String,
    /// `PolicyName`; taken from the ARN when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// `DefaultVersionId`: the version in force, when no version is marked `IsDefaultVersion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_version_id: Option<String>,
    /// `PolicyVersionList`.
    #[serde(default)]
    pub policy_version_list: Vec<PolicyVersionDto>,
}

/// `Policies[].PolicyVersionList[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersionDto {
    /// `Document`: an object, its JSON text or (as IAM returns it) its URL-encoded JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<Document>,
    /// `VersionId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `IsDefaultVersion`.
    #[serde(default)]
    pub is_default_version: bool,
}

/// The parts of one region; each is absent when not collected.
#[derive(Deserialize, Serialize, Default)]
pub struct RegionDto {
    /// `ecs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecs: Option<EcsDto>,
    /// `secrets`: `aws secretsmanager list-secrets` → `.SecretList[]`, each with its
    /// `ResourcePolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<SecretDto>>,
    /// `ssm_parameters`: `aws ssm describe-parameters` → `.Parameters[]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssm_parameters: Option<Vec<SsmParameterDto>>,
    /// `kms_keys`: one object per key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_keys: Option<Vec<KmsKeyDto>>,
    /// `ecr_repositories`: `aws ecr describe-repositories` → `.repositories[]`, each with its
    /// `policyText`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecr_repositories: Option<Vec<EcrRepositoryDto>>,
    /// `log_groups`: `aws logs describe-log-groups` → `.logGroups[]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_groups: Option<Vec<LogGroupDto>>,
    /// `ec2 describe-instances` → `.Reservations[].Instances[]`; absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2_instances: Option<Vec<Ec2InstanceDto>>,
}

/// A region's `ecs` part.
#[derive(Deserialize, Serialize)]
pub struct EcsDto {
    /// `clusters`: `aws ecs describe-clusters` → `.clusters[]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<ClusterDto>>,
    /// `services`: `aws ecs describe-services` → `.services[]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<ServiceDto>>,
    /// `task_definitions`: `aws ecs describe-task-definition` → `.taskDefinition`, each read on
    /// its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_definitions: Option<Vec<Lenient<TaskDefinitionDto>>>,
    /// `tasks`: `aws ecs describe-tasks` → `.tasks[]` (running tasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskDto>>,
    /// `describe-container-instances` → `.containerInstances[]`, of every cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_instances: Option<Vec<ContainerInstanceDto>>,
}

/// An ECS container instance (EC2 launch type).
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInstanceDto {
    /// `containerInstanceArn`.
    pub container_instance_arn: String,
    /// The cluster; when absent, taken from the ARN (`container-instance/<cluster>/<id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// `ec2InstanceId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2_instance_id: Option<String>,
    /// ECS agent settings of `/etc/ecs/ecs.config` that bear on credentials, such as
    /// `ECS_AWSVPC_BLOCK_IMDS`. No API returns them: absent means unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_settings: Option<BTreeMap<String, String>>,
}

/// `ec2 describe-instances` → `.Reservations[].Instances[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ec2InstanceDto {
    /// `InstanceId`.
    pub instance_id: String,
    /// `IamInstanceProfile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam_instance_profile: Option<IamInstanceProfileDto>,
}

/// An instance's `IamInstanceProfile`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamInstanceProfileDto {
    /// `Arn`: the instance profile.
    pub arn: String,
}

/// `aws ecs describe-clusters` → `.clusters[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDto {
    /// `clusterArn`.
    pub cluster_arn: String,
    /// `clusterName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
}

/// `aws ecs describe-services` → `.services[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDto {
    /// `serviceArn`.
    pub service_arn: String,
    /// `serviceName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// `clusterArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// `taskDefinition`: the task definition's ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// `launchType`: `FARGATE`, `EC2` or `EXTERNAL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    /// `capacityProviderStrategy`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capacity_provider_strategy: Vec<CapacityProviderItemDto>,
    /// `enableExecuteCommand`: whether ECS Exec is turned on for the service's tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_execute_command: Option<bool>,
}

/// One item of a service's `capacityProviderStrategy`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityProviderItemDto {
    /// `capacityProvider`, such as `FARGATE` or an Auto Scaling group's provider.
    pub capacity_provider: String,
}

/// `aws ecs describe-task-definition` → `.taskDefinition`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDefinitionDto {
    /// `taskDefinitionArn`.
    pub task_definition_arn: String,
    /// `family`; taken from the ARN when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// `revision`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// `taskRoleArn`: a role ARN, or a role name of the task's account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// `executionRoleArn`: a role ARN, or a role name of the task's account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// `networkMode`: `awsvpc`, `bridge`, `host` or `none`; `bridge` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// `requiresCompatibilities`.
    #[serde(default, deserialize_with = "nullable")]
    pub requires_compatibilities: Vec<String>,
    /// `containerDefinitions`.
    #[serde(default, deserialize_with = "nullable")]
    pub container_definitions: Vec<ContainerDto>,
}

/// A task definition's `containerDefinitions[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDto {
    /// `name`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// `image`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `secrets`: the values injected from Secrets Manager and SSM.
    #[serde(default, deserialize_with = "nullable")]
    pub secrets: Vec<SecretRefDto>,
    /// `logConfiguration`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<LogConfigurationDto>,
    /// `repositoryCredentials`: the private registry's credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_credentials: Option<RepositoryCredentialsDto>,
}

/// One of a container's `secrets[]` or `logConfiguration.secretOptions[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretRefDto {
    /// `name`: the variable or option it sets.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// `valueFrom`: a secret's ARN (with an optional JSON key, stage and version), a
    /// parameter's name or ARN.
    #[serde(default, deserialize_with = "nullable")]
    pub value_from: String,
}

/// A container's `logConfiguration`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogConfigurationDto {
    /// `logDriver`, such as `awslogs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_driver: Option<String>,
    /// `options`.
    #[serde(default, deserialize_with = "nullable")]
    pub options: BTreeMap<String, String>,
    /// `secretOptions`: values the log driver reads from Secrets Manager and SSM.
    #[serde(default, deserialize_with = "nullable")]
    pub secret_options: Vec<SecretRefDto>,
}

/// A container's `repositoryCredentials`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryCredentialsDto {
    /// `credentialsParameter`: the secret holding the registry's credentials.
    #[serde(default, deserialize_with = "nullable")]
    pub credentials_parameter: String,
}

/// `aws ecs describe-tasks` → `.tasks[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDto {
    /// `taskArn`.
    pub task_arn: String,
    /// `clusterArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_arn: Option<String>,
    /// `taskDefinitionArn`.
    pub task_definition_arn: String,
    /// `group`, such as `service:<name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// `launchType`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    /// `containerInstanceArn`: the EC2 container instance the task runs on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_instance_arn: Option<String>,
    /// `overrides`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overrides: Option<TaskOverridesDto>,
    /// `enableExecuteCommand`: whether ECS Exec is turned on for the task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_execute_command: Option<bool>,
}

/// A task's `overrides`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskOverridesDto {
    /// `taskRoleArn`: a role the task's containers have besides the task definition's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// `executionRoleArn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
}

/// `aws secretsmanager list-secrets` → `.SecretList[]`, plus `ResourcePolicy`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretDto {
    /// `ARN`.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// `Name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `KmsKeyId`: a key id, key ARN, alias name or alias ARN; absent for the AWS-managed
    /// `aws/secretsmanager`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// `Tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagDto>,
    /// `ResourcePolicy`: the document of `get-resource-policy`; absent or `null` for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<Document>,
}

/// `aws ssm describe-parameters` → `.Parameters[]`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SsmParameterDto {
    /// `Name`.
    pub name: String,
    /// `ARN`; derived from the name when absent.
    #[serde(rename = "ARN")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// `Type`: `String`, `StringList` or `SecureString`; `String` when absent.
    #[serde(rename = "Type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_type: Option<String>,
    /// `KeyId`: the key of a `SecureString`; absent for the AWS-managed `aws/ssm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `ssm list-tags-for-resource` → `.TagList`; absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TagDto>>,
}

/// One KMS key: its metadata, key policy, aliases and tags.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KmsKeyDto {
    /// `KeyMetadata`: `aws kms describe-key` → `.KeyMetadata`.
    pub key_metadata: KeyMetadataDto,
    /// `Policy`: the key policy; absent when it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Document>,
    /// `Aliases`: `aws kms list-aliases` → `.Aliases[]` of this key.
    #[serde(default)]
    pub aliases: Vec<AliasDto>,
    /// `Tags`: `aws kms list-resource-tags` → `.Tags[]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KmsTagDto>,
}

/// A key's `KeyMetadata`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadataDto {
    /// `KeyId`.
    pub key_id: String,
    /// `Arn`.
    pub arn: String,
    /// `KeyManager`: `CUSTOMER` or `AWS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_manager: Option<String>,
}

/// One of a key's `Aliases`.
#[derive(Deserialize, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct AliasDto {
    /// `AliasName`, such as `alias/prod-secrets`.
    pub alias_name: String,
}

/// A KMS tag, in `TagKey`/`TagValue` form.
#[derive(Deserialize, Serialize)]
pub struct KmsTagDto {
    /// `TagKey`.
    #[serde(rename = "TagKey")]
    pub key: String,
    /// `TagValue`.
    #[serde(rename = "TagValue", default)]
    pub value: String,
}

/// `aws ecr describe-repositories` → `.repositories[]`, plus `policyText` and `tags`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EcrRepositoryDto {
    /// `repositoryArn`.
    pub repository_arn: String,
    /// `repositoryName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_name: Option<String>,
    /// `repositoryUri`: the host and path that images name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_uri: Option<String>,
    /// `imageTagMutability`: `MUTABLE`, `IMMUTABLE`, or either `…_WITH_EXCLUSION`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_tag_mutability: Option<String>,
    /// `policyText`: the document of `get-repository-policy`; absent or `null` for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_text: Option<Document>,
    /// `ecr list-tags-for-resource` → `.tags` (`Key`/`Value`); absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TagDto>>,
}

/// `aws logs describe-log-groups` → `.logGroups[]`, plus `tags`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupDto {
    /// `logGroupName`.
    pub log_group_name: String,
    /// `arn`, which ends in `:*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// `logs list-tags-for-resource` → `.tags` (a map); absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

/// One entry of `s3_buckets`: `aws s3api list-buckets` → `.Buckets[]`, plus what each bucket's
/// own calls return.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketDto {
    /// `Name`.
    pub name: String,
    /// `Region`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `Policy`: the bucket policy; absent or `null` for none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Document>,
    /// `get-public-access-block` → `.PublicAccessBlockConfiguration`; absent when not
    /// collected, all `false` when the bucket has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlockDto>,
    /// `get-bucket-acl` output; absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl: Option<BucketAclDto>,
    /// `get-bucket-encryption` → `.ServerSideEncryptionConfiguration`; absent when not
    /// collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<BucketEncryptionDto>,
    /// `get-bucket-tagging` → `.TagSet`; absent when not collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<TagDto>>,
}

/// One of `gaps`: a call that collection could not make.
#[derive(Deserialize, Serialize, Debug)]
pub struct GapDto {
    /// `account`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// `region`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `service`, such as `secretsmanager`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `operation`, such as `GetResourcePolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// `resource`: what the call was about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `error`: the AWS error code and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

// ---- conversion into the model ----

struct Converter<'a> {
    file: &'a str,
    /// Warnings about parts read as absent or skipped.
    diagnostics: std::cell::RefCell<Vec<model::Diagnostic>>,
    /// Why an account read while parsing could not be converted; the parse stops there.
    failed: std::cell::RefCell<Option<LoadError>>,
}

/// The top level of a snapshot as it is read: each account already converted.
type Read = Snapshot<Vec<model::Account>>;

/// Reads the top level of a snapshot ([`Snapshot`]'s fields, unknown ones ignored), converting
/// each account as soon as it is read.
struct Streamed<'c, 'a>(&'c Converter<'a>);

impl<'de> serde::de::DeserializeSeed<'de> for Streamed<'_, '_> {
    type Value = Read;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Read, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Streamed<'_, '_> {
    type Value = Read;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("struct Snapshot")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Read, M::Error> {
        use serde::de::Error as _;
        let mut read = Read {
            schema: None,
            collected_at: None,
            organization: None,
            accounts: Vec::new(),
            gaps: None,
        };
        let mut seen = [false; 5];
        let mut first = |i: usize, name: &'static str| {
            if std::mem::replace(&mut seen[i], true) {
                Err(M::Error::duplicate_field(name))
            } else {
                Ok(())
            }
        };
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*key {
                "schema" => {
                    first(0, "schema")?;
                    read.schema = map.next_value()?;
                }
                "collected_at" => {
                    first(1, "collected_at")?;
                    read.collected_at = map.next_value()?;
                }
                "organization" => {
                    first(2, "organization")?;
                    read.organization = map.next_value()?;
                }
                "accounts" => {
                    first(3, "accounts")?;
                    read.accounts = map.next_value_seed(Accounts(self.0))?;
                }
                "gaps" => {
                    first(4, "gaps")?;
                    read.gaps = map.next_value()?;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(read)
    }
}

/// The `accounts` list, each account converted as soon as it is read.
struct Accounts<'c, 'a>(&'c Converter<'a>);

impl<'de> serde::de::DeserializeSeed<'de> for Accounts<'_, '_> {
    type Value = Vec<model::Account>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Vec<model::Account>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Accounts<'_, '_> {
    type Value = Vec<model::Account>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<S: serde::de::SeqAccess<'de>>(
        self,
        mut seq: S,
    ) -> Result<Vec<model::Account>, S::Error> {
        let mut accounts = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(dto) = seq.next_element::<AccountDto>()? {
            match self
                .0
                .account(dto, &format!("accounts[{}]", accounts.len()))
            {
                Ok(account) => accounts.push(account),
                Err(err) => {
                    *self.0.failed.borrow_mut() = Some(err);
                    return Err(serde::de::Error::custom(
                        "an account could not be converted",
                    ));
                }
            }
        }
        Ok(accounts)
    }
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

impl<'a> Converter<'a> {
    fn policy(&self, document: &Document, path: &str) -> Result<PolicyDocument, LoadError> {
        PolicyDocument::parse_json(document.json()).map_err(|source| LoadError::Policy {
            file: self.file.to_string(),
            path: path.to_string(),
            source,
        })
    }

    fn opt_policy(
        &self,
        document: Option<&Document>,
        path: &str,
    ) -> Result<Option<PolicyDocument>, LoadError> {
        match document {
            None => Ok(None),
            Some(d) if d.is_absent() => Ok(None),
            Some(d) => self.policy(d, path).map(Some),
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

    fn new(file: &'a str) -> Converter<'a> {
        Converter {
            file,
            diagnostics: std::cell::RefCell::new(Vec::new()),
            failed: std::cell::RefCell::new(None),
        }
    }

    fn inventory(&self, s: Read) -> Result<model::Inventory, LoadError> {
        let organization = s.organization.map(|o| self.organization(o)).transpose()?;
        let accounts = s.accounts;
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
                            image_tag_mutability: e.image_tag_mutability,
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
                            enable_execute_command: s.enable_execute_command,
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
                            enable_execute_command: t.enable_execute_command,
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
    fn accounts_are_converted_as_read_and_the_first_error_in_the_file_is_reported() {
        // The second account's ARN is wrong and the third has a value of the wrong type: the
        // reader stops at the second, as a reader of the whole file first would not.
        let e = err(r#"{"schema": "rolechain.snapshot/v1", "accounts": [
                {"id": "111111111111"},
                {"id": "222222222222", "iam": {"RoleDetailList": [{"Arn": "role/web"}]}},
                {"id": "333333333333", "iam": {"RoleDetailList": [{"Arn": 5}]}}]}"#);
        assert_eq!(
            e,
            "`snap.json` at `accounts[1].iam.RoleDetailList[0].Arn`: `role/web` is not an ARN: expected it to start with `arn:`"
        );
        // With the second account right, the third's shape error is found, path and all.
        let e = err(r#"{"schema": "rolechain.snapshot/v1", "accounts": [
                {"id": "111111111111"},
                {"id": "222222222222"},
                {"id": "333333333333", "iam": {"RoleDetailList": [
                    {"Arn": "arn:aws:iam::333333333333:role/r", "AssumeRolePolicyDocument": {"Statement": []}},
                    {"Arn": 5}]}}]}"#);
        assert!(
            e.starts_with("`snap.json` at `accounts[2].iam.RoleDetailList[1].Arn`: expected a string, found integer `5`"),
            "{e}"
        );
    }

    #[test]
    fn a_null_empty_or_blank_document_is_no_document() {
        let absent = [
            "null",
            r#""""#,
            r#""  ""#,
            r#"" \n\t\r ""#,
            r#""\u0020\u000A""#,
        ];
        for json in absent {
            let d: Document = serde_json::from_str(json).unwrap();
            assert!(d.is_absent(), "{json}");
        }
        let present = [
            r#""abc""#,
            r#""\u0041""#,
            r#""{}""#,
            "{}",
            r#"{"Statement": []}"#,
        ];
        for json in present {
            let d: Document = serde_json::from_str(json).unwrap();
            assert!(!d.is_absent(), "{json}");
        }
    }

    #[test]
    fn the_top_level_reads_as_its_fields_say() {
        // Unknown top-level fields are ignored, wherever they stand.
        let inv = load_str(
            r#"{"x-note": [1, {"a": null}], "schema": "rolechain.snapshot/v1", "accounts": [{"id": "111111111111"}], "later": true}"#,
            "snap.json",
        )
        .unwrap();
        assert_eq!(inv.accounts.len(), 1);
        // A field given twice is refused, as any other object of the snapshot would be.
        let e = err(
            r#"{"schema": "rolechain.snapshot/v1", "accounts": [], "accounts": [{"id": "111111111111"}]}"#,
        );
        assert!(e.contains("duplicate field `accounts`"), "{e}");
        // `accounts` must be a list.
        let e = err(r#"{"schema": "rolechain.snapshot/v1", "accounts": null}"#);
        assert!(
            e.starts_with("`snap.json` at `accounts`: expected a sequence, found null"),
            "{e}"
        );
        // Text after the document is a syntax error.
        let e = err(r#"{"schema": "rolechain.snapshot/v1", "accounts": []} []"#);
        assert!(e.contains("trailing characters"), "{e}");
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
