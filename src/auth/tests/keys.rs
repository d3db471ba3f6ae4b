//! Keys and verification: algorithms, rotation, foreign keys, JWKS, what a token must be.

use super::*;

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
