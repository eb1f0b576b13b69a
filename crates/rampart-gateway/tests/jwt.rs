//! JWT bearer tokens over real HTTP: ES256, RS256 and EdDSA keys in a
//! JWKS file; expired, wrong-audience, wrong-issuer, `alg: none`, HMAC
//! key confusion and foreign-key tokens refused; the JWKS re-read when it
//! changes.

#![cfg(test)]

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::EncodePrivateKey;
use rand_core::OsRng;
use reqwest::StatusCode;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

struct Keys {
    es: p256::SecretKey,
    ed: ed25519_dalek::SigningKey,
    rs: rsa::RsaPrivateKey,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            es: p256::SecretKey::random(&mut OsRng),
            ed: ed25519_dalek::SigningKey::generate(&mut OsRng),
            rs: rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap(),
        }
    }

    fn es_jwk(&self, kid: &str) -> Value {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let p = self.es.public_key().to_encoded_point(false);
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
               "x": B64.encode(p.x().unwrap()), "y": B64.encode(p.y().unwrap())})
    }

    fn jwks(&self) -> Value {
        let rs = self.rs.to_public_key();
        json!({"keys": [
            self.es_jwk("es"),
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "EdDSA",
             "x": B64.encode(self.ed.verifying_key().to_bytes())},
            {"kty": "RSA", "kid": "rs", "alg": "RS256",
             "n": B64.encode(rs.n().to_bytes_be()), "e": B64.encode(rs.e().to_bytes_be())},
        ]})
    }

    fn sign(&self, alg: Algorithm, kid: &str, claims: &Value) -> String {
        let key = match alg {
            Algorithm::ES256 => {
                EncodingKey::from_ec_der(self.es.to_pkcs8_der().unwrap().as_bytes())
            }
            Algorithm::EdDSA => {
                EncodingKey::from_ed_der(self.ed.to_pkcs8_der().unwrap().as_bytes())
            }
            Algorithm::RS256 => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                EncodingKey::from_rsa_der(self.rs.to_pkcs1_der().unwrap().as_bytes())
            }
            other => panic!("{other:?}"),
        };
        let mut h = Header::new(alg);
        h.kid = Some(kid.to_string());
        jsonwebtoken::encode(&h, claims, &key).unwrap()
    }
}

fn now() -> u64 {
    rampart_gateway::keys::now()
}

fn claims(sub: &str) -> Value {
    json!({"sub": sub, "iss": "https://idp.test", "aud": "rampart",
           "exp": now() + 600, "roles": ["scorer"]})
}

const JWT: &str = r#"
[serve.jwt]
jwks = "jwks.json"
issuer = "https://idp.test"
audience = "rampart"
roles_claim = "roles"

[serve.principals]
"jwt:alice" = ["ops"]
"#;

async fn server(keys: &Keys) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("jwks.json"), keys.jwks().to_string()).unwrap();
    start_in(dir, &format!("{POLICY}{JWT}"), true).await
}

async fn status(s: &Server, path: &str, token: &str) -> StatusCode {
    client()
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_of_each_algorithm_are_accepted_and_carry_their_roles() {
    let k = Keys::new();
    let s = server(&k).await;
    for (alg, kid) in [
        (Algorithm::ES256, "es"),
        (Algorithm::EdDSA, "ed"),
        (Algorithm::RS256, "rs"),
    ] {
        let t = k.sign(alg, kid, &claims("bob"));
        assert_eq!(
            status(&s, "/v2/models/iris/ready", &t).await,
            StatusCode::OK,
            "{alg:?}"
        );
        // bob's token carries scorer only.
        assert_eq!(
            status(&s, "/metrics", &t).await,
            StatusCode::FORBIDDEN,
            "{alg:?}"
        );
    }
    // alice gains ops from [serve.principals].
    let t = k.sign(Algorithm::ES256, "es", &claims("alice"));
    assert_eq!(status(&s, "/metrics", &t).await, StatusCode::OK);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_forged_tokens_are_refused() {
    let k = Keys::new();
    let s = server(&k).await;
    let mut expired = claims("bob");
    expired["exp"] = json!(now() - 3600);
    let mut wrong_aud = claims("bob");
    wrong_aud["aud"] = json!("someone-else");
    let mut wrong_iss = claims("bob");
    wrong_iss["iss"] = json!("https://evil.test");
    let mut no_sub = claims("bob");
    no_sub.as_object_mut().unwrap().remove("sub");
    let mut not_yet = claims("bob");
    not_yet["nbf"] = json!(now() + 3600);
    let body = B64.encode(claims("bob").to_string());
    // alg none, unsigned.
    let none = format!("{}.{body}.", B64.encode(r#"{"alg":"none","kid":"es"}"#));
    // HMAC signed with the public key as the secret (key confusion).
    let hs_key = k.es_jwk("es").to_string();
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("es".into());
    let confused = jsonwebtoken::encode(
        &h,
        &claims("bob"),
        &EncodingKey::from_secret(hs_key.as_bytes()),
    )
    .unwrap();
    // A key the JWKS does not hold, under a kid it does.
    let other = Keys::new();
    let foreign = other.sign(Algorithm::ES256, "es", &claims("bob"));
    // An ES256 token presented under the RSA key's kid.
    let swapped = k.sign(Algorithm::ES256, "rs", &claims("bob"));
    let cases = [
        ("expired", k.sign(Algorithm::ES256, "es", &expired)),
        ("wrong audience", k.sign(Algorithm::ES256, "es", &wrong_aud)),
        ("wrong issuer", k.sign(Algorithm::ES256, "es", &wrong_iss)),
        ("no sub", k.sign(Algorithm::ES256, "es", &no_sub)),
        ("not yet valid", k.sign(Algorithm::ES256, "es", &not_yet)),
        ("alg none", none),
        ("hmac confusion", confused),
        ("foreign key", foreign),
        ("kid of another algorithm", swapped),
        ("garbage", "a.b.c".to_string()),
    ];
    for (what, token) in cases {
        let r = client()
            .get(s.url("/v2/models/iris/ready"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"error": "unauthorized"}),
            "{what}"
        );
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jwks_is_reread_when_it_changes() {
    let k = Keys::new();
    let s = server(&k).await;
    let t = k.sign(Algorithm::ES256, "es", &claims("bob"));
    assert_eq!(
        status(&s, "/v2/models/iris/ready", &t).await,
        StatusCode::OK
    );
    // The ES256 key is rotated out.
    let mut jwks = k.jwks();
    jwks["keys"].as_array_mut().unwrap().remove(0);
    std::fs::write(s.path("jwks.json"), jwks.to_string()).unwrap();
    let t0 = Instant::now();
    while status(&s, "/v2/models/iris/ready", &t).await != StatusCode::UNAUTHORIZED {
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "the old key still works"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A JWKS holding a symmetric key is refused whole: no token passes.
    let mut bad = k.jwks();
    bad["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "oct", "kid": "h", "k": B64.encode(b"secret")}));
    std::fs::write(s.path("jwks.json"), bad.to_string()).unwrap();
    let ed = k.sign(Algorithm::EdDSA, "ed", &claims("bob"));
    let t0 = Instant::now();
    while status(&s, "/v2/models/iris/ready", &ed).await != StatusCode::UNAUTHORIZED {
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "a JWKS with an oct key was used"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.shutdown().await;
}
