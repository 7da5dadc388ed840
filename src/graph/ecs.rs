//! ECS references to resources: `valueFrom` of secrets (IAM-SEMANTICS R4.4) and ECR image URIs
//! (R4.3).

/// What a `secrets[].valueFrom`, `secretOptions[].valueFrom` or `credentialsParameter` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueFrom {
    /// A Secrets Manager secret. `arn` is the authorization resource: the first seven colon
    /// fields, without any JSON key or version fields.
    Secret {
        /// The secret ARN as written (full, or partial without the random suffix).
        arn: String,
        /// The JSON key, when given.
        json_key: Option<String>,
        /// The version stage, when given.
        version_stage: Option<String>,
        /// The version id, when given.
        version_id: Option<String>,
    },
    /// An SSM parameter named by ARN.
    ParameterArn(String),
    /// A bare name: an SSM parameter in the task's account and region (for
    /// `credentialsParameter`, a secret name in the task's region).
    Name(String),
    /// A Secrets Manager secret read through Parameter Store:
    /// `/aws/reference/secretsmanager/<secret id>` by name, or the `…:parameter/aws/reference/…`
    /// ARN. The agent calls `ssm:GetParameters` on the reference parameter, and Parameter Store
    /// calls `secretsmanager:GetSecretValue` on the secret for it (R4.3).
    SecretReference {
        /// The reference parameter: its ARN when written as one, otherwise its name.
        parameter: String,
        /// The secret's id: its name (possibly partial), or its ARN.
        secret_id: String,
    },
}

/// Why a reference in a task definition cannot be read. Its text names the reference and says
/// what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// An empty `valueFrom`.
    #[error("expected a secret ARN, a parameter ARN or a parameter name")]
    Empty,
    /// A name with characters no parameter or secret name has.
    #[error(
        "`{0}` is not a parameter or secret name: expected letters, digits and `_.-/` (a template placeholder left in?)"
    )]
    BadName(String),
    /// Fewer than six colon fields.
    #[error("`{0}` is not an ARN: expected `arn:partition:service:region:account:resource`")]
    NotAnArn(String),
    /// No region, or no 12-digit account.
    #[error(
        "`{0}` has no valid region and 12-digit account: expected `arn:<partition>:<service>:<region>:<account>:…` (a template placeholder left in?)"
    )]
    NoRegionOrAccount(String),
    /// A Secrets Manager ARN that names no secret.
    #[error("`{0}` is not a secret ARN: expected `…:secret:<name>`")]
    NotASecret(String),
    /// A secret ARN with more than the JSON-key and version fields.
    #[error(
        "`{0}` has too many fields: expected `…:secret:<name>[:<json-key>:<version-stage>:<version-id>]`"
    )]
    TooManyFields(String),
    /// A secret name with characters secret names do not have.
    #[error("`{reference}` names secret `{name}`: expected letters, digits and `/_+=.@-`")]
    BadSecretName {
        /// The reference.
        reference: String,
        /// The name in it.
        name: String,
    },
    /// An SSM ARN that names no parameter.
    #[error("`{0}` is not a parameter ARN: expected `…:parameter/<name>`")]
    NotAParameter(String),
    /// A parameter name with characters parameter names do not have.
    #[error(
        "`{0}` names no valid parameter: expected `…:parameter/<name>` with letters, digits and `_.-/`"
    )]
    BadParameterName(String),
    /// An ARN of another service.
    #[error("`{reference}` names service `{service}`: expected `secretsmanager` or `ssm`")]
    WrongService {
        /// The reference.
        reference: String,
        /// The service it names.
        service: String,
    },
    /// `/aws/reference/secretsmanager/` with nothing after it.
    #[error("`{0}` names no secret: expected `/aws/reference/secretsmanager/<secret name or ARN>`")]
    NoSecretInReference(String),
    /// An image with characters no image reference has.
    #[error(
        "image `{0}` is not an image reference (a template placeholder left in?): expected `[registry/]repository[:tag][@digest]`"
    )]
    NotAnImage(String),
    /// An image whose host looks like ECR but does not parse.
    #[error(
        "image `{image}` looks like an ECR image but {problem}: expected `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag][@digest]`"
    )]
    BadEcrImage {
        /// The image.
        image: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// The Parameter Store path that reads a Secrets Manager secret.
const SECRET_REFERENCE: &str = "aws/reference/secretsmanager/";

/// Parses a `valueFrom`.
///
/// # Errors
/// [`ReferenceError`] when it is an ARN of another service, a malformed ARN, or a name with a
/// template placeholder left in.
pub fn parse_value_from(value_from: &str) -> Result<ValueFrom, ReferenceError> {
    if !value_from.starts_with("arn:") {
        if value_from.trim().is_empty() {
            return Err(ReferenceError::Empty);
        }
        if let Some(id) = value_from
            .strip_prefix('/')
            .unwrap_or(value_from)
            .strip_prefix(SECRET_REFERENCE)
        {
            return secret_reference(value_from, id);
        }
        if !is_parameter_name(value_from) && !is_secret_name(value_from) {
            return Err(ReferenceError::BadName(value_from.to_string()));
        }
        return Ok(ValueFrom::Name(value_from.to_string()));
    }
    let fields: Vec<&str> = value_from.split(':').collect();
    if fields.len() < 6 {
        return Err(ReferenceError::NotAnArn(value_from.to_string()));
    }
    if !crate::model::arn::is_account_id(fields[4])
        || fields[3].is_empty()
        || !fields[3]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ReferenceError::NoRegionOrAccount(value_from.to_string()));
    }
    match fields[2] {
        "secretsmanager" => {
            if fields[5] != "secret" || fields.len() < 7 || fields[6].is_empty() {
                return Err(ReferenceError::NotASecret(value_from.to_string()));
            }
            if fields.len() > 10 {
                return Err(ReferenceError::TooManyFields(value_from.to_string()));
            }
            let field = |i: usize| {
                fields
                    .get(i)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.to_string())
            };
            if !is_secret_name(fields[6]) {
                return Err(ReferenceError::BadSecretName {
                    reference: value_from.to_string(),
                    name: fields[6].to_string(),
                });
            }
            Ok(ValueFrom::Secret {
                arn: fields[..7].join(":"),
                json_key: field(7),
                version_stage: field(8),
                version_id: field(9),
            })
        }
        "ssm" => {
            let Some(name) = fields[5].strip_prefix("parameter/") else {
                return Err(ReferenceError::NotAParameter(value_from.to_string()));
            };
            if let Some(id) = value_from
                .split_once(":parameter/")
                .and_then(|(_, rest)| rest.strip_prefix(SECRET_REFERENCE))
            {
                return secret_reference(value_from, id);
            }
            if name.is_empty() || !is_parameter_name(name) {
                return Err(ReferenceError::BadParameterName(value_from.to_string()));
            }
            Ok(ValueFrom::ParameterArn(value_from.to_string()))
        }
        other => Err(ReferenceError::WrongService {
            reference: value_from.to_string(),
            service: other.to_string(),
        }),
    }
}

/// An SSM parameter name: letters, digits and `_.-/` (Parameter Store's rule).
fn is_parameter_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
}

/// A Secrets Manager secret name: letters, digits and `/_+=.@-` (CreateSecret's rule), and `!`,
/// which secrets that AWS services manage carry (`rds!cluster-…`).
fn is_secret_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-!".contains(c))
}

fn secret_reference(parameter: &str, id: &str) -> Result<ValueFrom, ReferenceError> {
    if id.is_empty() {
        return Err(ReferenceError::NoSecretInReference(parameter.to_string()));
    }
    // A secret ARN keeps its first seven fields, as in a direct reference.
    let secret_id = if id.starts_with("arn:") {
        id.split(':').take(7).collect::<Vec<_>>().join(":")
    } else {
        id.to_string()
    };
    Ok(ValueFrom::SecretReference {
        parameter: parameter.to_string(),
        secret_id,
    })
}

/// The ECR repository ARN an image reference pulls from.
///
/// Registry hosts, as ECR documents them:
/// - `<account>.dkr.ecr.<region>.amazonaws.com`, and `.amazonaws.com.cn` in China;
/// - FIPS: `<account>.dkr.ecr-fips.<region>.amazonaws.com`;
/// - dual-stack: `<account>.dkr-ecr.<region>.on.aws` (`dkr-ecr-fips` for FIPS), and
///   `.on.amazonwebservices.com.cn` in China;
/// - the isolated partitions' `.c2s.ic.gov` and `.sc2s.sgov.gov`.
///
/// The partition follows from the host and the region (`us-gov-…` is `aws-us-gov`). The path is
/// the repository name, pull-through cache prefixes included, with a `:tag`, an `@digest`, or
/// both (`name:tag@sha256:…`) removed.
///
/// # Errors
/// An image whose host looks like ECR (`.dkr.ecr`, `.dkr-ecr`) but does not parse, such as a
/// template placeholder for the account; the message says what was expected. Images of other
/// registries are `Ok(None)`.
pub fn parse_image_repository(image: &str) -> Result<Option<String>, ReferenceError> {
    // An image reference is letters, digits and `._-/:@`; anything else is no image, but could
    // stand for an ECR one (a template placeholder), so it is an error, never silence.
    if image.is_empty()
        || !image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
    {
        return Err(ReferenceError::NotAnImage(image.to_string()));
    }
    let Some((host, path)) = image.split_once('/') else {
        return Ok(None);
    };
    let host_lower = host.to_ascii_lowercase();
    let looks_like_ecr = host_lower.contains(".dkr.ecr") || host_lower.contains(".dkr-ecr");
    if !looks_like_ecr {
        return Ok(None);
    }
    let bad = |problem: &'static str| {
        Err(ReferenceError::BadEcrImage {
            image: image.to_string(),
            problem,
        })
    };
    let labels: Vec<&str> = host_lower.split('.').collect();
    let (account, kind, region, suffix) = match labels.as_slice() {
        [
            account,
            "dkr",
            kind @ ("ecr" | "ecr-fips"),
            region,
            suffix @ ..,
        ] => (*account, *kind, *region, suffix),
        [
            account,
            kind @ ("dkr-ecr" | "dkr-ecr-fips"),
            region,
            suffix @ ..,
        ] => (*account, *kind, *region, suffix),
        _ => return bad("its host is not an ECR registry host"),
    };
    let dual_stack = kind.starts_with("dkr-ecr");
    let partition = match (dual_stack, suffix) {
        (false, ["amazonaws", "com"]) | (true, ["on", "aws"]) => {
            if region.starts_with("us-gov-") {
                "aws-us-gov"
            } else {
                "aws"
            }
        }
        (false, ["amazonaws", "com", "cn"]) | (true, ["on", "amazonwebservices", "com", "cn"]) => {
            "aws-cn"
        }
        (false, ["c2s", "ic", "gov"]) => "aws-iso",
        (false, ["sc2s", "sgov", "gov"]) => "aws-iso-b",
        _ => return bad("its host has an unknown domain"),
    };
    if !crate::model::arn::is_account_id(account) {
        return bad("its registry is not a 12-digit account id");
    }
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return bad("its region is not a region name");
    }
    // `name:tag@digest`: the digest first, then a tag after the last `/`.
    let path = path.split_once('@').map_or(path, |(p, _digest)| p);
    let repo = match path.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => path,
    };
    if repo.is_empty()
        || !repo
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c))
    {
        return bad("its repository name is not a valid ECR repository name");
    }
    Ok(Some(format!(
        "arn:{partition}:ecr:{region}:{account}:repository/{repo}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r4_4_secret_value_from_with_json_key_keeps_seven_fields() {
        let v = parse_value_from(
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf:username1::",
        )
        .unwrap();
        assert_eq!(
            v,
            ValueFrom::Secret {
                arn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf".into(),
                json_key: Some("username1".into()),
                version_stage: None,
                version_id: None,
            }
        );
        let v = parse_value_from(
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf:::9d4cb84b",
        )
        .unwrap();
        assert!(
            matches!(v, ValueFrom::Secret { version_id: Some(ref id), .. } if id == "9d4cb84b")
        );
        let v = parse_value_from(
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf::AWSPREVIOUS:",
        )
        .unwrap();
        assert!(
            matches!(v, ValueFrom::Secret { version_stage: Some(ref s), .. } if s == "AWSPREVIOUS")
        );
    }

    #[test]
    fn r4_4_parameter_names_and_arns() {
        assert_eq!(
            parse_value_from("/prod/db").unwrap(),
            ValueFrom::Name("/prod/db".into())
        );
        assert_eq!(
            parse_value_from("arn:aws:ssm:us-east-1:111122223333:parameter/prod/db").unwrap(),
            ValueFrom::ParameterArn("arn:aws:ssm:us-east-1:111122223333:parameter/prod/db".into())
        );
        assert!(parse_value_from("arn:aws:s3:::bucket").is_err());
        assert!(parse_value_from("arn:aws:secretsmanager:us-east-1:111122223333:secret").is_err());
    }

    #[test]
    fn r4_3_image_uri_maps_to_repository_arn() {
        let cases = [
            (
                "222222222222.dkr.ecr.us-east-1.amazonaws.com/team/web:1.4",
                Some("arn:aws:ecr:us-east-1:222222222222:repository/team/web"),
            ),
            (
                "222222222222.dkr.ecr.us-east-1.amazonaws.com/web@sha256:abc",
                Some("arn:aws:ecr:us-east-1:222222222222:repository/web"),
            ),
            (
                "222222222222.dkr.ecr.us-east-1.amazonaws.com/web",
                Some("arn:aws:ecr:us-east-1:222222222222:repository/web"),
            ),
            (
                "222222222222.dkr.ecr.cn-north-1.amazonaws.com.cn/web:1",
                Some("arn:aws-cn:ecr:cn-north-1:222222222222:repository/web"),
            ),
            ("nginx:1.25", None),
            ("public.ecr.aws/nginx/nginx:latest", None),
            ("registry.example.com:5000/web:1", None),
        ];
        for (image, want) in cases {
            assert_eq!(
                parse_image_repository(image).unwrap().as_deref(),
                want,
                "{image}"
            );
        }
    }

    #[test]
    fn r4_3_image_hosts_and_tag_with_digest() {
        let cases = [
            (
                "111111111111.dkr.ecr.us-east-1.amazonaws.com/edge/app:1.2@sha256:0a1b",
                "arn:aws:ecr:us-east-1:111111111111:repository/edge/app",
            ),
            (
                "111111111111.dkr.ecr-fips.us-east-1.amazonaws.com/app:1",
                "arn:aws:ecr:us-east-1:111111111111:repository/app",
            ),
            (
                "111111111111.dkr-ecr.eu-west-1.on.aws/team/app@sha256:ff",
                "arn:aws:ecr:eu-west-1:111111111111:repository/team/app",
            ),
            (
                "111111111111.dkr-ecr-fips.us-gov-west-1.on.aws/app",
                "arn:aws-us-gov:ecr:us-gov-west-1:111111111111:repository/app",
            ),
            (
                "111111111111.dkr.ecr.us-gov-east-1.amazonaws.com/app:2",
                "arn:aws-us-gov:ecr:us-gov-east-1:111111111111:repository/app",
            ),
            (
                "111111111111.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn/app",
                "arn:aws-cn:ecr:cn-northwest-1:111111111111:repository/app",
            ),
            // A pull-through cache repository carries its prefix in its name.
            (
                "111111111111.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:1.27",
                "arn:aws:ecr:us-east-1:111111111111:repository/docker-hub/library/nginx",
            ),
        ];
        for (image, want) in cases {
            assert_eq!(
                parse_image_repository(image).unwrap().as_deref(),
                Some(want),
                "{image}"
            );
        }
    }

    #[test]
    fn r4_3_image_that_looks_like_ecr_but_does_not_parse_is_an_error() {
        for image in [
            "${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/app:latest",
            "<account-id>.dkr.ecr.us-east-1.amazonaws.com/app",
            "111111111111.dkr.ecr.us-east-1.example.com/app",
            "111111111111.dkr.ecr.us-east-1.amazonaws.com/",
            "111111111111.dkr.ecr.us-east-1.amazonaws.com/App:1",
        ] {
            let err = parse_image_repository(image).unwrap_err().to_string();
            assert!(err.contains(image), "{err}");
        }
    }

    #[test]
    fn r4_3_parameter_store_reference_to_a_secret() {
        assert_eq!(
            parse_value_from("/aws/reference/secretsmanager/prod/api-key").unwrap(),
            ValueFrom::SecretReference {
                parameter: "/aws/reference/secretsmanager/prod/api-key".into(),
                secret_id: "prod/api-key".into(),
            }
        );
        assert_eq!(
            parse_value_from(
                "arn:aws:ssm:us-east-1:111122223333:parameter/aws/reference/secretsmanager/prod/api-key"
            )
            .unwrap(),
            ValueFrom::SecretReference {
                parameter: "arn:aws:ssm:us-east-1:111122223333:parameter/aws/reference/secretsmanager/prod/api-key".into(),
                secret_id: "prod/api-key".into(),
            }
        );
        assert!(parse_value_from("/aws/reference/secretsmanager/").is_err());
    }

    #[test]
    fn r4_4_template_placeholders_are_errors_not_names() {
        for v in [
            "/app/${environment}/db/password",
            "arn:aws:ssm:${AWS_REGION}:${ACCOUNT_ID}:parameter/app/db",
            "arn:aws:secretsmanager:us-east-1:<account-id>:secret:db-AbCdEf",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:{{ name }}",
            "arn:aws:ssm:us-east-1:111122223333:parameter/app/${stage}/key",
        ] {
            let err = parse_value_from(v).unwrap_err().to_string();
            assert!(err.contains(v), "{err}");
        }
    }
}
