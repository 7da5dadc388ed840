//! Glob matching with `*` and `?` (IAM-SEMANTICS R1.2, R1.3, R3.3).
//!
//! IAM globs have two metacharacters: `*` matches any run of characters (including none) and `?`
//! matches exactly one character. There is no escape syntax in policies, so every other character,
//! `\` included, is literal. Inside the evaluator, patterns produced by policy-variable
//! substitution need literal `*` and `?` (`${*}`, or a tag value containing `*`); those patterns
//! use the internal *escaped* form, in which `\x` is the literal `x`.
//!
//! Case-insensitive matching folds ASCII letters only, which is what IAM action names, ARNs and
//! the `IgnoreCase` operators need.
//!
//! Besides plain matching this module answers the *prefix* question used for
//! [`super::RequestResource::Under`] and [`super::ContextValue::Prefix`]: of all the strings that
//! start with a known prefix, does a pattern match every one, some, or none?

use std::collections::BTreeSet;

use super::Tri;

/// True when `pattern` matches all of `text`, case-sensitively.
pub fn matches(pattern: &str, text: &str) -> bool {
    matches_with(pattern, text, false, false)
}

/// True when `pattern` matches all of `text`, ignoring ASCII case.
pub fn matches_ignore_case(pattern: &str, text: &str) -> bool {
    matches_with(pattern, text, true, false)
}

/// Glob matching with the options spelled out: `ignore_case` folds ASCII letters, `escapes`
/// makes `\x` the literal `x` (the internal form of substituted patterns).
///
/// # Complexity
/// O(|pattern| · |text|) in the worst case; linear for patterns with at most one `*`.
pub fn matches_with(pattern: &str, text: &str, ignore_case: bool, escapes: bool) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let eq = |a: u8, b: u8| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    // The position after the last `*` seen, and the text position it currently stands for.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(&c) = p.get(pi) {
            if escapes && c == b'\\' && pi + 1 < p.len() {
                if ti < t.len() && eq(p[pi + 1], t[ti]) {
                    pi += 2;
                    ti += 1;
                    continue;
                }
            } else if c == b'*' {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            } else if ti < t.len() {
                if c == b'?' {
                    pi += 1;
                    ti += char_len(t[ti]);
                    continue;
                }
                if eq(c, t[ti]) {
                    pi += 1;
                    ti += 1;
                    continue;
                }
            }
        } else if ti == t.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more character, if there is one.
        match star {
            Some((sp, st)) if st < t.len() => {
                let next = st + char_len(t[st]);
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            _ => return false,
        }
    }
}

/// The length of the UTF-8 sequence that starts with `lead`.
fn char_len(lead: u8) -> usize {
    match lead {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xff => 4,
        // A continuation byte: only reachable on malformed input, which `str` rules out.
        _ => 1,
    }
}

/// True when the pattern has a `*` or `?` (in the raw, unescaped form).
pub fn has_wildcard(pattern: &str) -> bool {
    pattern.bytes().any(|b| b == b'*' || b == b'?')
}

/// Of the strings that start with `prefix`, how many does `pattern` match (raw form)?
///
/// `True`: every one. `Unknown`: some but not all. `False`: none.
pub fn prefix_coverage(pattern: &str, prefix: &str, ignore_case: bool) -> Tri {
    prefix_coverage_with(pattern, prefix, ignore_case, false)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Star,
    One,
    Lit(char),
}

fn tokens(pattern: &str, ignore_case: bool, escapes: bool) -> Vec<Tok> {
    let fold = |c: char| {
        if ignore_case {
            c.to_ascii_lowercase()
        } else {
            c
        }
    };
    let mut out = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '\\' if escapes => match chars.next() {
                Some(lit) => Tok::Lit(fold(lit)),
                None => Tok::Lit('\\'),
            },
            '*' => Tok::Star,
            '?' => Tok::One,
            other => Tok::Lit(fold(other)),
        });
    }
    out
}

/// A set of NFA positions (0..=n) as a bit vector.
type States = Vec<u64>;

fn set_bit(s: &mut States, i: usize) {
    s[i / 64] |= 1 << (i % 64);
}

fn bit(s: &States, i: usize) -> bool {
    s[i / 64] & (1 << (i % 64)) != 0
}

/// Adds every position reachable through `*` matching nothing.
fn close(toks: &[Tok], s: &mut States) {
    for (i, tok) in toks.iter().enumerate() {
        if bit(s, i) && *tok == Tok::Star {
            set_bit(s, i + 1);
        }
    }
}

fn step(toks: &[Tok], s: &States, c: char) -> States {
    let mut next = vec![0u64; s.len()];
    for (i, tok) in toks.iter().enumerate() {
        if !bit(s, i) {
            continue;
        }
        match *tok {
            Tok::Star => set_bit(&mut next, i),
            Tok::One => set_bit(&mut next, i + 1),
            Tok::Lit(l) if l == c => set_bit(&mut next, i + 1),
            Tok::Lit(_) => {}
        }
    }
    close(toks, &mut next);
    next
}

/// The common shapes without building an automaton: a pattern with no wildcard, or one whose
/// only wildcard is a final `*` (`bucket/*`). `None` for every other shape.
fn prefix_coverage_simple(
    pattern: &str,
    prefix: &str,
    ignore_case: bool,
    escapes: bool,
) -> Option<Tri> {
    if escapes && pattern.contains('\\') {
        return None;
    }
    let starts = |text: &str, head: &str| {
        text.len() >= head.len()
            && if ignore_case {
                text.as_bytes()[..head.len()].eq_ignore_ascii_case(head.as_bytes())
            } else {
                text.as_bytes()[..head.len()] == *head.as_bytes()
            }
    };
    let literal = match pattern.find(['*', '?']) {
        None => pattern,
        Some(i) if i + 1 == pattern.len() && pattern.ends_with('*') => {
            let literal = &pattern[..i];
            return Some(if starts(prefix, literal) {
                Tri::True
            } else if starts(literal, prefix) {
                Tri::Unknown
            } else {
                Tri::False
            });
        }
        Some(_) => return None,
    };
    // No wildcard: the pattern matches exactly one string, which may or may not extend the prefix.
    Some(if starts(literal, prefix) {
        Tri::Unknown
    } else {
        Tri::False
    })
}

/// The most subsets the universality check explores before answering "some".
const MAX_SUBSETS: usize = 4096;

/// [`prefix_coverage`] with the escaped-pattern option.
///
/// # Complexity
/// Linear in `prefix` times the pattern length, plus a subset construction over the pattern's
/// positions that is capped at a few thousand subsets (past the cap the answer is `Unknown`,
/// which callers treat as "some").
pub fn prefix_coverage_with(pattern: &str, prefix: &str, ignore_case: bool, escapes: bool) -> Tri {
    if let Some(answer) = prefix_coverage_simple(pattern, prefix, ignore_case, escapes) {
        return answer;
    }
    let toks = tokens(pattern, ignore_case, escapes);
    let n = toks.len();
    let mut s: States = vec![0u64; n / 64 + 1];
    set_bit(&mut s, 0);
    close(&toks, &mut s);
    for c in prefix.chars() {
        let c = if ignore_case {
            c.to_ascii_lowercase()
        } else {
            c
        };
        s = step(&toks, &s, c);
        if s.iter().all(|w| *w == 0) {
            return Tri::False;
        }
    }
    // Every live position can still reach the end (literals can be supplied, `*` can be empty),
    // so some continuation matches. Now: does every continuation match? Explore the subset
    // automaton over the pattern's literal characters plus one character it does not mention.
    let mut alphabet: Vec<char> = toks
        .iter()
        .filter_map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let other = ['\u{1}', '\u{2}', '\u{3}']
        .into_iter()
        .find(|c| !alphabet.contains(c));
    alphabet.extend(other);
    let mut seen: BTreeSet<States> = BTreeSet::new();
    let mut queue = vec![s];
    while let Some(cur) = queue.pop() {
        if !bit(&cur, n) {
            return Tri::Unknown;
        }
        if !seen.insert(cur.clone()) {
            continue;
        }
        if seen.len() > MAX_SUBSETS {
            return Tri::Unknown;
        }
        for &c in &alphabet {
            let next = step(&toks, &cur, c);
            if !seen.contains(&next) {
                queue.push(next);
            }
        }
    }
    Tri::True
}
