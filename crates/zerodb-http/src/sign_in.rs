//! Throttling of sign-in and of failed authentication: per client address and per email,
//! through the same `RateLimiter` port as request limits (so replicas share them when the
//! limiter is shared).

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use actix_web::HttpRequest;
use zerodb_domain::rate_limit::{RateDecision, RateLimit};

/// The limits on attempts to authenticate; `None` turns one off.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignInLimits {
    /// Login and register attempts per client address.
    pub per_ip: Option<RateLimit>,
    /// Login and register attempts per email address.
    pub per_email: Option<RateLimit>,
    /// Failed authentications (bad token, unknown API key) per client address.
    pub failed_auth_per_ip: Option<RateLimit>,
    /// Take the client address from `X-Forwarded-For`/`Forwarded` (behind a trusted proxy).
    pub trust_forwarded_headers: bool,
}

/// The client's address: the peer's, or the proxy-reported one when trusted.
pub fn client_ip(req: &HttpRequest, trust_forwarded: bool) -> String {
    let info = req.connection_info();
    let addr = if trust_forwarded { info.realip_remote_addr() } else { info.peer_addr() };
    addr.map_or_else(|| "unknown".to_owned(), strip_port)
}

/// `1.2.3.4:5678` → `1.2.3.4`, `[::1]:80` → `::1`; a bare address stays as it is.
fn strip_port(addr: &str) -> String {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_owned();
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host.to_owned()
        }
        _ => addr.to_owned(),
    }
}

/// Counts a login or register attempt against the address's and the email's limits.
pub async fn check_attempt(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
) -> Result<(), ApiError> {
    let limits = state.sign_in;
    let ip = client_ip(req, limits.trust_forwarded_headers);
    if let Some(limit) = limits.per_ip {
        check(state, &format!("signin-ip:{ip}"), limit, "sign-in attempts from this address")
            .await?;
    }
    if let Some(limit) = limits.per_email {
        let email = email.trim().to_lowercase();
        check(state, &format!("signin-email:{email}"), limit, "sign-in attempts for this email")
            .await?;
    }
    Ok(())
}

/// Counts a failed authentication of the request's address; `Err(429)` once it is over the
/// limit (the caller then answers that instead of 401).
pub async fn count_failure(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let limits = state.sign_in;
    let Some(limit) = limits.failed_auth_per_ip else {
        return Ok(());
    };
    let ip = client_ip(req, limits.trust_forwarded_headers);
    check(state, &format!("authfail-ip:{ip}"), limit, "failed authentications from this address")
        .await
}

async fn check(
    state: &AppState,
    subject: &str,
    limit: RateLimit,
    what: &str,
) -> Result<(), ApiError> {
    match state.rate_limiter.check(subject, limit).await {
        RateDecision::Allowed => Ok(()),
        RateDecision::Limited { retry_after } => Err(rate_limited(
            format!("too many {what} ({} per second, burst {})", limit.per_second, limit.burst),
            retry_after,
        )),
    }
}

/// A 429 with `Retry-After` in whole seconds, rounded up so that waiting that long works.
pub fn rate_limited(message: String, retry_after: std::time::Duration) -> ApiError {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let mut err = ApiError::new(ErrorCode::RateLimited, message);
    err.retry_after = Some(seconds.max(1));
    err
}

#[cfg(test)]
mod tests {
    use super::strip_port;

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("1.2.3.4:5678"), "1.2.3.4");
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port("10.0.0.1"), "10.0.0.1");
    }
}
