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
}

/// Parses a `valueFrom`.
///
/// # Errors
/// When it is an ARN of another service, or a malformed ARN; the message says what was expected.
pub fn parse_value_from(value_from: &str) -> Result<ValueFrom, String> {
    if !value_from.starts_with("arn:") {
        if value_from.is_empty() {
            return Err("expected a secret ARN, a parameter ARN or a parameter name".to_string());
        }
        return Ok(ValueFrom::Name(value_from.to_string()));
    }
    let fields: Vec<&str> = value_from.split(':').collect();
    if fields.len() < 6 {
        return Err(format!(
            "`{value_from}` is not an ARN: expected `arn:partition:service:region:account:resource`"
        ));
    }
    match fields[2] {
        "secretsmanager" => {
            if fields[5] != "secret" || fields.len() < 7 || fields[6].is_empty() {
                return Err(format!(
                    "`{value_from}` is not a secret ARN: expected `…:secret:<name>`"
                ));
            }
            if fields.len() > 10 {
                return Err(format!(
                    "`{value_from}` has too many fields: expected `…:secret:<name>[:<json-key>:<version-stage>:<version-id>]`"
                ));
            }
            let field = |i: usize| {
                fields
                    .get(i)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.to_string())
            };
            Ok(ValueFrom::Secret {
                arn: fields[..7].join(":"),
                json_key: field(7),
                version_stage: field(8),
                version_id: field(9),
            })
        }
        "ssm" => {
            if !fields[5].starts_with("parameter/") {
                return Err(format!(
                    "`{value_from}` is not a parameter ARN: expected `…:parameter/<name>`"
                ));
            }
            Ok(ValueFrom::ParameterArn(value_from.to_string()))
        }
        other => Err(format!(
            "`{value_from}` names service `{other}`: expected `secretsmanager` or `ssm`"
        )),
    }
}

/// The ECR repository ARN an image URI pulls from, or `None` for images outside ECR.
///
/// `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>[:tag|@digest]` maps to
/// `arn:<partition>:ecr:<region>:<account>:repository/<repo>`.
pub fn parse_image_repository(image: &str) -> Option<String> {
    let (host, path) = image.split_once('/')?;
    let mut parts = host.split('.');
    let account = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let partition = match rest.as_slice() {
        ["amazonaws", "com"] => "aws",
        ["amazonaws", "com", "cn"] => "aws-cn",
        _ => return None,
    };
    if !crate::model::arn::is_account_id(account) || region.is_empty() {
        return None;
    }
    let repo = match path.split_once('@') {
        Some((repo, _digest)) => repo,
        None => match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => repo,
            _ => path,
        },
    };
    if repo.is_empty() {
        return None;
    }
    Some(format!(
        "arn:{partition}:ecr:{region}:{account}:repository/{repo}"
    ))
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
            assert_eq!(parse_image_repository(image).as_deref(), want, "{image}");
        }
    }
}
