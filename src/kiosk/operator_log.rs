//! The operator screen's view of the log: the recent verifications, one line
//! each, and in one line the sync counts, the chain's head (short code) and the newest
//! record a remote keeps as this device's anchor; in another, today's liveness attempts.

use crate::contract::MatchStatus;
use crate::store::{Store, VerificationRecord};

/// How many verifications the operator screen lists.
pub const RECENT: usize = 20;

/// One line per recent verification (newest first) and the sync summary.
pub fn recent(store: Option<&Store>) -> (Vec<String>, String) {
    let Some(store) = store else {
        return (
            vec!["No log: start the kiosk with --db FILE to record verifications".into()],
            String::new(),
        );
    };
    let rows = match store.list_verifications(RECENT) {
        Ok(records) => records.iter().map(line).collect(),
        Err(e) => vec![format!("The log cannot be read: {e}")],
    };
    let sync = store.sync_counts().map_or_else(
        |e| format!("Sync counts cannot be read: {e}"),
        |c| {
            format!(
                "Sync: {} pending, {} synced, {} parked, {} disagreements",
                c.pending, c.synced, c.parked, c.disagreement
            )
        },
    );
    (rows, format!("{sync}\n{}\n{}", chain_line(store), liveness_line(store)))
}

/// `Liveness today (UTC): 7 passed, 2 failed`: failures are what staff watch for; and on how
/// many the screen's colours were too faint on the face (a bright room: shade it, or turn the
/// kiosk from the window), and how many were made with them off (a recording can pass those).
fn liveness_line(store: &Store) -> String {
    const DAY_MS: i64 = 86_400_000;
    let now = crate::store::now_ms();
    let c = match store.attempt_counts_since(now - now.rem_euclid(DAY_MS)) {
        Ok(c) => c,
        Err(e) => return format!("Liveness attempts cannot be counted: {e}"),
    };
    let mut line = format!("Liveness today (UTC): {} passed, {} failed", c.passed, c.failed);
    if c.faint > 0 {
        line.push_str(&format!(
            "; the screen's colours too faint on the face in {} (too much light in the room?)",
            c.faint
        ));
    }
    if c.colours_off > 0 {
        line.push_str(&format!("; {} with the screen's colours off", c.colours_off));
    }
    line
}

/// `Log head #12 3fa9c2d1, anchored up to #10`: what staff compare with the remote.
fn chain_line(store: &Store) -> String {
    let head = match store.chain_head() {
        Ok(Some((id, hash))) => format!("Log head #{id} {}", &hash[..hash.len().min(8)]),
        Ok(None) => "Log empty".to_string(),
        Err(e) => return format!("The log's head cannot be read: {e}"),
    };
    match store.remote_anchor() {
        Ok(Some(id)) => format!("{head}, anchored up to #{id}"),
        Ok(None) => format!("{head}, not anchored yet"),
        Err(e) => format!("{head}, anchor unknown: {e}"),
    }
}

/// `#12    Passport   FACE_NOT_MATCHED    61.0 %  pending  below the threshold (85 %)`.
pub fn line(r: &VerificationRecord) -> String {
    let pct = r.front_percent.map_or("-".to_string(), |p| format!("{p:.1}"));
    let line = format!(
        "#{:<5} {:<16} {:<17} {:>6} %  {}",
        r.id,
        r.doc_type.everyday_name(),
        r.status.as_str(),
        pct,
        r.sync_state.map_or("-", |s| s.as_str())
    );
    match why_not_matched(r) {
        Some(why) => format!("{line}  {why}"),
        None => line,
    }
}

/// Why a verification did not match, in a few words for staff (None for a match). Read from
/// what the log keeps: a score at or over the threshold that did not match can only be the
/// kiosk's copy rule (the selfie is the document's own photo).
fn why_not_matched(r: &VerificationRecord) -> Option<String> {
    if r.matched {
        return None;
    }
    if r.status == MatchStatus::InvalidFileFormat {
        return Some("a picture could not be read".into());
    }
    let response: serde_json::Value = serde_json::from_str(&r.response_json).unwrap_or_default();
    if response["srcValid"].as_bool() == Some(false) {
        return Some("no usable face in the selfie".into());
    }
    let best = r.front_percent.into_iter().chain(r.back_percent).reduce(f64::max);
    Some(match best {
        None => "no usable face on the document".into(),
        Some(p) if p >= r.threshold => "the selfie is the document's own photo".into(),
        Some(_) => format!("below the threshold ({:.0} %)", r.threshold),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewVerification;

    #[test]
    fn recent_lines_and_counts_come_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("log.db"), None).unwrap();
        let entry = NewVerification {
            doc_type: crate::domain::DocumentType::Pan,
            threshold: 85.0,
            status: MatchStatus::FaceMatched,
            matched: true,
            front_percent: Some(96.74),
            ..NewVerification::default()
        };
        store.record_verification(&entry).unwrap();
        let (rows, summary) = recent(Some(&store));
        assert_eq!(rows, vec!["#1     PAN card         FACE_MATCHED        96.7 %  pending"]);
        let head = store.chain_head().unwrap().unwrap().1;
        assert_eq!(
            summary,
            format!(
                "Sync: 1 pending, 0 synced, 0 parked, 0 disagreements\nLog head #1 {}, not anchored yet\n\
                 Liveness today (UTC): 0 passed, 0 failed",
                &head[..8]
            )
        );
        store.note_remote_anchor(1).unwrap();
        let failed =
            crate::store::NewAttempt { challenge: "up left down".into(), ..Default::default() };
        store.record_attempt(&failed).unwrap();
        let summary = recent(Some(&store)).1;
        assert!(
            summary.contains("anchored up to #1\nLiveness today (UTC): 0 passed, 1 failed"),
            "{summary}"
        );
        // An attempt on which the screen's colours were too faint is counted apart, read from
        // its evidence.
        let faint = crate::store::NewAttempt {
            live: true,
            challenge: "left up".into(),
            evidence_json: r#"{"live":true,"flash":{"verdict":"too_faint","movementOnly":true}}"#
                .into(),
            ..Default::default()
        };
        store.record_attempt(&faint).unwrap();
        let summary = recent(Some(&store)).1;
        assert!(
            summary.contains(
                "Liveness today (UTC): 1 passed, 1 failed; the screen's colours too faint on the \
                 face in 1 (too much light in the room?)"
            ),
            "{summary}"
        );
        let off = crate::store::NewAttempt {
            live: true,
            challenge: "down right".into(),
            evidence_json: r#"{"live":true,"screenColoursOff":"off_for_this_customer"}"#.into(),
            ..Default::default()
        };
        store.record_attempt(&off).unwrap();
        let summary = recent(Some(&store)).1;
        assert!(
            summary.ends_with(
                "2 passed, 1 failed; the screen's colours too faint on the face in 1 \
                 (too much light in the room?); 1 with the screen's colours off"
            ),
            "{summary}"
        );
        let (rows, summary) = recent(None);
        assert!(rows[0].contains("--db FILE") && summary.is_empty());
    }

    #[test]
    fn a_row_that_did_not_match_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("log.db"), None).unwrap();
        let not_matched = |percent: Option<f64>, response: &str| NewVerification {
            doc_type: crate::domain::DocumentType::Uidai,
            threshold: 85.0,
            status: MatchStatus::FaceNotMatched,
            front_percent: percent,
            response_json: response.into(),
            ..NewVerification::default()
        };
        for entry in [
            not_matched(Some(99.1), r#"{"srcValid":true}"#),
            not_matched(Some(61.04), r#"{"srcValid":true}"#),
            not_matched(None, r#"{"srcValid":false}"#),
            not_matched(None, r#"{"srcValid":true,"targetFrontValid":false}"#),
        ] {
            store.record_verification(&entry).unwrap();
        }
        let rows = recent(Some(&store)).0;
        let expected = [
            "#4     Aadhaar          FACE_NOT_MATCHED       - %  pending  no usable face on the document",
            "#3     Aadhaar          FACE_NOT_MATCHED       - %  pending  no usable face in the selfie",
            "#2     Aadhaar          FACE_NOT_MATCHED    61.0 %  pending  below the threshold (85 %)",
            "#1     Aadhaar          FACE_NOT_MATCHED    99.1 %  pending  the selfie is the document's own photo",
        ];
        assert_eq!(rows, expected);
    }
}
