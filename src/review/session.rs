//! Who is signed in: a session token in a cookie the page's scripts cannot read (there are none)
//! and other sites cannot send (`SameSite=Strict`), only its digest in the store; and the
//! session's token against cross-site requests, which every form sends back.

use axum::http::{header, HeaderMap, HeaderValue};
use subtle::ConstantTimeEq;

use crate::store::review::StaffSession;

/// The cookie's name: with TLS, `__Host-` makes browsers keep it to this host, over https, for
/// every path.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-facematch_review"
    } else {
        "facematch_review"
    }
}

/// The session token the request's cookies carry.
pub fn token(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = cookie_name(secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// The `Set-Cookie` that holds `token` (empty: ends it in the browser).
pub fn set_cookie(token: &str, secure: bool) -> HeaderValue {
    let end = if token.is_empty() { "; Max-Age=0" } else { "" };
    let tls = if secure { "; Secure" } else { "" };
    let value =
        format!("{}={token}; Path=/; HttpOnly; SameSite=Strict{tls}{end}", cookie_name(secure));
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A fresh random secret (256 bits, hex): a session token or a form token.
///
/// # Errors
/// The system's random source failed.
pub fn fresh_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// Whether a form's `sent` token is `session`'s (compared in constant time).
pub fn csrf_matches(sent: &str, session: &StaffSession) -> bool {
    !session.csrf.is_empty() && bool::from(sent.as_bytes().ct_eq(session.csrf.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::review::StaffId;

    #[test]
    fn the_session_cookie_is_found_among_others_and_set_strictly() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; facematch_review=abc; b=2"));
        assert_eq!(token(&headers, false).as_deref(), Some("abc"));
        // Over TLS only the __Host- cookie counts.
        assert_eq!(token(&headers, true), None);
        let set = set_cookie("abc", true);
        let set = set.to_str().unwrap();
        assert!(set
            .starts_with("__Host-facematch_review=abc; Path=/; HttpOnly; SameSite=Strict; Secure"));
        assert!(set_cookie("", false).to_str().unwrap().ends_with("Max-Age=0"));
    }

    #[test]
    fn a_form_token_must_be_the_sessions() {
        let session =
            StaffSession { staff: StaffId(1), name: "a".into(), csrf: fresh_secret().unwrap() };
        assert!(csrf_matches(&session.csrf.clone(), &session));
        assert!(!csrf_matches("", &session));
        assert!(!csrf_matches(&fresh_secret().unwrap(), &session));
        let blank = StaffSession { csrf: String::new(), ..session };
        assert!(!csrf_matches("", &blank));
    }
}
