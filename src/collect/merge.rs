//! Joining snapshots collected separately (one job per account, say) into one.
//!
//! Merging works on the JSON documents, so fields rolechain does not read survive it. Accounts
//! are matched by id, organization accounts and OUs by `Id`, SCPs and RCPs by
//! `PolicySummary.Id`, and `parents` by child id. A duplicate that is identical is kept once; an account read in both
//! files may add regions the other lacks; anything else that differs is a conflict naming both
//! files. Gaps are concatenated.

use serde_json::{Map, Value};

use super::snapshot::{LoadError, SNAPSHOT_SCHEMA, load_str};

/// Why snapshots could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// An input is not a valid snapshot.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Two inputs disagree about the same thing.
    #[error("`{first}` and `{second}` disagree about {what}")]
    Conflict {
        /// The file that said it first.
        first: String,
        /// The file that said otherwise.
        second: String,
        /// What they disagree about.
        what: String,
    },
    /// The merged document could not be serialized.
    #[error("serializing the merged snapshot")]
    Serialize(#[source] serde_json::Error),
    /// Nothing to merge.
    #[error("no snapshots to merge")]
    Empty,
}

/// One input: its name (for messages) and its text.
pub struct Input<'a> {
    /// The file name.
    pub name: &'a str,
    /// The file's text.
    pub text: &'a str,
}

/// Merges snapshots into one `rolechain.snapshot/v1` document (pretty JSON, final newline).
///
/// # Errors
/// An input that does not load as a snapshot, or two inputs that disagree (see the module doc).
pub fn merge(inputs: &[Input<'_>]) -> Result<String, MergeError> {
    if inputs.is_empty() {
        return Err(MergeError::Empty);
    }
    let mut accounts: Vec<(Value, &str)> = Vec::new();
    let mut org: Option<(Map<String, Value>, &str)> = None;
    let mut gaps: Vec<Value> = Vec::new();
    let mut any_gaps = false;
    let mut collected_at: Option<String> = None;
    for input in inputs {
        // Validate with the real reader first, so every error names its file and path.
        load_str(input.text, input.name)?;
        let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(input.text) else {
            continue;
        };
        if let Some(at) = doc.get("collected_at").and_then(Value::as_str) {
            // The oldest reading bounds how fresh the merged snapshot is.
            if collected_at.as_deref().is_none_or(|c| at < c) {
                collected_at = Some(at.to_string());
            }
        }
        for account in doc
            .get("accounts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = account
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match accounts
                .iter_mut()
                .find(|(a, _)| a.get("id").and_then(Value::as_str) == Some(id))
            {
                None => accounts.push((account.clone(), input.name)),
                Some((existing, first)) => {
                    merge_account(existing, account, first, input.name, id)?;
                }
            }
        }
        if let Some(Value::Object(o)) = doc.get("organization") {
            match &mut org {
                None => org = Some((o.clone(), input.name)),
                Some((existing, first)) => merge_org(existing, o, first, input.name)?,
            }
        }
        if let Some(list) = doc.get("gaps").and_then(Value::as_array) {
            any_gaps = true;
            gaps.extend(list.iter().cloned());
        }
    }
    accounts.sort_by(|(a, _), (b, _)| {
        a.get("id")
            .and_then(Value::as_str)
            .cmp(&b.get("id").and_then(Value::as_str))
    });
    let mut out = Map::new();
    out.insert("schema".into(), Value::from(SNAPSHOT_SCHEMA));
    if let Some(at) = collected_at {
        out.insert("collected_at".into(), Value::from(at));
    }
    if let Some((o, _)) = org {
        out.insert("organization".into(), Value::Object(o));
    }
    out.insert(
        "accounts".into(),
        Value::Array(accounts.into_iter().map(|(a, _)| a).collect()),
    );
    if any_gaps {
        out.insert("gaps".into(), Value::Array(gaps));
    }
    let mut text =
        serde_json::to_string_pretty(&Value::Object(out)).map_err(MergeError::Serialize)?;
    text.push('\n');
    Ok(text)
}

fn conflict(first: &str, second: &str, what: String) -> MergeError {
    MergeError::Conflict {
        first: first.to_string(),
        second: second.to_string(),
        what,
    }
}

/// An account read in two files: equal fields are kept once, regions may be split between the
/// files, and anything else that differs is a conflict.
fn merge_account(
    existing: &mut Value,
    other: &Value,
    first: &str,
    second: &str,
    id: &str,
) -> Result<(), MergeError> {
    let (Value::Object(a), Value::Object(b)) = (existing, other) else {
        return Ok(());
    };
    for (key, value) in b {
        match a.get_mut(key) {
            None => {
                a.insert(key.clone(), value.clone());
            }
            Some(mine) if mine == value => {}
            Some(Value::Object(mine)) if key == "regions" => {
                let Value::Object(theirs) = value else {
                    return Err(conflict(first, second, format!("account `{id}` `regions`")));
                };
                for (region, content) in theirs {
                    match mine.get(region) {
                        None => {
                            mine.insert(region.clone(), content.clone());
                        }
                        Some(m) if m == content => {}
                        Some(_) => {
                            return Err(conflict(
                                first,
                                second,
                                format!("account `{id}` region `{region}`"),
                            ));
                        }
                    }
                }
            }
            Some(_) => {
                return Err(conflict(first, second, format!("account `{id}` `{key}`")));
            }
        }
    }
    Ok(())
}

/// The organization read from two files: the same organization, with its lists joined.
fn merge_org(
    existing: &mut Map<String, Value>,
    other: &Map<String, Value>,
    first: &str,
    second: &str,
) -> Result<(), MergeError> {
    for key in ["id", "management_account_id"] {
        if let (Some(a), Some(b)) = (existing.get(key), other.get(key)) {
            if a != b {
                return Err(conflict(first, second, format!("organization `{key}`")));
            }
        } else if let Some(b) = other.get(key) {
            existing.insert(key.to_string(), b.clone());
        }
    }
    for (list, id_of) in [
        ("accounts", account_id as fn(&Value) -> Option<&str>),
        ("organizational_units", account_id),
        ("policies", policy_id),
    ] {
        let theirs = other.get(list).and_then(Value::as_array).cloned();
        let Some(theirs) = theirs else { continue };
        let mine = existing
            .entry(list.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(mine) = mine else { continue };
        for item in theirs {
            let id = id_of(&item).map(str::to_string);
            match mine
                .iter()
                .find(|m| id.is_some() && id_of(m) == id.as_deref())
            {
                None => mine.push(item),
                Some(m) if *m == item => {}
                Some(_) => {
                    return Err(conflict(
                        first,
                        second,
                        format!("organization {list} `{}`", id.unwrap_or_default()),
                    ));
                }
            }
        }
    }
    if let Some(Value::Object(theirs)) = other.get("parents") {
        let mine = existing
            .entry("parents".to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(mine) = mine {
            for (child, parent) in theirs {
                match mine.get(child) {
                    None => {
                        mine.insert(child.clone(), parent.clone());
                    }
                    Some(p) if p == parent => {}
                    Some(_) => {
                        return Err(conflict(first, second, format!("the parent of `{child}`")));
                    }
                }
            }
        }
    }
    Ok(())
}

fn account_id(v: &Value) -> Option<&str> {
    v.get("Id").and_then(Value::as_str)
}

fn policy_id(v: &Value) -> Option<&str> {
    v.get("PolicySummary")?.get("Id")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(accounts: &str) -> String {
        format!(r#"{{"schema": "rolechain.snapshot/v1", "accounts": [{accounts}]}}"#)
    }

    #[test]
    fn identical_duplicates_merge_and_regions_add_up() {
        let a = snap(r#"{"id": "111111111111", "regions": {"us-east-1": {"secrets": []}}}"#);
        let b = snap(
            r#"{"id": "111111111111", "regions": {"eu-west-1": {"secrets": []}}}, {"id": "222222222222"}"#,
        );
        let out = merge(&[
            Input {
                name: "a.json",
                text: &a,
            },
            Input {
                name: "b.json",
                text: &b,
            },
            Input {
                name: "a2.json",
                text: &a,
            },
        ])
        .unwrap();
        let inv = load_str(&out, "out.json").unwrap();
        assert_eq!(inv.accounts.len(), 2);
        assert_eq!(inv.accounts[0].regions.len(), 2);
    }

    #[test]
    fn conflicting_account_names_both_files() {
        let a = snap(r#"{"id": "111111111111", "name": "prod"}"#);
        let b = snap(r#"{"id": "111111111111", "name": "dev"}"#);
        let e = merge(&[
            Input {
                name: "a.json",
                text: &a,
            },
            Input {
                name: "b.json",
                text: &b,
            },
        ])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`a.json` and `b.json` disagree about account `111111111111` `name`"
        );
    }

    #[test]
    fn organizations_join_and_gaps_concatenate() {
        let a = r#"{"schema": "rolechain.snapshot/v1", "accounts": [],
            "organization": {"id": "o-1", "accounts": [{"Id": "111111111111"}], "parents": {"111111111111": "r-1"},
              "organizational_units": [{"Id": "ou-1-a", "Name": "Prod"}]},
            "gaps": [{"account": "111111111111", "error": "x"}]}"#;
        let b = r#"{"schema": "rolechain.snapshot/v1", "accounts": [],
            "organization": {"id": "o-1", "management_account_id": "111111111111", "accounts": [{"Id": "222222222222"}], "parents": {"222222222222": "r-1"},
              "organizational_units": [{"Id": "ou-1-a", "Name": "Prod"}, {"Id": "ou-1-b", "Name": "Dev"}]},
            "gaps": [{"account": "222222222222", "error": "y"}]}"#;
        let out = merge(&[Input { name: "a", text: a }, Input { name: "b", text: b }]).unwrap();
        let inv = load_str(&out, "out").unwrap();
        let org = inv.organization.unwrap();
        assert_eq!(org.accounts.len(), 2);
        assert_eq!(org.parents.len(), 2);
        assert_eq!(
            org.unit_names.into_iter().collect::<Vec<_>>(),
            [
                ("ou-1-a".to_string(), "Prod".to_string()),
                ("ou-1-b".to_string(), "Dev".to_string())
            ]
        );
        assert_eq!(org.management_account_id.as_deref(), Some("111111111111"));
        assert_eq!(inv.gaps.len(), 2);
        let c = r#"{"schema": "rolechain.snapshot/v1", "organization": {"id": "o-2"}}"#;
        let e = merge(&[Input { name: "a", text: a }, Input { name: "c", text: c }]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`a` and `c` disagree about organization `id`"
        );
    }
}
