//! Deterministic randomness: every choice is a splitmix64 hash of the seed and the indexes of
//! the thing it shapes, so any part of an organization can be generated without the rest.

/// splitmix64's finalizer: a bijective mix of 64 bits.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A splitmix64 generator: small, fast and good enough for shapes.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n`; `n` must not be 0.
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Tags for `Gen::hash`, so different choices about the same thing are independent.
#[derive(Clone, Copy)]
pub(super) enum Choice {
    Env = 1,
    Region,
    Team,
    App,
    Kind,
    Containers,
    Profile,
    Revision,
    Repo,
    Suffix,
    SecretKey,
    SecretPolicy,
    ParamType,
    BucketPolicy,
    RepoPolicy,
    RepoAccounts,
    KeyId,
    TaskId,
    Injection,
    OrgId,
}

pub(super) fn pick<'s>(list: &[&'s str], h: u64) -> &'s str {
    list[(h % list.len() as u64) as usize]
}

pub(super) fn alnum(mut h: u64, len: usize, alphabet: &[u8]) -> String {
    let mut s = String::with_capacity(len);
    for _ in 0..len {
        s.push(char::from(alphabet[(h % alphabet.len() as u64) as usize]));
        h = mix(h);
    }
    s
}

/// FNV-1a, for ids derived from names.
pub(super) fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(super) const LOWER36: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub(super) const MIXED62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(super) const HEX: &[u8] = b"0123456789abcdef";
pub(super) const UPPER32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
