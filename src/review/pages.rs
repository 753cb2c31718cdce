//! The review page's handlers but the items' ([`super::item`]): sign-in and out, the queue,
//! the fleet; and what every page shares (the signed-in member of staff, the store from the
//! blocking pool, rendering, error pages).

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::queue::{attempt_row, device_closed, device_problems, fleet_row, record_row, QueueRow};
use super::session::{self, csrf_matches, fresh_secret};
use super::words::{label, tr};
use super::{ReviewState, LOCK_MS, MAX_FAILED_SIGNINS, QUEUE_ROWS, SIGNIN_WAIT};
use crate::store::review::StaffSession;
use crate::store::{now_ms, StoreError};

/// An answer that is not the page asked for (an error page, a redirect).
pub(super) type Refused = Response;

/// Runs `work` on the store from the blocking pool; a failure is an error page (details logged).
pub(super) async fn with_store<T: Send + 'static>(
    state: &ReviewState,
    work: impl FnOnce(&dyn crate::store::review::ReviewStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Refused> {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || work(store.as_ref())).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(StoreError::Unavailable(e))) => {
            log::warn!("review: the store is unavailable: {e}");
            Err(error_page(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                label!("Try again shortly"),
                label!("The hub's database cannot be reached just now; nothing was changed."),
            ))
        }
        Ok(Err(e)) => {
            log::error!("review: the store failed: {e}");
            Err(error_page(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                label!("Something failed"),
                label!("The hub could not do this; nothing was changed. The hub's log says why."),
            ))
        }
        Err(e) => {
            log::error!("review: a store call ended abnormally: {e}");
            Err(error_page(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                label!("Something failed"),
                label!("The hub could not do this; nothing was changed."),
            ))
        }
    }
}

/// The page `name` with `page`'s values, or an error page.
pub(super) fn render(
    state: &ReviewState,
    status: StatusCode,
    name: &str,
    page: &impl Serialize,
) -> Response {
    match state.templates.render(name, page) {
        Ok(html) => {
            (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
        }
        Err(e) => {
            log::error!("review: page {name} failed: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be drawn").into_response()
        }
    }
}

#[derive(Serialize)]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page saying what went wrong and that nothing was changed, with `status`, in the request's
/// language.
pub(super) fn error_page(
    state: &ReviewState,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    let (title, message) = (&tr(title, &[]), &tr(message, &[]));
    render(state, status, "error.html", &ErrorPage { title, message })
}

/// The signed-in member of staff, or the sign-in page.
pub(super) async fn signed_in(
    state: &ReviewState,
    headers: &HeaderMap,
) -> Result<StaffSession, Refused> {
    let Some(token) = session::token(headers, state.config.tls) else {
        return Err(Redirect::to("/signin").into_response());
    };
    let bounds = state.config.sessions;
    match with_store(state, move |s| s.session(&token, bounds)).await? {
        Some(session) => Ok(session),
        None => Err(Redirect::to("/signin").into_response()),
    }
}

/// The signed-in member of staff whose form carried the session's token.
pub(super) async fn signed_in_form(
    state: &ReviewState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<StaffSession, Refused> {
    let session = signed_in(state, headers).await?;
    if !csrf_matches(csrf, &session) {
        log::warn!("review: a form for {:?} came without its session's token", session.name);
        return Err(error_page(state, StatusCode::FORBIDDEN, label!("Not sent from this page"),
            label!("This form did not come from the review page you are signed in to; nothing was changed. \
             Open the page again and send it from there.")));
    }
    Ok(session)
}

/// What every signed-in page shows in its header.
#[derive(Serialize)]
pub(super) struct Frame<'a> {
    staff: &'a str,
    csrf: &'a str,
    page: &'a str,
}

/// The header of `page` for `session`'s member of staff.
pub(super) fn frame<'a>(session: &'a StaffSession, page: &'a str) -> Frame<'a> {
    Frame { staff: &session.name, csrf: &session.csrf, page }
}

/// `GET /`: the queue.
pub async fn home() -> Redirect {
    Redirect::to("/queue")
}

#[derive(Serialize)]
struct SigninPage {
    refused: Option<&'static str>,
}

/// `GET /signin`.
pub async fn signin_page(State(state): State<ReviewState>) -> Response {
    render(&state, StatusCode::OK, "signin.html", &SigninPage { refused: None })
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SigninForm {
    name: String,
    password: String,
}

/// `POST /signin`: checks the password (one of [`super::SIGNINS_AT_ONCE`] at a time), locks an
/// account after [`MAX_FAILED_SIGNINS`] failures in a row, and starts a session.
pub async fn signin(State(state): State<ReviewState>, Form(form): Form<SigninForm>) -> Response {
    let refused = || {
        render(
            &state,
            StatusCode::UNAUTHORIZED,
            "signin.html",
            &SigninPage {
                refused: Some(label!(
                    "Name or password wrong, or the account is locked after 5 failed sign-ins \
                     (15 minutes)."
                )),
            },
        )
    };
    if form.name.len() > 100 || form.password.len() > super::password::MAX_BYTES {
        return refused();
    }
    let Ok(Ok(_turn)) = tokio::time::timeout(SIGNIN_WAIT, state.signins.acquire()).await else {
        return error_page(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            label!("Busy"),
            label!("Too many sign-ins at once; try again in a moment."),
        );
    };
    // The same steps whatever the name: read the account, check the password (against a decoy
    // for an unknown name), note the sign-in (which counts nothing for an unknown or locked
    // account), so that no case answers sooner.
    let name = form.name.clone();
    let account = match with_store(&state, move |s| s.staff_for_signin(&name)).await {
        Ok(account) => account,
        Err(page) => return page,
    };
    let passwords = state.passwords.clone();
    let stored = account.map(|a| a.password_hash);
    let matched =
        tokio::task::spawn_blocking(move || passwords.verify(&form.password, stored.as_deref()))
            .await
            .unwrap_or(false);
    let name = form.name.clone();
    let noted =
        with_store(&state, move |s| s.note_signin(&name, matched, MAX_FAILED_SIGNINS, LOCK_MS))
            .await;
    let id = match noted {
        Ok(Some(id)) => id,
        Ok(None) => {
            log::warn!("review: sign-in as {:?} refused", form.name);
            return refused();
        }
        Err(page) => return page,
    };
    let (Ok(token), Ok(csrf)) = (fresh_secret(), fresh_secret()) else {
        return error_page(
            &state,
            StatusCode::INTERNAL_SERVER_ERROR,
            label!("Something failed"),
            label!("No random source for a session."),
        );
    };
    let (kept, bounds) = (token.clone(), state.config.sessions);
    if let Err(page) = with_store(&state, move |s| s.open_session(id, &kept, &csrf, bounds)).await {
        return page;
    }
    log::info!("review: {:?} signed in", form.name);
    let mut response = Redirect::to("/queue").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::set_cookie(&token, state.config.tls));
    response
}

/// A form that only carries the session's token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /signout`: ends the session here and in the browser.
pub async fn signout(
    State(state): State<ReviewState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(page) = signed_in_form(&state, &headers, &form.csrf).await {
        return page;
    }
    if let Some(token) = session::token(&headers, state.config.tls) {
        if let Err(page) = with_store(&state, move |s| s.close_session(&token)).await {
            return page;
        }
    }
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::set_cookie("", state.config.tls));
    response
}

#[derive(Serialize)]
struct Section {
    title: &'static str,
    about: &'static str,
    rows: Vec<QueueRow>,
    more: bool,
}

#[derive(Serialize)]
struct QueuePage<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    sections: Vec<Section>,
    decided: Option<i64>,
}

/// `?decided=N` after a decision.
#[derive(Deserialize)]
pub struct QueueQuery {
    decided: Option<i64>,
}

/// `GET /queue`: what needs a person, in three sections.
pub async fn queue(
    State(state): State<ReviewState>,
    headers: HeaderMap,
    Query(query): Query<QueueQuery>,
) -> Result<Response, Refused> {
    let session = signed_in(&state, &headers).await?;
    let (records, attempts, fleet) = with_store(&state, |s| {
        Ok((
            s.open_records(QUEUE_ROWS + 1)?,
            s.failed_attempts(QUEUE_ROWS + 1)?,
            s.fleet(super::FLEET_ROWS)?,
        ))
    })
    .await?;
    let now = now_ms();
    let silent = state.config.silent_after.as_millis() as i64;
    let devices: Vec<QueueRow> = fleet
        .iter()
        .filter_map(|d| {
            let problems = device_problems(d, now, silent);
            (!problems.is_empty() && !device_closed(d, &problems))
                .then(|| super::queue::device_row(d, &problems, now))
        })
        .collect();
    let section = |title, about, mut rows: Vec<QueueRow>| {
        let more = rows.len() as i64 > QUEUE_ROWS;
        rows.truncate(QUEUE_ROWS as usize);
        Section { title, about, rows, more }
    };
    let sections = vec![
        section(
            label!("Records the devices could not settle"),
            label!("Their remote decided otherwise than the device, or refused them for good."),
            records.iter().map(record_row).collect(),
        ),
        section(
            label!("Failed liveness attempts"),
            label!("The kiosk refused these as not live; the frame shows what the camera saw."),
            attempts.iter().map(attempt_row).collect(),
        ),
        section(
            label!("Devices"),
            label!("Silent, or their log does not follow the records the hub kept."),
            devices,
        ),
    ];
    let page = QueuePage { frame: frame(&session, "queue"), sections, decided: query.decided };
    Ok(render(&state, StatusCode::OK, "queue.html", &page))
}

#[derive(Serialize)]
struct FleetPage<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    rows: Vec<super::queue::FleetRow>,
    silent_after: String,
}

/// `GET /fleet`: each device, last seen, version, queue, chain status.
pub async fn fleet(
    State(state): State<ReviewState>,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    let session = signed_in(&state, &headers).await?;
    let fleet = with_store(&state, |s| s.fleet(super::FLEET_ROWS)).await?;
    let (now, silent) = (now_ms(), state.config.silent_after.as_millis() as i64);
    let page = FleetPage {
        frame: frame(&session, "fleet"),
        rows: fleet.iter().map(|d| fleet_row(d, now, silent)).collect(),
        silent_after: super::queue::duration(state.config.silent_after.as_secs()),
    };
    Ok(render(&state, StatusCode::OK, "fleet.html", &page))
}

/// `GET /review.css`.
pub async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], super::templates::STYLE)
}

/// The page for an address or item that is not there.
pub(super) fn not_found_page(state: &ReviewState) -> Response {
    error_page(
        state,
        StatusCode::NOT_FOUND,
        label!("Not found"),
        label!("There is no such page or item."),
    )
}

/// Any other address.
pub async fn not_found(State(state): State<ReviewState>) -> Response {
    not_found_page(&state)
}
