//! Policy documents as the APIs return them: JSON text, or URL-encoded JSON text (IAM), and not
//! always the same from one call to the next. The collector stores them decoded.

use serde_json::Value;

/// Decodes a policy document: plain JSON, or URL-encoded JSON. `None` when it is neither.
pub(super) fn policy_document(raw: &str) -> Option<Value> {
    let text = raw.trim();
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        if value.is_object() {
            return Some(value);
        }
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?
        .into_owned();
    match serde_json::from_str::<Value>(decoded.trim()) {
        Ok(value) if value.is_object() => Some(value),
        _ => None,
    }
}

/// The last `/`-separated segment of an ARN: a managed policy's name.
pub(super) fn last_segment(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_encoded_and_broken_documents() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(policy_document(plain), policy_document(encoded));
        assert_eq!(
            policy_document(encoded).unwrap()["Version"],
            Value::from("2012-10-17")
        );
        // A percent sign inside a plain document is left alone.
        let with_percent = r#"{"Statement":[{"Sid":"100%"}]}"#;
        assert_eq!(
            policy_document(with_percent).unwrap()["Statement"][0]["Sid"],
            Value::from("100%")
        );
        assert_eq!(policy_document("not json"), None);
        assert_eq!(policy_document("%ZZ"), None);
    }

    #[test]
    fn policy_name_from_arn() {
        assert_eq!(
            last_segment("arn:aws:iam::111111111111:policy/team/read"),
            "read"
        );
    }
}
