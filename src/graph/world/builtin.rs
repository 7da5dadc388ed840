//! AWS built-in data: managed policies whose documents snapshots often omit.

use crate::model::{self, PolicyDocument};

/// Well-known AWS-managed policies, used when a snapshot attaches them without their documents.
pub(in crate::graph) const KNOWN_AWS_POLICIES: &[(&str, &str)] = &[
    (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:BatchGetImage","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/PowerUserAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]}"#,
    ),
];

/// [`KNOWN_AWS_POLICIES`], parsed once.
pub(in crate::graph) static KNOWN_AWS: std::sync::LazyLock<Vec<(&'static str, PolicyDocument)>> =
    std::sync::LazyLock::new(|| {
        KNOWN_AWS_POLICIES
            .iter()
            .filter_map(|(arn, text)| PolicyDocument::parse_str(text).ok().map(|doc| (*arn, doc)))
            .collect()
    });

/// The id of the stand-in identity policy of principals outside the snapshot.
pub(in crate::graph) const NOT_IN_SNAPSHOT: &str = "(not in snapshot)";

/// An identity policy that allows everything: the stand-in for identity policies the snapshot
/// does not hold, so that only the side it does hold decides.
pub(in crate::graph) static ALLOW_ALL: std::sync::LazyLock<PolicyDocument> =
    std::sync::LazyLock::new(|| PolicyDocument {
        version: Some("2012-10-17".to_string()),
        statements: vec![model::Statement {
            sid: None,
            index: 0,
            effect: model::Effect::Allow,
            principal: None,
            not_principal: None,
            action: Some(vec!["*".to_string()]),
            not_action: None,
            resource: Some(vec!["*".to_string()]),
            not_resource: None,
            condition: Vec::new(),
        }],
    });
