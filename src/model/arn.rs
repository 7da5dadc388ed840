//! Amazon Resource Names, split on the first five colons as IAM does (IAM-SEMANTICS R1.3).

use std::fmt;

/// A parsed ARN: `arn:partition:service:region:account:resource`.
///
/// The resource part keeps any further colons (`secret:name-AbCdEf`, `log-group:x:*`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Arn {
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: String,
    /// The service prefix, such as `iam` or `secretsmanager`.
    pub service: String,
    /// The region; empty for global services (IAM, S3).
    pub region: String,
    /// The 12-digit account id; empty for S3.
    pub account: String,
    /// Everything after the fifth colon.
    pub resource: String,
}

/// Why a string is not an ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an ARN: {reason}")]
pub struct ArnError {
    /// The rejected input.
    pub input: String,
    /// What was expected.
    pub reason: &'static str,
}

/// The six fields of an ARN or ARN pattern, borrowed: nothing is checked but the `arn:` prefix
/// and the field count, so it also splits patterns (`arn:aws:s3:::bucket/*`) and is cheap enough
/// for hot paths. [`Arn::parse`] validates on top of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArnRef<'a> {
    /// The partition.
    pub partition: &'a str,
    /// The service prefix.
    pub service: &'a str,
    /// The region; empty for global services.
    pub region: &'a str,
    /// The account id; empty for S3.
    pub account: &'a str,
    /// Everything after the fifth colon.
    pub resource: &'a str,
}

impl<'a> ArnRef<'a> {
    /// Splits `input` on its first five colons; `None` when it does not start with `arn:` or has
    /// fewer than six fields.
    pub fn split(input: &'a str) -> Option<ArnRef<'a>> {
        let mut parts = input.splitn(6, ':');
        if parts.next() != Some("arn") {
            return None;
        }
        Some(ArnRef {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        })
    }
}

/// The account field of an ARN, when it is one and the field is not empty.
pub fn account_of(arn: &str) -> Option<&str> {
    ArnRef::split(arn)
        .map(|a| a.account)
        .filter(|a| !a.is_empty())
}

/// The partition of an ARN, when it is one.
pub fn partition_of(arn: &str) -> Option<&str> {
    ArnRef::split(arn).map(|a| a.partition)
}

/// The last `/`-separated segment of an id: a role, task definition or cluster name, or the whole
/// id when it has no `/`.
pub fn last_segment(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

impl Arn {
    /// Parses an ARN.
    ///
    /// # Errors
    /// When the string does not start with `arn:`, has fewer than six colon-separated parts, or
    /// has an empty partition, service or resource.
    pub fn parse(input: &str) -> Result<Arn, ArnError> {
        let err = |reason| ArnError {
            input: input.to_string(),
            reason,
        };
        if !input.starts_with("arn:") {
            return Err(err("expected it to start with `arn:`"));
        }
        let Some(ArnRef {
            partition,
            service,
            region,
            account,
            resource,
        }) = ArnRef::split(input)
        else {
            return Err(err(
                "expected `arn:partition:service:region:account:resource`",
            ));
        };
        if partition.is_empty() || service.is_empty() {
            return Err(err("expected a partition and a service"));
        }
        if resource.is_empty() {
            return Err(err("expected a resource after the fifth colon"));
        }
        if !account.is_empty() && !is_account_id(account) {
            return Err(err("expected a 12-digit account id in the fifth field"));
        }
        Ok(Arn {
            partition: partition.to_string(),
            service: service.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource: resource.to_string(),
        })
    }

    /// The resource type: the resource part up to its first `/` or `:`.
    pub fn resource_type(&self) -> &str {
        let end = self
            .resource
            .find(['/', ':'])
            .unwrap_or(self.resource.len());
        &self.resource[..end]
    }

    /// The resource part after the resource type and its separator.
    pub fn resource_name(&self) -> &str {
        match self.resource.find(['/', ':']) {
            Some(i) => &self.resource[i + 1..],
            None => "",
        }
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

/// True when `s` is a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account root principal ARN, `arn:<partition>:iam::<account>:root`.
pub fn account_root(partition: &str, account: &str) -> String {
    format!("arn:{partition}:iam::{account}:root")
}

/// The ARN of an SSM parameter from its name: the leading `/` is dropped (SAR template
/// `parameter/${ParameterNameWithoutLeadingSlash}`).
pub fn ssm_parameter_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!(
        "arn:{partition}:ssm:{region}:{account}:parameter/{}",
        name.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resource_with_colons() {
        let arn = Arn::parse("arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:*").unwrap();
        assert_eq!(arn.service, "logs");
        assert_eq!(arn.resource, "log-group:/ecs/app:*");
        assert_eq!(arn.resource_type(), "log-group");
        assert_eq!(arn.resource_name(), "/ecs/app:*");
        assert_eq!(
            arn.to_string(),
            "arn:aws:logs:us-east-1:111122223333:log-group:/ecs/app:*"
        );
    }

    #[test]
    fn s3_has_no_account() {
        let arn = Arn::parse("arn:aws:s3:::bucket/key").unwrap();
        assert_eq!(arn.account, "");
        assert_eq!(arn.resource_type(), "bucket");
    }

    #[test]
    fn borrowed_split_keeps_colons_in_the_resource_and_needs_six_fields() {
        let a = ArnRef::split("arn:aws:logs:eu-west-1:111122223333:log-group:x:*").unwrap();
        assert_eq!(
            (a.partition, a.account, a.resource),
            ("aws", "111122223333", "log-group:x:*")
        );
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
        assert_eq!(
            account_of("arn:aws:iam::111122223333:root"),
            Some("111122223333")
        );
        assert_eq!(account_of("anonymous"), None);
        assert_eq!(
            partition_of("arn:aws-cn:iam::111122223333:root"),
            Some("aws-cn")
        );
        assert!(ArnRef::split("arn:aws:iam::111122223333").is_none());
        assert_eq!(last_segment("arn:aws:iam::1:role/path/name"), "name");
    }

    #[test]
    fn rejects_malformed() {
        assert!(Arn::parse("arn:aws:iam::role/x").is_err());
        assert!(Arn::parse("role/x").is_err());
        assert!(Arn::parse("arn:aws:iam::12345:role/x").is_err());
        assert!(Arn::parse("arn:aws:iam::123456789012:").is_err());
    }
}
