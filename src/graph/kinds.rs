//! Resource kinds: the service of each kind's actions, the actions evaluated by default, and the
//! actions of a query that apply to a kind.

use super::NodeKind;

/// The actions evaluated on a resource of this kind when none are given.
pub fn default_actions(kind: NodeKind) -> &'static [&'static str] {
    match kind {
        NodeKind::Secret => &["secretsmanager:GetSecretValue"],
        NodeKind::SsmParameter => &["ssm:GetParameter", "ssm:GetParameters"],
        NodeKind::KmsKey => &["kms:Decrypt"],
        NodeKind::EcrRepository => &["ecr:BatchGetImage"],
        NodeKind::S3Bucket => &["s3:GetObject"],
        NodeKind::LogGroup => &["logs:GetLogEvents", "logs:FilterLogEvents"],
        _ => &[],
    }
}

/// The service prefix of a resource kind's actions; empty for kinds that are not resources.
pub fn service_of(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Secret => "secretsmanager",
        NodeKind::SsmParameter => "ssm",
        NodeKind::KmsKey => "kms",
        NodeKind::EcrRepository => "ecr",
        NodeKind::S3Bucket => "s3",
        NodeKind::LogGroup => "logs",
        _ => "",
    }
}

/// The actions evaluated on a resource of this kind: of `asked`, those of the kind's service
/// (compared without case, as IAM does), or the kind's defaults when nothing was asked. The
/// build, `explain` and every query choose a hop's actions here, so they agree.
pub fn actions_for(kind: NodeKind, asked: Option<&[String]>) -> Vec<String> {
    let service = service_of(kind);
    match asked {
        Some(list) => list
            .iter()
            .filter(|a| {
                a.split_once(':')
                    .is_some_and(|(s, _)| s.eq_ignore_ascii_case(service))
            })
            .cloned()
            .collect(),
        None => default_actions(kind)
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asked_actions_keep_only_the_kinds_service_without_case() {
        let asked = vec![
            "SecretsManager:GetSecretValue".to_string(),
            "kms:Decrypt".to_string(),
            "nocolon".to_string(),
        ];
        assert_eq!(
            actions_for(NodeKind::Secret, Some(&asked)),
            vec!["SecretsManager:GetSecretValue".to_string()]
        );
        assert_eq!(
            actions_for(NodeKind::KmsKey, None),
            vec!["kms:Decrypt".to_string()]
        );
        assert!(actions_for(NodeKind::Role, Some(&asked)).is_empty());
    }
}
