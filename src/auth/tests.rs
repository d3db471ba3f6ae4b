//! Unit tests of configuration, issuing and verification through the public API.

use std::time::Duration;

use serde_json::Value;

use crate::{Algorithm, Auth, ConfigError, Grant, IssueError, Key, TokenError, TokenKind};

pub(crate) const SECRET: &str = "unit-test-secret-unit-test-secret-0123456789";
const RSA: &str = include_str!("../../testdata/rsa.pem");
const RSA_PUB: &str = include_str!("../../testdata/rsa.pub.pem");
const EC256: &str = include_str!("../../testdata/ec256.pem");
const EC256_PUB: &str = include_str!("../../testdata/ec256.pub.pem");
const EC384: &str = include_str!("../../testdata/ec384.pem");
const ED25519: &str = include_str!("../../testdata/ed25519.pem");

pub(crate) fn hs256() -> Auth {
    Auth::builder().secret(SECRET).build().unwrap()
}

pub(crate) fn claims_json(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn header_json(token: &str) -> Value {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn startup_refuses_bad_keys_with_messages_that_say_what_to_do() {
    let err = Auth::builder().build().unwrap_err();
    assert!(matches!(err, ConfigError::MissingKey));
    assert!(err.to_string().contains("JWT_SECRET_KEY"), "{err}");

    let err = Auth::builder().secret("x".repeat(31)).build().unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::SecretTooShort {
                min: 32,
                got: 31,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("at least 32"), "{err}");
    let err = Auth::builder()
        .signing_key(Key::hmac(Algorithm::HS512, "x".repeat(32)))
        .build()
        .unwrap_err();
    assert!(
        matches!(err, ConfigError::SecretTooShort { min: 64, .. }),
        "{err}"
    );

    let err = Auth::builder()
        .signing_key(Key::private_pem(
            Algorithm::RS256,
            "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----",
        ))
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::BadPem(_)), "{err}");

    for (algorithm, pem) in [
        (Algorithm::RS256, EC256),
        (Algorithm::ES256, RSA),
        (Algorithm::ES256, EC384),
        (Algorithm::EdDSA, EC256),
    ] {
        let err = Auth::builder()
            .signing_key(Key::private_pem(algorithm, pem))
            .build()
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::KeyDoesNotFit(..) | ConfigError::BadPem(_)),
            "{algorithm:?}: {err}"
        );
    }
    let err = Auth::builder()
        .signing_key(Key::hmac(Algorithm::RS256, SECRET))
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::KeyDoesNotFit(..)), "{err}");
    let err = Auth::builder()
        .signing_key(Key::public_pem(Algorithm::RS256, RSA_PUB))
        .build()
        .unwrap_err();
    assert!(matches!(err, ConfigError::PublicKeyCannotSign), "{err}");
}

#[test]
fn from_vars_reads_the_environment_and_refuses_nonsense() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    assert!(matches!(from_vars(vars(&[])), Err(ConfigError::MissingKey)));
    assert!(matches!(
        from_vars(vars(&[("JWT_SECRET_KEY", "short")])),
        Err(ConfigError::SecretTooShort { .. })
    ));
    assert!(matches!(
        from_vars(vars(&[
            ("JWT_SECRET_KEY", SECRET),
            ("JWT_ALGORITHM", "none")
        ])),
        Err(ConfigError::UnknownAlgorithm(_))
    ));
    assert!(matches!(
        from_vars(vars(&[
            ("JWT_SECRET_KEY", SECRET),
            ("JWT_ACCESS_TOKEN_EXPIRES", "soon")
        ])),
        Err(ConfigError::BadVariable {
            name: "JWT_ACCESS_TOKEN_EXPIRES",
            ..
        })
    ));
    assert!(matches!(
        from_vars(vars(&[
            ("JWT_SECRET_KEY", SECRET),
            ("JWT_VERIFIED_TOKEN_CACHE", "lots")
        ])),
        Err(ConfigError::BadVariable {
            name: "JWT_VERIFIED_TOKEN_CACHE",
            ..
        })
    ));
    assert!(hs256().inner.verifier.cache.is_none(), "off by default");
    let auth = from_vars(vars(&[
        ("JWT_SECRET_KEY", SECRET),
        ("JWT_VERIFIED_TOKEN_CACHE", "1000"),
        ("JWT_ACCESS_TOKEN_EXPIRES", "60"),
        ("JWT_ISSUER", "https://issuer.example"),
        ("JWT_AUDIENCE", "api.example"),
    ]))
    .unwrap();
    let token = auth.create_access_token(&Grant::to("ann")).unwrap();
    let claims = claims_json(&token);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        60
    );
    assert_eq!(claims["iss"], "https://issuer.example");
    assert_eq!(claims["aud"], "api.example");
    assert!(auth.inner.verifier.cache.is_some());
    assert_eq!(auth.verify(&token).unwrap().sub(), "ann");
    assert_eq!(auth.verify(&token).unwrap().sub(), "ann", "a cache hit");
    // Another issuer's token (same key) is refused.
    assert_eq!(hs256().verify(&token).unwrap_err(), TokenError::Audience);
}

#[test]
fn every_algorithm_signs_and_verifies_a_pair() {
    let keys = [
        Key::hmac(Algorithm::HS256, SECRET),
        Key::hmac(Algorithm::HS384, SECRET.repeat(2)),
        Key::hmac(Algorithm::HS512, SECRET.repeat(2)),
        Key::private_pem(Algorithm::RS256, RSA),
        Key::private_pem(Algorithm::PS256, RSA),
        Key::private_pem(Algorithm::ES256, EC256),
        Key::private_pem(Algorithm::EdDSA, ED25519),
    ];
    for key in keys {
        let algorithm = key.algorithm();
        let auth = Auth::builder().signing_key(key).build().unwrap();
        let pair = auth
            .create_token_pair(&Grant::to("ann").fresh(true))
            .unwrap();
        assert_eq!(
            header_json(&pair.access_token)["alg"],
            format!("{algorithm:?}")
        );
        let access = auth.verify(&pair.access_token).unwrap();
        assert_eq!(
            (access.sub(), access.kind(), access.fresh()),
            ("ann", TokenKind::Access, true)
        );
        let refresh = auth.verify_refresh(&pair.refresh_token).unwrap();
        assert_eq!(
            (refresh.kind(), refresh.fresh()),
            (TokenKind::Refresh, false)
        );
        assert_eq!(
            auth.verify(&pair.refresh_token).unwrap_err(),
            TokenError::WrongType
        );
        assert_eq!(
            auth.verify_refresh(&pair.access_token).unwrap_err(),
            TokenError::WrongType
        );
    }
}

#[test]
fn a_verify_only_service_accepts_the_issuers_tokens() {
    let issuer = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::ES256, EC256).with_kid("es"))
        .build()
        .unwrap();
    let token = issuer.create_access_token(&Grant::to("ann")).unwrap();
    // A verifier needs a signing key too; here an unrelated HMAC one, plus the issuer's public key.
    let verifier = Auth::builder()
        .secret(SECRET)
        .verification_key(Key::public_pem(Algorithm::ES256, EC256_PUB).with_kid("es"))
        .build()
        .unwrap();
    assert_eq!(verifier.verify(&token).unwrap().sub(), "ann");
}

#[test]
fn rotation_signs_with_the_new_key_and_still_verifies_the_old_one() {
    let old = Auth::builder()
        .signing_key(Key::hmac(Algorithm::HS256, SECRET).with_kid("2026-10"))
        .build()
        .unwrap();
    let new_secret = format!("{SECRET}-new");
    let rotated = Auth::builder()
        .signing_key(Key::hmac(Algorithm::HS256, &new_secret).with_kid("2026-11"))
        .verification_key(Key::hmac(Algorithm::HS256, SECRET).with_kid("2026-10"))
        .build()
        .unwrap();
    let old_token = old.create_access_token(&Grant::to("ann")).unwrap();
    let new_token = rotated.create_access_token(&Grant::to("bob")).unwrap();
    assert_eq!(header_json(&new_token)["kid"], "2026-11");
    assert_eq!(rotated.verify(&old_token).unwrap().sub(), "ann");
    assert_eq!(rotated.verify(&new_token).unwrap().sub(), "bob");
    assert_eq!(old.verify(&new_token).unwrap_err(), TokenError::UnknownKey);

    let twice = Auth::builder()
        .signing_key(Key::hmac(Algorithm::HS256, SECRET).with_kid("a"))
        .verification_key(Key::hmac(Algorithm::HS256, &new_secret).with_kid("a"))
        .build();
    assert!(matches!(twice, Err(ConfigError::DuplicateKid(_))));
}

#[test]
fn jwks_lists_public_keys_only() {
    let auth = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::RS256, RSA).with_kid("rsa-1"))
        .verification_key(Key::hmac(Algorithm::HS256, SECRET).with_kid("hmac"))
        .build()
        .unwrap();
    let jwks = serde_json::to_value(auth.jwks()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    assert_eq!(keys[0]["kid"], "rsa-1");
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["use"], "sig");
    assert!(keys[0].get("d").is_none(), "no private part");
    assert!(hs256().jwks().keys.is_empty());
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
struct Tenant {
    tenant: String,
}

#[test]
fn grant_options_reach_the_tokens() {
    let auth = hs256();
    let grant = Grant::to(42)
        .extra(Tenant {
            tenant: "acme".into(),
        })
        .header("x-purpose", "test")
        .access_ttl(Duration::from_secs(30))
        .refresh_ttl(Duration::from_secs(3600))
        .audience("reports-api");
    let pair = auth.create_token_pair(&grant).unwrap();
    assert_eq!(pair.expires_in, 30);
    let access = claims_json(&pair.access_token);
    assert_eq!(access["sub"], "42");
    assert_eq!(access["tenant"], "acme");
    assert_eq!(access["aud"], "reports-api");
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        30
    );
    assert_eq!(
        access["jti"].as_str().unwrap().len(),
        22,
        "128 random bits, base64url"
    );
    assert_eq!(header_json(&pair.access_token)["x-purpose"], "test");
    let refresh = claims_json(&pair.refresh_token);
    assert_eq!(
        refresh["exp"].as_i64().unwrap() - refresh["iat"].as_i64().unwrap(),
        3600
    );
    assert_ne!(access["jti"], refresh["jti"]);
    // Audience-bound tokens are refused where no audience is configured.
    assert_eq!(
        auth.verify(&pair.access_token).unwrap_err(),
        TokenError::Audience
    );
}

#[test]
fn typed_extra_claims_are_read_and_renewed() {
    let auth = hs256();
    let token = auth
        .create_refresh_token(&Grant::to("ann").extra(Tenant {
            tenant: "acme".into(),
        }))
        .unwrap();
    let claims = auth.verify_refresh(&token).unwrap();
    let renewed = auth.create_access_token(&Grant::renew(&claims)).unwrap();
    assert_eq!(claims_json(&renewed)["tenant"], "acme");
    let verified = auth.verify(&renewed).unwrap();
    let typed: Tenant = serde_json::from_str(verified.payload_json()).unwrap();
    assert_eq!(typed.tenant, "acme");
}

#[test]
fn reserved_claims_and_headers_are_refused_when_issuing() {
    let auth = hs256();
    let grant = Grant::to("ann").extra(serde_json::json!({ "type": "refresh" }));
    assert_eq!(
        auth.create_access_token(&grant).unwrap_err(),
        IssueError::ReservedClaim("type".into())
    );
    let grant = Grant::to("ann").header("alg", "none");
    assert_eq!(
        auth.create_access_token(&grant).unwrap_err(),
        IssueError::ReservedHeader("alg".into())
    );
    let grant = Grant::to("ann").extra(7);
    assert_eq!(
        auth.create_access_token(&grant).unwrap_err(),
        IssueError::ExtraNotAnObject
    );
}

#[test]
fn leeway_tolerates_clock_skew_only_as_configured() {
    let strict = hs256();
    let lenient = Auth::builder()
        .secret(SECRET)
        .leeway(Duration::from_secs(60))
        .build()
        .unwrap();
    let issued_a_second_ago = crate::clock::now() - 1;
    let expired = minted(
        &strict,
        &Grant::to("ann").access_ttl(Duration::from_secs(1)),
        issued_a_second_ago,
    );
    assert_eq!(strict.verify(&expired).unwrap_err(), TokenError::Expired);
    assert_eq!(lenient.verify(&expired).unwrap().sub(), "ann");
}

#[test]
fn the_verified_token_cache_keeps_the_type_check_and_refuses_tampering() {
    let auth = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::ES256, EC256))
        .verified_token_cache(16)
        .build()
        .unwrap();
    let token = auth.create_access_token(&Grant::to("ann")).unwrap();
    assert!(auth.verify(&token).is_ok());
    assert!(auth.verify(&token).is_ok(), "served from the cache");
    assert_eq!(
        auth.verify_refresh(&token).unwrap_err(),
        TokenError::WrongType
    );
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert!(auth.verify(&tampered).is_err());
}

#[test]
fn a_random_development_secret_works() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let token = auth.create_access_token(&Grant::to("dev")).unwrap();
    assert_eq!(auth.verify(&token).unwrap().sub(), "dev");
    let other = Auth::builder().random_secret().build().unwrap();
    assert_eq!(other.verify(&token).unwrap_err(), TokenError::Signature);
}

#[test]
fn payload_sizes_take_the_small_and_the_large_path_and_the_cap_holds() {
    let auth = hs256();
    for size in [10, 2_000, 5_000] {
        let grant = Grant::to("ann").extra(serde_json::json!({ "blob": "x".repeat(size) }));
        let token = auth.create_access_token(&grant).unwrap();
        assert_eq!(auth.verify(&token).unwrap().sub(), "ann", "{size}");
    }
    // Issuing refuses what verifying would refuse.
    let grant = Grant::to("ann").extra(serde_json::json!({ "blob": "x".repeat(7_000) }));
    assert_eq!(
        auth.create_access_token(&grant).unwrap_err(),
        IssueError::TooLarge
    );
}

#[test]
fn subjects_with_escapes_survive_verification() {
    let auth = hs256();
    for sub in [
        "plain",
        "with \"quotes\"",
        "back\\slash",
        "tab\there",
        "ünïcödé",
    ] {
        let token = auth.create_access_token(&Grant::to(sub)).unwrap();
        let claims = auth.verify(&token).unwrap();
        assert_eq!(claims.sub(), sub);
        assert_eq!(claims.jti().len(), 22);
    }
}

#[test]
fn access_and_refresh_scopes_are_separate() {
    use crate::Scope;
    const READ: Scope = Scope::__declared("reports:read", 0, 9);
    const REFRESH: Scope = Scope::__declared("token:refresh", 1, 9);
    let auth = hs256();
    let pair = auth
        .create_token_pair(&Grant::to("ann").scopes([READ]).refresh_scopes([REFRESH]))
        .unwrap();
    assert_eq!(
        claims_json(&pair.access_token)["scopes"],
        serde_json::json!(["reports:read"])
    );
    assert_eq!(
        claims_json(&pair.refresh_token)["scopes"],
        serde_json::json!(["token:refresh"])
    );
    // Without refresh scopes, the refresh token carries the access scopes (what a refresh may
    // grant again).
    let pair = auth
        .create_token_pair(&Grant::to("ann").scopes([READ]))
        .unwrap();
    assert_eq!(
        claims_json(&pair.refresh_token)["scopes"],
        serde_json::json!(["reports:read"])
    );
}

/// An access token for `grant` as this configuration would issue it at `now` (another
/// instance's clock).
fn minted(auth: &Auth, grant: &Grant, now: i64) -> String {
    let session = crate::token::issue::Session {
        version: 0,
        family: "family",
        family_exp: now + 3600,
    };
    auth.inner
        .issuer
        .token(grant, TokenKind::Access, false, now, session)
        .unwrap()
}

fn issued_at(auth: &Auth, now: i64) -> String {
    minted(auth, &Grant::to("ann"), now)
}

#[test]
fn a_token_from_an_instance_a_few_seconds_ahead_verifies_with_the_defaults() {
    let auth = hs256();
    let now = crate::clock::now();
    assert!(auth.verify(&issued_at(&auth, now + 5)).is_ok(), "5 s ahead");
    assert_eq!(
        auth.verify(&issued_at(&auth, now + 30)).unwrap_err(),
        TokenError::NotYetValid
    );
    let strict = Auth::builder()
        .secret(SECRET)
        .clock_skew(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(
        strict.verify(&issued_at(&strict, now + 3)).unwrap_err(),
        TokenError::NotYetValid
    );
    // `exp` stays strict: the skew allowance never keeps an expired token alive.
    let expired = minted(
        &auth,
        &Grant::to("ann").access_ttl(Duration::from_secs(1)),
        now - 1,
    );
    assert_eq!(auth.verify(&expired).unwrap_err(), TokenError::Expired);
}

#[test]
fn issuing_refuses_what_verification_would_refuse() {
    let auth = hs256();
    assert_eq!(
        auth.create_token_pair(&Grant::to("")).unwrap_err(),
        IssueError::EmptySubject
    );
    for ttl in [Duration::ZERO, Duration::from_millis(999)] {
        assert_eq!(
            auth.create_access_token(&Grant::to("ann").access_ttl(ttl))
                .unwrap_err(),
            IssueError::Lifetime,
            "{ttl:?}"
        );
        assert_eq!(
            auth.create_token_pair(&Grant::to("ann").refresh_ttl(ttl))
                .unwrap_err(),
            IssueError::Lifetime,
            "{ttl:?}"
        );
    }
    // No token outlives its session: a lifetime beyond the family's is cut to it.
    let capped = auth
        .create_access_token(&Grant::to("ann").access_ttl(Duration::MAX))
        .unwrap();
    let claims = auth.verify(&capped).unwrap();
    assert_eq!(claims.exp() - claims.iat(), 30 * 24 * 3600);
    let one_second = auth
        .create_access_token(&Grant::to("ann").access_ttl(Duration::from_secs(1)))
        .unwrap();
    assert!(auth.verify(&one_second).is_ok());
}

#[test]
fn startup_errors_print_their_advice_in_debug_too() {
    let err = Auth::builder().secret("short").build().unwrap_err();
    let shown = format!("{err:?}");
    assert_eq!(shown, err.to_string());
    assert!(shown.contains("at least 32"), "{shown}");
    assert!(!shown.contains("SecretTooShort"), "{shown}");

    let vars = |name: &str| match name {
        "JWT_SECRET_KEY" => Some("an-hmac-secret-that-is-long-enough-for-hs256".to_owned()),
        "JWT_ALGORITHM" => Some("RS256".to_owned()),
        _ => None,
    };
    let err = from_vars(vars).unwrap_err();
    assert!(
        matches!(err, ConfigError::SecretIsNotPem(Algorithm::RS256)),
        "{err}"
    );
    assert!(format!("{err:?}").contains("private key"), "{err:?}");
}

#[test]
fn foreign_keys_verify_but_are_bound_unpublished_and_never_renewed() {
    let (partner, ours) = partner_and_ours(|b| b);
    let pair = partner.create_token_pair(&Grant::to("ann")).unwrap();
    // Accepted as an access token, with the partner's own `iss`...
    assert_eq!(ours.verify(&pair.access_token).unwrap().sub(), "ann");
    // ...but never renewed with our key.
    assert_eq!(
        ours.renewable(&pair.refresh_token).err(),
        Some(TokenError::NotRenewable)
    );
    // A partner key may not speak for us: a token it signed with our `iss` is refused.
    let impostor = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::ES256, EC256).with_kid("partner"))
        .issuer("https://api.example")
        .build()
        .unwrap();
    let forged = impostor.create_access_token(&Grant::to("root")).unwrap();
    assert_eq!(ours.verify(&forged).unwrap_err(), TokenError::Issuer);
    // Only our own key is published.
    let jwks = serde_json::to_value(ours.jwks()).unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["ours"]);
    // Our own refresh tokens are renewable.
    let own = ours.create_token_pair(&Grant::to("bob")).unwrap();
    assert_eq!(ours.renewable(&own.refresh_token).unwrap().sub(), "bob");
}

#[test]
fn an_own_previous_key_is_renewed_and_published() {
    let old = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::ES256, EC256).with_kid("2026-10"))
        .build()
        .unwrap();
    let rotated = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::RS256, RSA).with_kid("2026-11"))
        .verification_key(
            Key::public_pem(Algorithm::ES256, EC256_PUB)
                .with_kid("2026-10")
                .own(),
        )
        .build()
        .unwrap();
    let pair = old.create_token_pair(&Grant::to("ann")).unwrap();
    assert_eq!(rotated.renewable(&pair.refresh_token).unwrap().sub(), "ann");
    assert_eq!(rotated.jwks().keys.len(), 2);
}

pub(crate) fn forged(header: &[u8], payload: &str) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let input = format!("{}.{}", b64(header), b64(payload.as_bytes()));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

fn payload_now(extra: &str) -> String {
    let now = crate::clock::now();
    format!(
        r#"{{"sub":"u","jti":"j","iat":{now},"exp":{},"type":"access"{extra}}}"#,
        now + 60
    )
}

#[test]
fn header_and_payload_must_be_utf8_throughout_and_typ_ours() {
    let auth = hs256();
    assert!(
        auth.verify(&forged(br#"{"alg":"HS256","typ":"jwt"}"#, &payload_now("")))
            .is_ok()
    );
    assert!(
        auth.verify(&forged(br#"{"alg":"HS256"}"#, &payload_now("")))
            .is_ok()
    );
    assert_eq!(
        auth.verify(&forged(
            b"{\"alg\":\"HS256\",\"typ\":\"\xff\"}",
            &payload_now("")
        ))
        .unwrap_err(),
        TokenError::Malformed
    );
    assert_eq!(
        auth.verify(&forged(
            b"{\"alg\":\"HS256\",\"x\":\"\xc3\x28\"}",
            &payload_now("")
        ))
        .unwrap_err(),
        TokenError::Malformed
    );
    for typ in ["JWE", "refresh+jwt", "at+jwt", "logout+jwt"] {
        let header = format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#);
        assert_eq!(
            auth.verify(&forged(header.as_bytes(), &payload_now("")))
                .unwrap_err(),
            TokenError::WrongType,
            "{typ}"
        );
    }
    assert_eq!(
        auth.verify(&forged(br#"{"alg":"HS256","typ":7}"#, &payload_now("")))
            .unwrap_err(),
        TokenError::Malformed
    );
    // An ignored payload member with invalid UTF-8.
    let mut payload = payload_now(r#","note":"XX""#).into_bytes();
    let at = payload.windows(2).position(|w| w == b"XX").unwrap();
    payload[at] = 0xff;
    let token = {
        use base64::Engine as _;
        use hmac::Mac as _;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"HS256","typ":"JWT"}"#),
            b64(&payload)
        );
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", b64(&mac.finalize().into_bytes()))
    };
    assert_eq!(auth.verify(&token).unwrap_err(), TokenError::Malformed);
}

#[test]
fn narrowing_keeps_what_a_held_wildcard_covers() {
    use crate::Scope;
    const ALL_REPORTS: Scope = Scope::__declared("reports:*", 0, 1);
    const ADMIN: Scope = Scope::__declared("admin", 1, 1);
    let grant = Grant::to("ann").scopes([ALL_REPORTS, ADMIN]);
    let narrowed = grant.clone().narrow_to("reports:read");
    assert_eq!(narrowed.scope_names().collect::<Vec<_>>(), ["reports:read"]);
    let narrowed = grant.clone().narrow_to("reports:* admin other");
    assert_eq!(
        narrowed.scope_names().collect::<Vec<_>>(),
        ["reports:*", "admin"]
    );
    let narrowed = grant.narrow_to("reports:read reports:write reports:read");
    assert_eq!(
        narrowed.scope_names().collect::<Vec<_>>(),
        ["reports:read", "reports:write"]
    );
}

#[test]
fn claims_name_the_issuer_and_the_key_that_verified_them() {
    let (partner, ours) = partner_and_ours(|b| b.verified_token_cache(16));
    let foreign = partner.create_access_token(&Grant::to("42")).unwrap();
    let own = ours.create_access_token(&Grant::to("42")).unwrap();
    // Verified in full, then out of the verified-token cache: the same answers.
    for _ in 0..2 {
        let claims = ours.verify(&foreign).unwrap();
        assert_eq!(claims.issuer(), Some("https://partner.example"));
        assert_eq!(claims.key_id(), Some("partner"));
        let claims = ours.verify(&own).unwrap();
        assert_eq!(claims.issuer(), Some("https://api.example"));
        assert_eq!(claims.key_id(), Some("ours"));
    }
    // The same `sub` from two issuers: two users.
    let (a, b) = (ours.verify(&foreign).unwrap(), ours.verify(&own).unwrap());
    assert_eq!(a.sub(), b.sub());
    assert_ne!((a.issuer(), a.sub()), (b.issuer(), b.sub()));

    // No issuer configured, a key without kid: neither is named.
    let auth = hs256();
    let claims = auth
        .verify(&auth.create_access_token(&Grant::to("ann")).unwrap())
        .unwrap();
    assert_eq!((claims.issuer(), claims.key_id()), (None, None));
    // An `iss` written with escapes reads unescaped (checked against the configured one).
    let escaped = Auth::builder()
        .secret(SECRET)
        .issuer("https://api.example")
        .build()
        .unwrap();
    let token = forged(
        br#"{"alg":"HS256","typ":"JWT"}"#,
        &payload_now(r#","iss":"https:\/\/api.example""#),
    );
    let claims = escaped.verify(&token).unwrap();
    assert_eq!(claims.issuer(), Some("https://api.example"));
    assert_eq!(claims.key_id(), None);
}

const RSA1024: &str = include_str!("../../testdata/rsa1024.pem");
const RSA1024_PUB: &str = include_str!("../../testdata/rsa1024.pub.pem");

#[test]
fn rsa_keys_under_2048_bits_are_refused_at_startup() {
    let weak = |err: ConfigError| {
        assert!(matches!(err, ConfigError::WeakKey { bits: 1024 }), "{err}");
        let text = err.to_string();
        assert!(text.contains("at least 2048 bits"), "{text}");
        assert!(text.contains("has 1024"), "{text}");
        assert!(text.contains("rsa_keygen_bits:3072"), "{text}");
    };
    // As the signing key, for RS and PS alike.
    for algorithm in [Algorithm::RS256, Algorithm::PS256] {
        weak(
            Auth::builder()
                .signing_key(Key::private_pem(algorithm, RSA1024))
                .build()
                .unwrap_err(),
        );
    }
    // As a verification key, public or private.
    weak(
        Auth::builder()
            .secret(SECRET)
            .verification_key(Key::public_pem(Algorithm::RS256, RSA1024_PUB).with_kid("old"))
            .build()
            .unwrap_err(),
    );
    weak(
        Auth::builder()
            .secret(SECRET)
            .verification_key(Key::private_pem(Algorithm::RS512, RSA1024).with_kid("old"))
            .build()
            .unwrap_err(),
    );
    // 2048 bits is enough.
    let auth = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::PS256, RSA).with_kid("new"))
        .verification_key(Key::public_pem(Algorithm::RS256, RSA_PUB).with_kid("old"))
        .build()
        .unwrap();
    assert!(
        auth.verify(&auth.create_access_token(&Grant::to("ann")).unwrap())
            .is_ok()
    );
}

/// A partner issuing ES256 tokens, and our RS256 `Auth` that verifies them as foreign tokens
/// bound to the partner's issuer (`tweak` adds to ours).
fn partner_and_ours(tweak: impl FnOnce(crate::AuthBuilder) -> crate::AuthBuilder) -> (Auth, Auth) {
    let partner = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::ES256, EC256).with_kid("partner"))
        .issuer("https://partner.example")
        .build()
        .unwrap();
    let ours = tweak(
        Auth::builder()
            .signing_key(Key::private_pem(Algorithm::RS256, RSA).with_kid("ours"))
            .issuer("https://api.example")
            .verification_key(
                Key::public_pem(Algorithm::ES256, EC256_PUB)
                    .with_kid("partner")
                    .for_issuer("https://partner.example"),
            ),
    )
    .build()
    .unwrap();
    (partner, ours)
}

/// What `AuthBuilder::from_env` and `build` make of the variables `var` gives.
fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Auth, ConfigError> {
    crate::AuthBuilder::from_vars(var)?.build()
}

#[test]
fn configuration_mistakes_are_refused_by_build_not_ignored() {
    let err = Auth::builder()
        .secret(SECRET)
        .cookies(crate::Cookies::default().csrf_header("not a header"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ConfigError::HeaderName(name) if name == "not a header"),
        "{err}"
    );

    // Implicit refresh renews cookies: without cookie mode there is nothing to renew.
    let bearer_only = Auth::builder().secret(SECRET).build().unwrap();
    let err = crate::ImplicitRefresh::new(&bearer_only, Duration::from_secs(60)).unwrap_err();
    assert!(matches!(err, ConfigError::CookiesNotConfigured), "{err}");
}

#[test]
fn a_grant_is_fresh_wherever_it_is_signed_unless_it_says_otherwise() {
    let auth = Auth::builder().secret(SECRET).build().unwrap();
    let pair = auth.create_token_pair(&Grant::to("ann")).unwrap();
    assert!(auth.verify(&pair.access_token).unwrap().fresh());
    let access = auth.create_access_token(&Grant::to("ann")).unwrap();
    assert!(auth.verify(&access).unwrap().fresh());
    let stale = auth
        .create_access_token(&Grant::to("ann").fresh(false))
        .unwrap();
    assert!(!auth.verify(&stale).unwrap().fresh());
}
