//! Short-lived HS256 access tokens.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Access tokens live 15 minutes; clients refresh with their refresh token.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
    typ: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    /// Returns the token and its lifetime in seconds.
    pub fn issue(&self, staff_id: i32) -> anyhow::Result<(String, i64)> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims { sub: staff_id.to_string(), iat: now, exp: now + ACCESS_TOKEN_TTL_SECS, typ: "access".into() };
        Ok((encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?, ACCESS_TOKEN_TTL_SECS))
    }

    /// The staff id of a valid, unexpired access token.
    pub fn verify(&self, token: &str) -> Option<i32> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let data = decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.typ == "access").then(|| data.claims.sub.parse().ok()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_foreign_or_tampered_tokens() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let (token, ttl) = keys.issue(42).unwrap();
        assert_eq!(ttl, 900);
        assert_eq!(keys.verify(&token), Some(42));
        assert_eq!(JwtKeys::new(b"another secret of enough length!").verify(&token), None);
        let mut tampered = token.clone();
        tampered.replace_range(token.len() - 3.., "AAA");
        assert_eq!(keys.verify(&tampered), None);
        assert_eq!(keys.verify("not.a.jwt"), None);
    }
}
