//! The review page for a bank's staff (`serve --review ADDR`): server-rendered HTML on its own
//! port, beside a hub's API, over the same store. Staff sign in with named accounts
//! (`facematch staff add`, Argon2id keyed with the hub's key); sessions end when unused or old;
//! every form carries the session's token against cross-site requests; every picture given out
//! is recorded with who and when first. The queue holds what needs a person: records the
//! devices could not settle with their remote, failed liveness attempts with their frame,
//! devices whose log does not follow their anchors or that went silent. Decisions (confirm,
//! reject, escalate, with a note) are kept in a keyed hash chain of their own, which
//! `log verify-hub` walks. No JavaScript; readable on a tablet; its labels in the browser's
//! language where it is one of the kiosk's.

mod item;
mod pages;
pub mod password;
pub mod queue;
pub mod session;
mod templates;
pub mod words;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::api::Connections;
use crate::store::review::{ReviewStore, SessionBounds};
pub use password::Passwords;
pub use templates::Templates;

/// The most a form may send (a sign-in, a decision with its note).
pub const FORM_BODY_LIMIT: usize = 16 * 1024;
/// Sign-ins checked at once: each holds Argon2id's 19 MiB for some tens of milliseconds; more
/// wait, at most [`SIGNIN_WAIT`].
pub const SIGNINS_AT_ONCE: usize = 2;
/// How long a sign-in waits for its turn before it is answered "busy".
pub const SIGNIN_WAIT: Duration = Duration::from_secs(10);
/// Failed sign-ins in a row that lock an account, and for how long.
pub const MAX_FAILED_SIGNINS: i32 = 5;
/// How long a locked account stays locked.
pub const LOCK_MS: i64 = 15 * 60 * 1000;
/// Rows of each queue section shown (the count says when there are more).
pub const QUEUE_ROWS: i64 = 100;
/// Devices the fleet page shows at most.
pub const FLEET_ROWS: i64 = 5000;
/// The longest note a decision keeps.
pub const MAX_NOTE_CHARS: usize = 2000;

/// How the review page is set up.
#[derive(Debug, Clone, Copy)]
pub struct ReviewConfig {
    /// Served over TLS: the cookie is `Secure` and `__Host-`.
    pub tls: bool,
    /// How long sessions last.
    pub sessions: SessionBounds,
    /// After how long without a heartbeat or synced record a device counts as silent.
    pub silent_after: Duration,
}

impl Default for ReviewConfig {
    /// Sessions end after 30 min unused or 12 h; 3 at once per account; silent after 24 h.
    fn default() -> Self {
        ReviewConfig {
            tls: false,
            sessions: SessionBounds {
                idle_ms: 30 * 60 * 1000,
                lifetime_ms: 12 * 3600 * 1000,
                per_staff: 3,
            },
            silent_after: Duration::from_secs(24 * 3600),
        }
    }
}

/// What the review page's handlers share.
#[derive(Clone)]
pub struct ReviewState {
    store: Arc<dyn ReviewStore>,
    templates: Arc<Templates>,
    passwords: Arc<Passwords>,
    signins: Arc<tokio::sync::Semaphore>,
    config: ReviewConfig,
}

impl ReviewState {
    /// The page over `store`.
    ///
    /// # Errors
    /// A template does not parse, or the random source failed.
    pub fn new(store: Arc<dyn ReviewStore>, config: ReviewConfig) -> anyhow::Result<ReviewState> {
        let passwords = Passwords::new(store.derived_secret(Passwords::PURPOSE))?;
        Ok(ReviewState {
            store,
            templates: Arc::new(Templates::load()?),
            passwords: Arc::new(passwords),
            signins: Arc::new(tokio::sync::Semaphore::new(SIGNINS_AT_ONCE)),
            config,
        })
    }
}

/// The review page's routes.
pub fn router(state: ReviewState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/signin", get(pages::signin_page).post(pages::signin))
        .route("/signout", axum::routing::post(pages::signout))
        .route("/queue", get(pages::queue))
        .route("/fleet", get(pages::fleet))
        .route("/items/{kind}/{device}/{id}", get(item::item).post(item::decide))
        .route("/pictures/{kind}/{device}/{id}/{media}", get(item::picture))
        .route("/review.css", get(pages::style))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guarded))
        .with_state(state)
}

/// Refuses a form sent from another site (signing in included: a browser signed in to someone
/// else's account is an attack too), and gives every answer its guards: nothing from elsewhere
/// may run, frame or style the page, nothing is cached (pictures of customers included), no
/// address leaks to another site, and over TLS the browser keeps to https.
async fn guarded(State(state): State<ReviewState>, request: Request, next: Next) -> Response {
    let language = words::chosen(request.headers());
    let mut response = if request.method() == Method::POST && !same_origin(request.headers()) {
        log::warn!(
            "review: a form from another site refused ({}; Sec-Fetch-Site {:?}, Origin {:?}, Host {:?})",
            request.uri().path(),
            request.headers().get("sec-fetch-site"),
            request.headers().get(header::ORIGIN),
            request.headers().get(header::HOST)
        );
        let refused = async {
            pages::error_page(
                &state,
                StatusCode::FORBIDDEN,
                words::label!("Not sent from this page"),
                words::label!("This form was not sent from the review page; nothing was changed."),
            )
        };
        words::speaking(language, refused).await
    } else {
        words::speaking(language, next.run(request)).await
    };
    if state.config.tls {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Not no-referrer: a browser then sends its own forms with `Origin: null`.
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether a request came from a page of this site, as browsers tell it: `Sec-Fetch-Site`, and
/// `Origin` against `Host`. A client that says neither (not a browser) is taken at its word:
/// its forms still need a session and its token.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    // Every current browser says where a request came from; older ones only give an Origin.
    if let Some(site) = text(HeaderName::from_static("sec-fetch-site")) {
        return site == "same-origin" || site == "none";
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin.split_once("://").is_some_and(|(_, o)| o == host),
        (Some(_), None) => false,
    }
}

/// Serves the review page on `listener` (over TLS with `tls`'s certificate when given) until
/// `shutdown` completes, under `connections`' limits.
///
/// # Errors
/// When the socket fails, or rustls refuses the certificate.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ReviewState,
    connections: Connections,
    tls: Option<Arc<crate::tls::ReloadableCert>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let acceptor = crate::api::listener::acceptor(tls.as_ref(), "review", addr)?;
    crate::api::listener::serve_connections(
        listener,
        router(state),
        connections,
        acceptor,
        shutdown,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn forms_from_another_site_are_told_apart() {
        assert!(same_origin(&headers(&[])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin"), ("origin", "null")])));
        assert!(same_origin(&headers(&[("origin", "https://hub:9443"), ("host", "hub:9443")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!same_origin(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "hub:9443")
        ])));
        assert!(!same_origin(&headers(&[("origin", "null"), ("host", "hub:9443")])));
    }
}
