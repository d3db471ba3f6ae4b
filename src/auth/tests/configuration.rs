//! Building an `Auth`: keys and settings refused with advice, the environment.

use super::*;

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
fn a_random_development_secret_works() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let token = auth.create_access_token(&Grant::to("dev")).unwrap();
    assert_eq!(auth.verify(&token).unwrap().sub(), "dev");
    let other = Auth::builder().random_secret().build().unwrap();
    assert_eq!(other.verify(&token).unwrap_err(), TokenError::Signature);
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

const RSA1024: &str = include_str!("../../../testdata/rsa1024.pem");
const RSA1024_PUB: &str = include_str!("../../../testdata/rsa1024.pub.pem");

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
