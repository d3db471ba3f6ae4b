//! One-pass parsing of a token's header and payload into borrowed fields.
//!
//! Strings borrow from the decoded buffer (no allocation unless they contain escapes), the
//! scope array is turned into a bitset as it is read, and every registered member may appear
//! once: a duplicated `sub` or `exp` is an error, never "last one wins".

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::kind::TokenKind;
use super::scope::{Registry, ScopeSet};

/// The members of a JOSE header that matter here. `jwk`, `jku`, `x5u` and `x5c` are
/// deliberately not read: keys never come from the token.
#[derive(Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(borrow)]
    pub(crate) alg: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) typ: Option<Cow<'a, str>>,
    /// Present at all (even `null`) means the token demands extensions we do not implement.
    #[serde(default, deserialize_with = "present")]
    pub(crate) crit: bool,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// What the payload must be checked against while it is parsed.
pub(crate) struct Expect<'r> {
    pub(crate) registry: Option<&'r Registry>,
    pub(crate) issuer: Option<&'r str>,
    pub(crate) audience: &'r [String],
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PayloadError {
    /// Not JSON, a wrong type, a duplicated member.
    Malformed,
    Missing(&'static str),
    WrongAudience,
    WrongIssuer,
}

pub(crate) struct Payload<'a> {
    pub(crate) sub: Cow<'a, str>,
    pub(crate) jti: Cow<'a, str>,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) nbf: Option<i64>,
    pub(crate) kind: TokenKind,
    pub(crate) fresh: bool,
    pub(crate) scopes: ScopeSet,
    /// Whether one of this application's own keys signed it (set by the verifier).
    pub(crate) own_key: bool,
    /// `ver`: the subject's token version at issue (0 when absent).
    pub(crate) ver: u64,
    /// `fam`: the refresh family (empty when absent).
    pub(crate) fam: Cow<'a, str>,
    /// `fam_exp`: when the family ends.
    pub(crate) fam_exp: Option<i64>,
    /// `csrf`: the double-submit value of a token issued for a cookie (empty when absent).
    pub(crate) csrf: Cow<'a, str>,
    /// `att`: the access-token lifetime of the session, in seconds, that a refresh token
    /// carries so that a refresh keeps the login's (absent: the configured default).
    pub(crate) att: Option<u32>,
}

/// The longest lifetime anything is given, and the largest `att` accepted: a century.
pub(crate) const MAX_LIFETIME: u32 = 100 * 365 * 24 * 3600;

/// Parses `json`, already checked to be UTF-8 as a whole: serde then borrows every string
/// without validating each one again.
pub(crate) fn payload<'a>(json: &'a str, expect: &Expect<'_>) -> Result<Payload<'a>, PayloadError> {
    let mut outcome = Outcome::default();
    let seed = PayloadSeed {
        expect,
        outcome: &mut outcome,
    };
    let mut de = serde_json::Deserializer::from_str(json);
    let parsed = seed.deserialize(&mut de).and_then(|p| de.end().map(|()| p));
    match parsed {
        Ok(payload) => Ok(payload),
        Err(_) => Err(outcome.error.unwrap_or(PayloadError::Malformed)),
    }
}

/// Carries a precise error out of serde, whose own errors are strings.
#[derive(Default)]
struct Outcome {
    error: Option<PayloadError>,
}

struct PayloadSeed<'e, 'r> {
    expect: &'e Expect<'r>,
    outcome: &'e mut Outcome,
}

enum Field<'de> {
    Sub,
    Jti,
    Iat,
    Exp,
    Nbf,
    Type,
    Fresh,
    Scopes,
    Iss,
    Aud,
    Ver,
    Fam,
    FamExp,
    Csrf,
    Att,
    Other(Cow<'de, str>),
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl<'de> Visitor<'de> for FieldVisitor {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Field<'de>, E> {
                Ok(Field::named(name).unwrap_or(Field::Other(Cow::Borrowed(name))))
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field<'de>, E> {
                Ok(Field::named(name).unwrap_or_else(|| Field::Other(Cow::Owned(name.to_owned()))))
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl Field<'_> {
    fn named(name: &str) -> Option<Self> {
        Some(match name {
            "sub" => Field::Sub,
            "jti" => Field::Jti,
            "iat" => Field::Iat,
            "exp" => Field::Exp,
            "nbf" => Field::Nbf,
            "type" => Field::Type,
            "fresh" => Field::Fresh,
            "scopes" => Field::Scopes,
            "iss" => Field::Iss,
            "aud" => Field::Aud,
            "ver" => Field::Ver,
            "fam" => Field::Fam,
            "fam_exp" => Field::FamExp,
            "csrf" => Field::Csrf,
            "att" => Field::Att,
            _ => return None,
        })
    }
}

impl<'de> DeserializeSeed<'de> for PayloadSeed<'_, '_> {
    type Value = Payload<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

fn duplicate<E: de::Error>(seen: &mut u16, bit: u16) -> Result<(), E> {
    if *seen & bit != 0 {
        return Err(E::custom("duplicated claim"));
    }
    *seen |= bit;
    Ok(())
}

impl<'de> Visitor<'de> for PayloadSeed<'_, '_> {
    type Value = Payload<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    // One arm per registered claim: splitting it would scatter the duplicate bookkeeping.
    #[allow(clippy::too_many_lines)]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut sub, mut jti, mut iat, mut exp, mut nbf, mut kind) =
            (None, None, None, None, None, None);
        let (mut ver, mut fam, mut fam_exp) = (0, Cow::Borrowed(""), None);
        let mut csrf = Cow::Borrowed("");
        let mut att = None;
        let mut fresh = false;
        let mut aud_ok = false;
        let mut scopes = ScopeSet::with_capacity(self.expect.registry.map_or(0, Registry::len));
        let mut seen = 0u16;
        let mut others: Vec<Cow<'de, str>> = Vec::new();
        while let Some(field) = map.next_key::<Field<'de>>()? {
            match field {
                Field::Sub => {
                    duplicate(&mut seen, 1)?;
                    sub = Some(map.next_value::<CowStr<'de>>()?.0);
                }
                Field::Jti => {
                    duplicate(&mut seen, 1 << 1)?;
                    jti = Some(map.next_value::<CowStr<'de>>()?.0);
                }
                Field::Iat => {
                    duplicate(&mut seen, 1 << 2)?;
                    iat = Some(map.next_value::<NumericDate>()?.later());
                }
                Field::Exp => {
                    duplicate(&mut seen, 1 << 3)?;
                    exp = Some(map.next_value::<NumericDate>()?.earlier());
                }
                Field::Nbf => {
                    duplicate(&mut seen, 1 << 4)?;
                    nbf = Some(map.next_value::<NumericDate>()?.later());
                }
                Field::Type => {
                    duplicate(&mut seen, 1 << 5)?;
                    kind = Some(map.next_value::<TokenKind>()?);
                }
                Field::Fresh => {
                    duplicate(&mut seen, 1 << 6)?;
                    fresh = map.next_value::<bool>()?;
                }
                Field::Scopes => {
                    duplicate(&mut seen, 1 << 7)?;
                    map.next_value_seed(ScopesSeed {
                        registry: self.expect.registry,
                        set: &mut scopes,
                    })?;
                }
                Field::Iss => {
                    duplicate(&mut seen, 1 << 8)?;
                    let iss = map.next_value::<CowStr<'de>>()?.0;
                    if self.expect.issuer.is_some_and(|want| want != iss) {
                        self.outcome.error = Some(PayloadError::WrongIssuer);
                        return Err(de::Error::custom("issuer"));
                    }
                }
                Field::Aud => {
                    duplicate(&mut seen, 1 << 9)?;
                    aud_ok = map.next_value_seed(AudienceSeed {
                        accepted: self.expect.audience,
                    })?;
                    if !aud_ok {
                        self.outcome.error = Some(PayloadError::WrongAudience);
                        return Err(de::Error::custom("audience"));
                    }
                }
                Field::Ver => {
                    duplicate(&mut seen, 1 << 10)?;
                    ver = map.next_value::<u64>()?;
                }
                Field::Fam => {
                    duplicate(&mut seen, 1 << 11)?;
                    fam = map.next_value::<CowStr<'de>>()?.0;
                }
                Field::FamExp => {
                    duplicate(&mut seen, 1 << 12)?;
                    fam_exp = Some(map.next_value::<NumericDate>()?.earlier());
                }
                Field::Csrf => {
                    duplicate(&mut seen, 1 << 13)?;
                    csrf = map.next_value::<CowStr<'de>>()?.0;
                }
                Field::Att => {
                    duplicate(&mut seen, 1 << 14)?;
                    // A whole number of seconds, 1 to a century: nothing else was ever issued.
                    let secs = map.next_value::<u64>()?;
                    att = Some(
                        u32::try_from(secs)
                            .ok()
                            .filter(|s| (1..=MAX_LIFETIME).contains(s))
                            .ok_or_else(|| de::Error::custom("att out of range"))?,
                    );
                }
                Field::Other(name) => {
                    // Unregistered members are the user's own claims: a duplicate would be
                    // read differently by different consumers, so it is refused too. No
                    // allocation unless the token has such members.
                    if others.contains(&name) {
                        return Err(de::Error::custom("duplicated claim"));
                    }
                    others.push(name);
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let mut missing = |name: &'static str| {
            self.outcome.error = Some(PayloadError::Missing(name));
            de::Error::custom("missing claim")
        };
        if self.expect.issuer.is_some() && seen & (1 << 8) == 0 {
            return Err(missing("iss"));
        }
        if !self.expect.audience.is_empty() && !aud_ok {
            return Err(missing("aud"));
        }
        Ok(Payload {
            sub: sub
                .filter(|s| !s.is_empty())
                .ok_or_else(|| missing("sub"))?,
            jti: jti
                .filter(|s| !s.is_empty())
                .ok_or_else(|| missing("jti"))?,
            iat: iat.ok_or_else(|| missing("iat"))?,
            exp: exp.ok_or_else(|| missing("exp"))?,
            kind: kind.ok_or_else(|| missing("type"))?,
            nbf,
            fresh,
            scopes,
            own_key: false,
            ver,
            fam,
            fam_exp,
            csrf,
            att,
        })
    }
}

/// The latest NumericDate accepted: the last second of year 9999. Beyond it, and below 0, a
/// time claim is refused rather than clamped.
pub(crate) const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// A NumericDate (RFC 7519 §2): seconds since the epoch, an integer or a fraction (AuthX
/// writes `1796182398.241967`). A fraction is rounded towards refusal by the caller:
/// `exp` down, `nbf` and `iat` up.
struct NumericDate {
    whole: i64,
    fraction: bool,
}

impl NumericDate {
    /// Rounded down: for `exp`.
    fn earlier(&self) -> i64 {
        self.whole
    }

    /// Rounded up: for `nbf` and `iat`.
    fn later(&self) -> i64 {
        self.whole + i64::from(self.fraction)
    }
}

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                if (0..=MAX_NUMERIC_DATE).contains(&v) {
                    Ok(NumericDate {
                        whole: v,
                        fraction: false,
                    })
                } else {
                    Err(E::custom("NumericDate out of range"))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom("NumericDate out of range"))
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                // The range check comes first, so the casts below are exact.
                #[allow(clippy::cast_precision_loss)]
                let max = MAX_NUMERIC_DATE as f64;
                if !v.is_finite() || !(0.0..=max).contains(&v) {
                    return Err(E::custom("NumericDate out of range"));
                }
                #[allow(clippy::cast_possible_truncation)]
                let whole = v.floor() as i64;
                Ok(NumericDate {
                    whole,
                    fraction: v.fract() != 0.0,
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A string that borrows from the input when it has no escapes.
struct CowStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// `scopes`: an array of strings, folded into the bitset as it is read.
struct ScopesSeed<'s, 'r> {
    registry: Option<&'r Registry>,
    set: &'s mut ScopeSet,
}

impl<'de> DeserializeSeed<'de> for ScopesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ScopesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of scope strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(CowStr(name)) = seq.next_element::<CowStr<'de>>()? {
            if let Some(registry) = self.registry {
                registry.grant(&name, self.set);
            }
        }
        Ok(())
    }
}

/// `aud`: a string or an array of strings; true when one of them is accepted.
struct AudienceSeed<'r> {
    accepted: &'r [String],
}

impl<'de> DeserializeSeed<'de> for AudienceSeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AudienceSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(self.accepted.iter().any(|a| a == v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut ok = false;
        while let Some(CowStr(v)) = seq.next_element::<CowStr<'de>>()? {
            ok |= self.accepted.iter().any(|a| *a == v);
        }
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Payload<'_>, PayloadError> {
        payload(
            json,
            &Expect {
                registry: None,
                issuer: None,
                audience: &[],
            },
        )
    }

    const OK: &str = r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access"}"#;

    #[test]
    fn minimal_payload_parses_and_borrows() {
        let p = parse(OK).unwrap();
        assert!(matches!(p.sub, Cow::Borrowed("u")));
        assert_eq!(p.kind, TokenKind::Access);
        assert!(!p.fresh);
    }

    #[test]
    fn each_required_claim_is_required() {
        for name in ["sub", "jti", "iat", "exp", "type"] {
            let value: serde_json::Value = serde_json::from_str(OK).unwrap();
            let mut map = value.as_object().unwrap().clone();
            map.remove(name);
            let json = serde_json::to_string(&map).unwrap();
            assert_eq!(
                parse(&json).err(),
                Some(PayloadError::Missing(name)),
                "{name}"
            );
        }
    }

    #[test]
    fn wrong_types_and_duplicates_are_malformed() {
        for json in [
            r#"{"sub":"u","jti":"j","iat":1,"exp":"2","type":"access"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":true,"type":"access"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":1e400,"type":"access"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":1e300,"type":"access"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":-5,"type":"access"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":99999999999999999999,"type":"access"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":null,"type":"access"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access","fresh":"true"}"#,
            r#"{"sub":"u","sub":"admin","jti":"j","iat":1,"exp":2,"type":"access"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"Access"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access","scopes":"admin"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access","nbf":null}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access"} trailing"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access","role":"user","role":"admin"}"#,
            r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access","r\u006fle":"user","role":"admin"}"#,
            "[1,2]",
        ] {
            assert_eq!(parse(json).err(), Some(PayloadError::Malformed), "{json}");
        }
    }

    #[test]
    fn fractional_numeric_dates_round_towards_refusal() {
        let json = r#"{"sub":"u","jti":"j","iat":10.2,"nbf":10.5,"exp":20.9,"type":"access"}"#;
        let p = parse(json).unwrap();
        assert_eq!((p.iat, p.nbf, p.exp), (11, Some(11), 20));
        let json = r#"{"sub":"u","jti":"j","iat":10.0,"exp":2e1,"type":"access"}"#;
        let p = parse(json).unwrap();
        assert_eq!((p.iat, p.exp), (10, 20));
    }

    #[test]
    fn empty_subject_or_id_counts_as_missing() {
        let json = r#"{"sub":"","jti":"j","iat":1,"exp":2,"type":"access"}"#;
        assert_eq!(parse(json).err(), Some(PayloadError::Missing("sub")));
        let json = r#"{"sub":"u","jti":"","iat":1,"exp":2,"type":"access"}"#;
        assert_eq!(parse(json).err(), Some(PayloadError::Missing("jti")));
    }

    #[test]
    fn distinct_unregistered_members_are_fine() {
        let json = r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access","a":1,"b":{"a":2}}"#;
        assert!(parse(json).is_ok());
    }

    #[test]
    fn the_access_lifetime_of_a_session_is_a_bounded_whole_number() {
        let with = |att: &str| {
            format!(r#"{{"sub":"u","jti":"j","iat":1,"exp":2,"type":"refresh","att":{att}}}"#)
        };
        assert_eq!(parse(&with("60")).unwrap().att, Some(60));
        assert_eq!(
            parse(&with("3153600000")).unwrap().att,
            Some(MAX_LIFETIME),
            "a century"
        );
        assert_eq!(parse(OK).unwrap().att, None);
        for bad in [
            "0",
            "-60",
            "60.5",
            "6e1",
            "\"60\"",
            "null",
            "true",
            "[60]",
            "3153600001",
            "18446744073709551616",
        ] {
            assert_eq!(
                parse(&with(bad)).err(),
                Some(PayloadError::Malformed),
                "att {bad}"
            );
        }
        let twice = r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"refresh","att":60,"att":60}"#;
        assert_eq!(parse(twice).err(), Some(PayloadError::Malformed));
    }

    #[test]
    fn audience_present_without_configuration_is_rejected() {
        let json = r#"{"sub":"u","jti":"j","iat":1,"exp":2,"type":"access","aud":"other"}"#;
        assert_eq!(parse(json).err(), Some(PayloadError::WrongAudience));
    }
}
