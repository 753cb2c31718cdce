//! The enums the store keeps in text columns, and their one mapping to SQL:
//! the contract's match status, the document type, the outbox state, and the sync state a
//! listing shows. An unknown stored spelling is a clear error when read, never a guess.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::contract::MatchStatus;
use crate::domain::DocumentType;

/// Where a verification is on its way to the remote service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Not yet synced.
    Pending,
    /// Synced; the remote verdict is recorded.
    Synced,
    /// Refused for good, with a reason; no longer blocks the queue.
    Parked,
}

impl OutboxState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Synced => "synced",
            OutboxState::Parked => "parked",
        }
    }
}

/// A verification's sync state as `facematch log` and the operator screen show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncState {
    /// Not yet synced.
    Pending,
    /// Synced, the remote agrees.
    Synced,
    /// Refused for good.
    Parked,
    /// Synced, but the remote's verdict differs from ours: flagged for review.
    Disagreement,
}

impl SyncState {
    /// The state of an outbox entry, given whether its remote verdict differs from ours.
    pub fn of(state: OutboxState, disagreement: bool) -> SyncState {
        match state {
            OutboxState::Synced if disagreement => SyncState::Disagreement,
            OutboxState::Synced => SyncState::Synced,
            OutboxState::Pending => SyncState::Pending,
            OutboxState::Parked => SyncState::Parked,
        }
    }

    /// Lowercase word, as in `log --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Pending => "pending",
            SyncState::Synced => "synced",
            SyncState::Parked => "parked",
            SyncState::Disagreement => "disagreement",
        }
    }
}

impl std::fmt::Display for SyncState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads one of `spellings` from a text column; anything else is a damaged row, not a guess.
fn from_text<T: Copy>(
    value: ValueRef<'_>,
    all: &[T],
    spell: fn(T) -> &'static str,
) -> FromSqlResult<T> {
    let text = value.as_str()?;
    all.iter()
        .copied()
        .find(|v| spell(*v) == text)
        .ok_or_else(|| FromSqlError::Other(format!("unknown value {text:?}").into()))
}

impl ToSql for OutboxState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for OutboxState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let all = [OutboxState::Pending, OutboxState::Synced, OutboxState::Parked];
        from_text(value, &all, OutboxState::as_str)
    }
}

impl ToSql for MatchStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for MatchStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let all =
            [MatchStatus::FaceMatched, MatchStatus::FaceNotMatched, MatchStatus::InvalidFileFormat];
        from_text(value, &all, MatchStatus::as_str)
    }
}

impl ToSql for DocumentType {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for DocumentType {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_str()?.parse().map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// Serialises a document type as its stored spelling (`log --json`); domain types are not
/// `Serialize` themselves.
pub(super) fn serialize_doc_type<S: serde::Serializer>(
    doc_type: &DocumentType,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(doc_type.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_sqlite_and_unknown_text_is_refused() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for state in [OutboxState::Pending, OutboxState::Synced, OutboxState::Parked] {
            let back: OutboxState = conn.query_row("SELECT ?1", [state], |r| r.get(0)).unwrap();
            assert_eq!(back, state);
        }
        let status: MatchStatus =
            conn.query_row("SELECT ?1", [MatchStatus::FaceNotMatched], |r| r.get(0)).unwrap();
        assert_eq!(status, MatchStatus::FaceNotMatched);
        let bad: rusqlite::Result<OutboxState> = conn.query_row("SELECT 'maybe'", [], |r| r.get(0));
        assert!(bad.is_err());
        assert_eq!(SyncState::of(OutboxState::Synced, true), SyncState::Disagreement);
        assert_eq!(serde_json::to_value(SyncState::Parked).unwrap(), "parked");
        let pan: DocumentType =
            conn.query_row("SELECT ?1", [DocumentType::Pan], |r| r.get(0)).unwrap();
        assert_eq!(pan, DocumentType::Pan);
        let card: rusqlite::Result<DocumentType> =
            conn.query_row("SELECT 'CARD'", [], |r| r.get(0));
        let e = card.unwrap_err().to_string();
        assert!(e.contains("\"CARD\" is not one of UIDAI"), "{e}");
    }
}
