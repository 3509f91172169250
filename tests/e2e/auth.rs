use crate::helpers::*;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;
use zerodb_client::HttpMethod as M;

#[tokio::test]
async fn register_login_me() {
    let app = spawn_app().await;
    let user = app.client.register("Ada@Example.com", "correct horse battery").await.unwrap();
    assert_eq!((user.email.as_str(), user.role.as_str()), ("ada@example.com", "user"));
    let login = app.client.login("ada@example.com", "correct horse battery").await.unwrap();
    assert_eq!(login.token_type, "Bearer");
    assert!(login.expires_in > 0);
    let me = app.client.with_token(&login.access_token).me().await.unwrap();
    assert_eq!((me.kind.as_str(), me.user.unwrap().user_id), ("user", user.user_id));
}

#[tokio::test]
async fn registration_validation_and_duplicates() {
    let app = spawn_app().await;
    let r = call(
        &app.client,
        M::POST,
        "/api/v1/auth/register",
        Some(json!({"email": "nope", "password": "short"})),
    )
    .await;
    assert_error(&r, 422, "validation_failed");
    let fields: Vec<_> = r.body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, vec!["email", "password"]);
    app.client.register("ada@example.com", "correct horse battery").await.unwrap();
    let dup = app.client.register("ADA@example.com", "another password").await.unwrap_err();
    assert_eq!((dup.status(), dup.code()), (Some(409), Some("email_taken")));
    let r = call(&app.client, M::POST, "/api/v1/auth/register", Some(json!({"email": 5}))).await;
    assert_error(&r, 422, "validation_failed");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = spawn_app().await;
    app.client.register("ada@example.com", "correct horse battery").await.unwrap();
    let wrong = app.client.login("ada@example.com", "wrong password").await.unwrap_err();
    let unknown = app.client.login("bob@example.com", "correct horse battery").await.unwrap_err();
    assert_eq!((wrong.status(), wrong.code()), (Some(401), Some("invalid_credentials")));
    assert_eq!(wrong.to_string(), unknown.to_string());
}

#[tokio::test]
async fn registration_can_be_turned_off() {
    let app = spawn_app_with(|s| s.auth.allow_registration = Some(false)).await;
    let err = app.client.register("ada@example.com", "correct horse battery").await.unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(403), Some("registration_disabled")));
}

fn token(claims: serde_json::Value, secret: &str) -> String {
    encode(&Header::default(), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

#[tokio::test]
async fn forged_expired_and_unsigned_tokens_are_rejected() {
    let app = spawn_app().await;
    let user = app.client.register("ada@example.com", "correct horse battery").await.unwrap();
    let now = chrono_now();
    let sub = user.user_id.to_string();
    let good = token(
        json!({"sub": sub, "role": "admin", "iss": "zerodb", "iat": now, "exp": now + 600}),
        JWT_SECRET,
    );
    assert!(app.client.with_token(&good).me().await.is_ok(), "a correctly signed token works");
    let cases = [
        (
            "wrong key",
            token(
                json!({"sub": sub, "role": "admin", "iss": "zerodb", "iat": now, "exp": now + 600}),
                "another-secret-another-secret-another",
            ),
        ),
        (
            "expired",
            token(
                json!({"sub": sub, "role": "user", "iss": "zerodb", "iat": now - 7200, "exp": now - 3600}),
                JWT_SECRET,
            ),
        ),
        (
            "wrong issuer",
            token(
                json!({"sub": sub, "role": "user", "iss": "evil", "iat": now, "exp": now + 600}),
                JWT_SECRET,
            ),
        ),
        (
            "no exp",
            token(json!({"sub": sub, "role": "user", "iss": "zerodb", "iat": now}), JWT_SECRET),
        ),
        (
            "alg none",
            unsigned(
                &json!({"sub": sub, "role": "admin", "iss": "zerodb", "iat": now, "exp": now + 600}),
            ),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (name, t) in cases {
        let r = call(&app.client.with_token(&t), M::GET, "/api/v1/auth/me", None).await;
        assert_eq!(r.status, 401, "{name}: {}", r.body);
        assert_eq!(r.body["error"]["code"], "invalid_credentials", "{name}");
    }
    let r = call(&app.client, M::GET, "/api/v1/auth/me", None).await;
    assert_error(&r, 401, "unauthenticated");
}

fn unsigned(claims: &serde_json::Value) -> String {
    use base64_url::encode;
    format!("{}.{}.", encode(r#"{"alg":"none","typ":"JWT"}"#), encode(&claims.to_string()))
}

mod base64_url {
    pub fn encode(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
