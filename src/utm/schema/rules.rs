//! Rules for single values of a configuration: UUIDs, MAC addresses, and the "expected one of
//! …, did you mean" wording every enum refusal uses.

use plist::Value;

use super::Severity;
use super::keys::ARCH_ALIASES;

/// Whether `s` is a UUID as Foundation parses one: 8-4-4-4-12 hex digits, either case.
pub(crate) fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The six bytes of a MAC written as UTM writes them (`52:42:0A:1B:2C:3D`, either case).
pub(crate) fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut out = [0u8; 6];
    for (o, p) in out.iter_mut().zip(&parts) {
        if p.len() != 2 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    Some(out)
}

/// Why a MAC cannot be a NIC's address, if it cannot: `(severity, reason)`.
pub(crate) fn mac_problem(s: &str) -> Option<(Severity, String)> {
    match parse_mac(s) {
        None => Some((
            Severity::Error,
            "a MAC address is six hex pairs separated by colons, like 52:42:0A:1B:2C:3D (QEMU refuses anything else)".into(),
        )),
        Some(b) if b[0] & 1 == 1 => Some((
            Severity::Warning,
            format!(
                "it is a multicast address (the first byte, {:02X}, is odd): a NIC needs a unicast MAC — the guest ignores this one and makes up its own, so a netplan matched by MAC finds no NIC; use an even first byte like 52",
                b[0]
            ),
        )),
        Some(b) if b == [0; 6] => Some((
            Severity::Warning,
            "it is all zeros, which no NIC may use: the guest makes up its own MAC".into(),
        )),
        _ => None,
    }
}

/// The closest allowed value to `got`, for "did you mean": the same spelling in another case,
/// a known alias, or the nearest by edit distance (within a third of its length).
pub(crate) fn suggest<'a>(got: &str, allowed: &[&'a str]) -> Option<&'a str> {
    if let Some(a) = allowed.iter().find(|a| a.eq_ignore_ascii_case(got)) {
        return Some(a);
    }
    let lower = got.to_ascii_lowercase();
    if let Some((_, to)) = ARCH_ALIASES.iter().find(|(from, _)| *from == lower)
        && let Some(a) = allowed.iter().find(|a| *a == to)
    {
        return Some(a);
    }
    let limit = (got.chars().count() / 3).max(1);
    allowed
        .iter()
        .map(|a| (crate::check::suggest::distance(&lower, &a.to_ascii_lowercase()), *a))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// "expected one of …" with a "did you mean" first when there is a close value. Long lists
/// are shortened to their first values and a count.
pub(crate) fn expected(got: &str, allowed: &[&str]) -> String {
    let list = if allowed.len() <= 12 {
        allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
    } else {
        let first: Vec<String> = allowed.iter().take(8).map(|a| format!("`{a}`")).collect();
        format!("{}, … ({} values in all)", first.join(", "), allowed.len())
    };
    match suggest(got, allowed) {
        Some(s) => format!("did you mean `{s}`? UTM's values are case-exact: {list}"),
        None => format!("UTM accepts only {list}"),
    }
}

pub(super) fn kind_of(v: &Value) -> &'static str {
    crate::plist::kind(v)
}

pub(super) fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}
