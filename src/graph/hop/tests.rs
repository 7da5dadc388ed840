//! Unit tests of hop evaluation, each named after the rule it checks (docs/iam-semantics.md).
//!
//! Each builds a small inventory in code and asks [`World::access`] one question, so a test
//! shows the hop's verdict without the graph around it.

use crate::graph::EdgeStatus;
use crate::graph::hop::{Note, Verdict};
use crate::graph::outside::{Outside, Outsider};
use crate::graph::world::{Caller, World};
use crate::model::{self, Inventory, KeyManager, PolicyDocument};
use std::collections::BTreeMap;

const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";
const KEY: &str = "arn:aws:kms:us-east-1:111111111111:key/5c1d9e27-8a4b-4f06-b3d2-7e9a0c6f1b84";
const BUCKET: &str = "arn:aws:s3:::acme-reports";

fn doc(json: &str) -> PolicyDocument {
    PolicyDocument::parse_str(json).unwrap()
}

/// A task role allowed `s3:GetObject` on the bucket's objects and `kms:Decrypt` on its key
/// through S3.
fn reader() -> model::Role {
    model::Role {
        arn: format!("arn:aws:iam::{ACCOUNT}:role/reader"),
        name: "reader".to_string(),
        path: "/".to_string(),
        trust: Some(doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )),
        inline: vec![model::InlinePolicy {
            name: "read".to_string(),
            document: doc(&format!(
                r#"{{"Version":"2012-10-17","Statement":[
                    {{"Sid":"ReadObjects","Effect":"Allow","Action":"s3:GetObject","Resource":"{BUCKET}/*"}},
                    {{"Sid":"DecryptThroughS3","Effect":"Allow","Action":"kms:Decrypt","Resource":"{KEY}",
                      "Condition":{{"StringEquals":{{"kms:ViaService":"s3.{REGION}.amazonaws.com"}}}}}}]}}"#
            )),
        }],
        ..model::Role::default()
    }
}

/// One account with the reader role, a customer-managed key whose policy delegates to the
/// account and allows `"*"` through S3, and an SSE-KMS bucket under that key that anyone may
/// read, in `bucket_region`.
fn inventory(bucket_region: Option<&str>) -> Inventory {
    let key = model::KmsKey {
        arn: KEY.to_string(),
        key_id: KEY.rsplit('/').next().unwrap().to_string(),
        manager: KeyManager::Customer,
        policy: Some(doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Sid":"EnableIAMUserPermissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
                {{"Sid":"AnyoneThroughS3","Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*",
                  "Condition":{{"StringEquals":{{"kms:ViaService":"s3.{REGION}.amazonaws.com"}}}}}}]}}"#
        ))),
        aliases: vec!["alias/reports-data".to_string()],
        tags: model::Tags::new(),
    };
    let open = model::PublicAccessBlock::default();
    let bucket = model::Bucket {
        name: "acme-reports".to_string(),
        region: bucket_region.map(str::to_string),
        policy: Some(doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"{BUCKET}/*"}}]}}"#
        ))),
        public_access_block: Some(open),
        public_grants: Some(Vec::new()),
        default_kms_key: Some(Some(KEY.to_string())),
        encryption_collected: true,
        tags: Some(model::Tags::new()),
    };
    Inventory {
        accounts: vec![model::Account {
            id: ACCOUNT.to_string(),
            partition: "aws".to_string(),
            iam: Some(model::Iam {
                roles: vec![reader()],
                ..model::Iam::default()
            }),
            regions: BTreeMap::from([(
                REGION.to_string(),
                model::Region {
                    kms_keys: Some(vec![key]),
                    ..model::Region::default()
                },
            )]),
            s3_buckets: Some(vec![bucket]),
            s3_public_access_block: Some(open),
            ..model::Account::default()
        }],
        ..Inventory::default()
    }
}

/// The verdict of `caller` doing `action` on the bucket.
fn read<'a>(world: &World<'a>, caller: Caller<'a>, action: &str) -> Verdict {
    let caller = world.prepare(caller);
    let bucket = &world.resources[BUCKET];
    world.access(&caller, bucket, &[action.to_string()], &mut Vec::new())
}

#[test]
fn r7_1_anonymous_cannot_read_objects_under_sse_kms_whatever_the_key_policy() {
    let inventory = inventory(Some(REGION));
    let world = World::new(&inventory);
    let anonymous = Outsider::new(Outside::Anonymous);
    let verdict = read(&world, Caller::Outside(&anonymous), "s3:GetObject");
    assert_eq!(verdict.status, EdgeStatus::Denied, "{verdict:?}");
    let block = verdict.blocked.unwrap();
    assert_eq!(block.blocker, None);
    assert_eq!(
        block.message,
        Note::UnsignedKms {
            bucket: BUCKET.to_string()
        }
    );
    assert!(
        block.message.to_string().contains("Signature Version 4"),
        "{block:?}"
    );

    // Any signed principal passes both the bucket policy and the key policy's `"*"` statement.
    let any = Outsider::new(Outside::AnyPrincipal);
    let verdict = read(&world, Caller::Outside(&any), "s3:GetObject");
    assert_ne!(verdict.status, EdgeStatus::Denied, "{verdict:?}");
}

#[test]
fn r3_5_kms_via_service_of_a_bucket_without_a_region_is_the_keys_region() {
    for region in [Some(REGION), None] {
        let inventory = inventory(region);
        let world = World::new(&inventory);
        let verdict = read(
            &world,
            Caller::Role(&inventory.accounts[0].iam.as_ref().unwrap().roles[0]),
            "s3:GetObject",
        );
        assert_eq!(
            verdict.status,
            EdgeStatus::Allowed,
            "bucket region {region:?}: {verdict:?}"
        );
        assert!(
            verdict
                .because
                .iter()
                .any(|r| &*r.statement == "DecryptThroughS3"),
            "{verdict:?}"
        );
    }
}

#[test]
fn r1_2_s3_object_actions_read_objects_whatever_their_case() {
    let inventory = inventory(Some(REGION));
    let world = World::new(&inventory);
    let role = &inventory.accounts[0].iam.as_ref().unwrap().roles[0];
    for action in ["s3:GetObject", "s3:getobject", "S3:GETOBJECT"] {
        let verdict = read(&world, Caller::Role(role), action);
        assert_eq!(verdict.status, EdgeStatus::Allowed, "{action}: {verdict:?}");
        // The object read also decrypts through S3, whatever the action's case.
        assert!(
            verdict
                .because
                .iter()
                .any(|r| &*r.statement == "DecryptThroughS3"),
            "{action}: {verdict:?}"
        );
    }
}
