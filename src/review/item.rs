//! One item of the queue: its page (facts, pictures, the decisions so far, the form), the
//! decision it takes, and its pictures, each given out only once the view is recorded.

use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::pages::{
    error_page, frame, not_found_page, render, signed_in, signed_in_form, with_store, Frame,
    Refused,
};
use super::queue::{device_problems, fleet_row, utc};
use super::words::{label, tr};
use super::{ReviewState, MAX_NOTE_CHARS};
use crate::store::now_ms;
use crate::store::review::{Decision, DecisionKept, ItemKind, ItemRef};

#[derive(Serialize)]
struct PictureLink {
    role: String,
    url: String,
}

#[derive(Serialize)]
struct HistoryRow {
    decision: &'static str,
    staff: String,
    when: String,
    note: String,
}

#[derive(Serialize)]
struct ItemPage<'a> {
    #[serde(flatten)]
    frame: Frame<'a>,
    title: String,
    facts: Vec<(String, String)>,
    pictures: Vec<PictureLink>,
    confirm_means: &'static str,
    reject_means: &'static str,
    history: Vec<HistoryRow>,
}

/// What an item is, for its page: its facts and pictures; `None` when there is no such item.
struct ItemFacts {
    title: String,
    facts: Vec<(String, String)>,
    pictures: Vec<(String, String)>,
}

fn item_ref(kind: &str, device: String, id: i64) -> Option<ItemRef> {
    let kind = ItemKind::parse(kind)?;
    let fits = match kind {
        ItemKind::Device => id == 0,
        ItemKind::Record | ItemKind::Attempt => id > 0,
    };
    (fits && !device.is_empty() && device.len() <= 100).then_some(ItemRef {
        kind,
        device_id: device,
        item_id: id,
    })
}

/// Reads what the page shows of `item`.
async fn item_facts(state: &ReviewState, item: &ItemRef) -> Result<Option<ItemFacts>, Refused> {
    let (device, id) = (item.device_id.clone(), item.item_id);
    let silent = state.config.silent_after.as_millis() as i64;
    let fact = |k: &str, v: String| (tr(k, &[]), v);
    Ok(match item.kind {
        ItemKind::Attempt => {
            let found = with_store(state, move |s| s.device_attempt(&device, id)).await?;
            found.map(|a| ItemFacts {
                title: tr(
                    "Liveness attempt {} of {}",
                    &[a.attempt_id.to_string(), a.device_id.clone()],
                ),
                facts: vec![
                    fact(label!("Device"), a.device_id.clone()),
                    fact(label!("When (device clock)"), utc(a.created_at_ms)),
                    fact(
                        label!("Result"),
                        tr(if a.live { label!("passed") } else { label!("failed") }, &[]),
                    ),
                    fact(label!("Why"), a.reason.clone().unwrap_or_else(|| "-".into())),
                    fact(label!("Asked"), a.challenge.clone()),
                    fact(label!("Evidence"), a.evidence_json.chars().take(2000).collect()),
                ],
                pictures: a
                    .frame_media
                    .iter()
                    .map(|m| (label!("best frame").to_string(), m.clone()))
                    .collect(),
            })
        }
        ItemKind::Record => {
            // Only a record open in its device's heartbeat, or decided before, is an item: the
            // page opens no other customer's record.
            let (d2, d3) = (device.clone(), device.clone());
            let Some(found) = with_store(state, move |s| s.record_item(&d2, id)).await? else {
                return Ok(None);
            };
            let open = found.open;
            let hub = with_store(state, move |s| s.hub_record(&d3, id)).await?;
            let mut facts = vec![
                fact(label!("Device"), device.clone()),
                fact(label!("Device's record"), id.to_string()),
            ];
            if let Some(o) = &open {
                facts.push(fact(label!("Why it is here"), o.reason.clone()));
                facts.push(fact(label!("Device decided"), o.device_status.clone()));
                facts.push(fact(
                    label!("Remote decided"),
                    o.remote_status.clone().unwrap_or_else(|| "-".into()),
                ));
                facts.push(fact(
                    label!("Remote's refusal"),
                    o.refusal.clone().unwrap_or_else(|| "-".into()),
                ));
                facts.push(fact(label!("Since (device clock)"), utc(o.since_ms)));
            }
            let mut pictures = Vec::new();
            if let Some(h) = &hub {
                let pct = |p: Option<f64>| p.map_or("-".into(), |p| format!("{p:.2} %"));
                facts.push(fact(label!("Hub's record"), h.id.to_string()));
                facts.push(fact(label!("Hub decided"), h.status.clone()));
                facts.push(fact(label!("Front score"), pct(h.front_percent)));
                facts.push(fact(label!("Back score"), pct(h.back_percent)));
                pictures =
                    h.pictures.iter().map(|(role, m)| (role.to_string(), m.clone())).collect();
            }
            let title = tr("Record {} of {}", &[id.to_string(), device]);
            Some(ItemFacts { title, facts, pictures })
        }
        ItemKind::Device => {
            let found = with_store(state, move |s| s.fleet_device(&device)).await?;
            found.map(|d| {
                let now = now_ms();
                let row = fleet_row(&d, now, silent);
                let problems = device_problems(&d, now, silent);
                let said = if problems.is_empty() {
                    tr("none", &[])
                } else {
                    problems.iter().map(|p| p.describe(now)).collect::<Vec<_>>().join("; ")
                };
                ItemFacts {
                    title: tr("Device {}", std::slice::from_ref(&d.device_id)),
                    facts: vec![
                        fact(label!("Problems"), said),
                        fact(label!("Last heartbeat"), row.last_seen),
                        fact(label!("Version"), row.version),
                        fact(label!("Queue"), row.queue),
                        fact(label!("Free disk"), row.free_disk),
                        fact(label!("Chain"), row.chain),
                        fact(
                            label!("Clock offset"),
                            d.clock_offset_ms.map_or("-".into(), |ms| {
                                tr(label!("{} s"), &[format!("{:.1}", ms as f64 / 1000.0)])
                            }),
                        ),
                    ],
                    pictures: Vec::new(),
                }
            })
        }
    })
}

fn meanings(kind: ItemKind) -> (&'static str, &'static str) {
    match kind {
        ItemKind::Record => {
            (label!("the device's decision stands"), label!("the device's decision was wrong"))
        }
        ItemKind::Attempt => (
            label!("the refusal was right (an attack, or a capture no one could pass)"),
            label!("the refusal was wrong: a real person was turned away"),
        ),
        ItemKind::Device => (
            label!("looked into: the device is accounted for"),
            label!("the device cannot be trusted: take it out of service"),
        ),
    }
}

fn history_row(d: &DecisionKept) -> HistoryRow {
    HistoryRow {
        decision: d.decision.as_str(),
        staff: d.staff_name.clone(),
        when: utc(d.decided_at_ms),
        note: d.note.clone(),
    }
}

/// `GET /items/{kind}/{device}/{id}`: the item, its pictures and its decision form.
pub async fn item(
    State(state): State<ReviewState>,
    headers: HeaderMap,
    Path((kind, device, id)): Path<(String, String, i64)>,
) -> Result<Response, Refused> {
    let session = signed_in(&state, &headers).await?;
    let Some(item) = item_ref(&kind, device, id) else { return Ok(not_found_page(&state)) };
    let Some(facts) = item_facts(&state, &item).await? else { return Ok(not_found_page(&state)) };
    let for_history = item.clone();
    let history = with_store(&state, move |s| s.decisions(&for_history)).await?;
    let (confirm_means, reject_means) = meanings(item.kind);
    let pictures = facts
        .pictures
        .into_iter()
        .map(|(role, media)| PictureLink {
            role,
            url: format!(
                "/pictures/{}/{}/{}/{}",
                item.kind.as_str(),
                url_part(&item.device_id),
                item.item_id,
                url_part(&media)
            ),
        })
        .collect();
    let page = ItemPage {
        frame: frame(&session, "item"),
        title: facts.title,
        facts: facts.facts,
        pictures,
        confirm_means,
        reject_means,
        history: history.iter().map(history_row).collect(),
    };
    Ok(render(&state, StatusCode::OK, "item.html", &page))
}

/// A path segment with everything but letters, digits and `-_.` escaped.
fn url_part(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The decision form.
#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /items/{kind}/{device}/{id}`: keeps the decision, next in the decisions' chain.
pub async fn decide(
    State(state): State<ReviewState>,
    headers: HeaderMap,
    Path((kind, device, id)): Path<(String, String, i64)>,
    Form(form): Form<DecideForm>,
) -> Result<Response, Refused> {
    let session = signed_in_form(&state, &headers, &form.csrf).await?;
    let Some(item) = item_ref(&kind, device, id) else { return Ok(not_found_page(&state)) };
    let note = form.note.trim().to_string();
    let Some(decision) = Decision::parse(&form.decision) else {
        return Ok(error_page(
            &state,
            StatusCode::BAD_REQUEST,
            label!("No decision"),
            label!("Choose confirm, reject or escalate; nothing was recorded."),
        ));
    };
    if note.is_empty()
        || note.chars().count() > MAX_NOTE_CHARS
        || note.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Ok(error_page(
            &state,
            StatusCode::BAD_REQUEST,
            label!("A note is needed"),
            label!("Say why, in at most 2000 characters; nothing was recorded."),
        ));
    }
    if item_facts(&state, &item).await?.is_none() {
        return Ok(not_found_page(&state));
    }
    let who = session.name.clone();
    let label = item.label();
    let id = with_store(&state, move |s| s.decide(&session, &item, decision, &note)).await?;
    log::info!("review: {who:?} decided {} on {label} (decision {id})", decision.as_str());
    Ok(Redirect::to(&format!("/queue?decided={id}")).into_response())
}

/// `GET /pictures/{kind}/{device}/{id}/{media}`: a picture of the item, given out only once
/// the view is recorded with who and when.
pub async fn picture(
    State(state): State<ReviewState>,
    headers: HeaderMap,
    Path((kind, device, id, media)): Path<(String, String, i64, String)>,
) -> Result<Response, Refused> {
    let session = signed_in(&state, &headers).await?;
    let Some(item) = item_ref(&kind, device, id) else { return Ok(not_found_page(&state)) };
    let staff = session.staff;
    let shown = with_store(&state, move |s| s.view_picture(staff, &media, &item)).await?;
    let Some(shown) = shown else { return Ok(not_found_page(&state)) };
    // Only the two picture types the API takes are shown as pictures.
    let content_type = match shown.content_type.as_str() {
        "image/jpeg" | "image/png" => shown.content_type,
        _ => "application/octet-stream".to_string(),
    };
    let content_type = HeaderValue::from_str(&content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, content_type)], shown.bytes).into_response())
}
