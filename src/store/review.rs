//! What the review page (`serve --review`) asks of a hub's store: named staff accounts and
//! their sessions, what needs a person (the records devices could not settle, failed liveness
//! attempts, the fleet's devices), the staff's decisions in a keyed hash chain of their own, and
//! each view of a customer's picture, recorded before the picture is given out.
//!
//! The store keeps password hashes as the opaque strings the caller made, and of a session only
//! its token's digest. Which items are closed is [`Closes`]'s rule; a backend that filters
//! records and attempts in its queries (to keep their limits exact) states the same rule there.

use super::StoreError;

/// A staff account's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffId(pub i64);

/// What signing in needs of an account.
#[derive(Debug, Clone)]
pub struct StaffSignin {
    /// The account.
    pub id: StaffId,
    /// Its password hash (a PHC string).
    pub password_hash: String,
}

/// A signed-in member of staff.
#[derive(Debug, Clone)]
pub struct StaffSession {
    /// The account.
    pub staff: StaffId,
    /// Its name, shown on every page and written into each decision.
    pub name: String,
    /// The session's token against cross-site requests: every form carries it back.
    pub csrf: String,
}

/// How long a session lasts: unused, and at most.
#[derive(Debug, Clone, Copy)]
pub struct SessionBounds {
    /// Unused for longer than this, it has ended.
    pub idle_ms: i64,
    /// Older than this, it has ended however used.
    pub lifetime_ms: i64,
    /// Sessions one account holds at once; signing in again ends the oldest beyond.
    pub per_staff: i64,
}

/// What a queue item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A device's record that its remote refused for good or decided otherwise.
    Record,
    /// A device's failed liveness attempt.
    Attempt,
    /// A device whose log does not follow its anchors, or that went silent.
    Device,
}

impl ItemKind {
    /// The name kept in the store and used in addresses.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Record => "record",
            ItemKind::Attempt => "attempt",
            ItemKind::Device => "device",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<ItemKind> {
        [ItemKind::Record, ItemKind::Attempt, ItemKind::Device]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// One item of the queue: a device, and a record or attempt of its (0 for the device itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    /// What it is.
    pub kind: ItemKind,
    /// The device.
    pub device_id: String,
    /// The device's record or attempt id; 0 for a device item.
    pub item_id: i64,
}

impl ItemRef {
    /// How the item is named in the picture views and on the page: `attempt DEV 12`.
    pub fn label(&self) -> String {
        format!("{} {} {}", self.kind.as_str(), self.device_id, self.item_id)
    }
}

/// What a member of staff decided of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The device's outcome stands (the person was who they said; the attempt was a real
    /// person failing; the device is fine).
    Confirm,
    /// The outcome is wrong or the item is an attack.
    Reject,
    /// Someone else must decide: the item stays in the queue, marked.
    Escalate,
}

impl Decision {
    /// The name kept in the store and sent by the page's form.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confirm => "confirm",
            Decision::Reject => "reject",
            Decision::Escalate => "escalate",
        }
    }

    /// The decision named `name`.
    pub fn parse(name: &str) -> Option<Decision> {
        [Decision::Confirm, Decision::Reject, Decision::Escalate]
            .into_iter()
            .find(|d| d.as_str() == name)
    }
}

/// A decision kept.
#[derive(Debug, Clone)]
pub struct DecisionKept {
    /// What was decided.
    pub decision: Decision,
    /// By whom.
    pub staff_name: String,
    /// When (the hub's clock, ms since the epoch).
    pub decided_at_ms: i64,
    /// Why, in the staff's words.
    pub note: String,
}

/// Whether an item's newest decision takes it off the queue: a confirm or a reject does, an
/// escalation does not; for a device, only one made after its problem was last seen (`since_ms`),
/// so a device that goes silent again comes back.
pub struct Closes;

impl Closes {
    /// Whether `last` closes an item whose problem was last seen at `since_ms` (`None`: items
    /// that do not change once sent, records and attempts).
    pub fn item(last: Option<&DecisionKept>, since_ms: Option<i64>) -> bool {
        match last {
            Some(d) if d.decision != Decision::Escalate => {
                since_ms.is_none_or(|since| d.decided_at_ms >= since)
            }
            _ => false,
        }
    }
}

/// A device's record that needs a person, as the device's newest heartbeat tells it.
#[derive(Debug, Clone)]
pub struct OpenDeviceRecord {
    /// The device.
    pub device_id: String,
    /// Its id in the device's log.
    pub record: i64,
    /// `parked` or `disagreement`.
    pub reason: String,
    /// The device's decision.
    pub device_status: String,
    /// The remote's, where it decided.
    pub remote_status: Option<String>,
    /// What the remote said when it refused it.
    pub refusal: Option<String>,
    /// Since when (the device's clock).
    pub since_ms: i64,
    /// The newest decision of staff on it.
    pub last: Option<DecisionKept>,
}

/// A device's record as the review page may show it.
#[derive(Debug, Clone)]
pub struct RecordItem {
    /// What the device's newest heartbeat says of it, while it is open there.
    pub open: Option<OpenDeviceRecord>,
    /// Whether staff decided on it before.
    pub decided: bool,
}

/// A liveness attempt a device sent.
#[derive(Debug, Clone)]
pub struct DeviceAttemptView {
    /// The device.
    pub device_id: String,
    /// Its id in the device's chain of attempts.
    pub attempt_id: i64,
    /// When (the device's clock).
    pub created_at_ms: i64,
    /// Whether it passed.
    pub live: bool,
    /// Why it failed.
    pub reason: Option<String>,
    /// The movements asked.
    pub challenge: String,
    /// The check's evidence, as the device recorded it (JSON).
    pub evidence_json: String,
    /// Its best frame (a failed one's), a picture of the hub's.
    pub frame_media: Option<String>,
    /// The newest decision of staff on it.
    pub last: Option<DecisionKept>,
}

/// A device of the fleet, as its heartbeats and anchors tell it.
#[derive(Debug, Clone, Default)]
pub struct FleetDevice {
    /// The device.
    pub device_id: String,
    /// Its newest heartbeat's arrival (the hub's clock).
    pub last_seen_ms: Option<i64>,
    /// Its software version.
    pub software_version: Option<String>,
    /// The newest record of its log, as it says.
    pub last_record: Option<i64>,
    /// Records waiting to be synced.
    pub pending: Option<i64>,
    /// Records parked.
    pub parked: Option<i64>,
    /// Records the remote decided otherwise.
    pub disagreements: Option<i64>,
    /// Free disk beside its log.
    pub free_disk_bytes: Option<i64>,
    /// Its clock's offset from the hub's.
    pub clock_offset_ms: Option<i64>,
    /// The newest of its records the hub keeps an anchor of.
    pub newest_anchor: Option<i64>,
    /// When that anchor was kept.
    pub last_anchor_ms: Option<i64>,
    /// Anchors it sent that did not follow what the hub kept.
    pub refusals: i64,
    /// When the newest of those came.
    pub last_refusal_ms: Option<i64>,
    /// The newest decision of staff on the device.
    pub last: Option<DecisionKept>,
}

/// The hub's own record of a device's record, where the device synced it.
#[derive(Debug, Clone)]
pub struct HubRecordView {
    /// Its id in the hub's log.
    pub id: i64,
    /// The hub's decision.
    pub status: String,
    /// The front side's score (percent).
    pub front_percent: Option<f64>,
    /// The back side's.
    pub back_percent: Option<f64>,
    /// Its pictures: `selfie`, `front`, `back` and the media id of each kept.
    pub pictures: Vec<(&'static str, String)>,
}

/// A picture given out to a member of staff.
#[derive(Debug, Clone)]
pub struct PictureShown {
    /// Its content type as uploaded.
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What the review page needs of a hub's store.
pub trait ReviewStore: Send + Sync {
    /// A secret derived from the store's key for `purpose` (the staff passwords' key): the same
    /// on every replica, never kept in the database.
    fn derived_secret(&self, purpose: &[u8]) -> [u8; 32];

    /// Makes a staff account named `name` with `password_hash` (a PHC string).
    ///
    /// # Errors
    /// [`StoreError::InvalidName`], [`StoreError::Exists`] when a current account has the name.
    fn add_staff(&self, name: &str, password_hash: &str) -> Result<(), StoreError>;

    /// Removes the account named `name` and ends its sessions; its decisions stay.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when no current account has the name.
    fn remove_staff(&self, name: &str) -> Result<(), StoreError>;

    /// The current account named `name`.
    ///
    /// # Errors
    /// The store failed.
    fn staff_for_signin(&self, name: &str) -> Result<Option<StaffSignin>, StoreError>;

    /// Notes a sign-in as `name` whose password `matched`, on the database's clock, in one
    /// statement: a locked account (or none) counts nothing and is `None`; a failure counts,
    /// the `max_failures`th in a row locks the account for `lock_ms` and starts the count
    /// again; a success clears the count and is the account. The same statement runs whatever
    /// the name, so no path answers sooner.
    ///
    /// # Errors
    /// The store failed.
    fn note_signin(
        &self,
        name: &str,
        matched: bool,
        max_failures: i32,
        lock_ms: i64,
    ) -> Result<Option<StaffId>, StoreError>;

    /// Starts a session for `staff` under `token` (only its digest is kept), ending its oldest
    /// beyond `bounds.per_staff` and every session that has ended.
    ///
    /// # Errors
    /// The store failed.
    fn open_session(
        &self,
        staff: StaffId,
        token: &str,
        csrf: &str,
        bounds: SessionBounds,
    ) -> Result<(), StoreError>;

    /// The live session of `token`, marked used now; `None` when it has ended or never was.
    ///
    /// # Errors
    /// The store failed.
    fn session(
        &self,
        token: &str,
        bounds: SessionBounds,
    ) -> Result<Option<StaffSession>, StoreError>;

    /// Ends the session of `token`.
    ///
    /// # Errors
    /// The store failed.
    fn close_session(&self, token: &str) -> Result<(), StoreError>;

    /// The records devices' newest heartbeats say need a person and no decision closed, newest
    /// first, at most `limit`.
    ///
    /// # Errors
    /// The store failed.
    fn open_records(&self, limit: i64) -> Result<Vec<OpenDeviceRecord>, StoreError>;

    /// Failed liveness attempts no decision closed, newest first, at most `limit`.
    ///
    /// # Errors
    /// The store failed.
    fn failed_attempts(&self, limit: i64) -> Result<Vec<DeviceAttemptView>, StoreError>;

    /// The fleet's devices, at most `limit`.
    ///
    /// # Errors
    /// The store failed.
    fn fleet(&self, limit: i64) -> Result<Vec<FleetDevice>, StoreError>;

    /// One device of the fleet.
    ///
    /// # Errors
    /// The store failed.
    fn fleet_device(&self, device_id: &str) -> Result<Option<FleetDevice>, StoreError>;

    /// A device's record as a queue item: open in its newest heartbeat, or decided by staff
    /// before (a record is reviewable only then: the page opens no other customer's record).
    /// `None` when it is neither.
    ///
    /// # Errors
    /// The store failed.
    fn record_item(&self, device_id: &str, record: i64) -> Result<Option<RecordItem>, StoreError>;

    /// One failed attempt of a device (passed ones are no queue item).
    ///
    /// # Errors
    /// The store failed.
    fn device_attempt(
        &self,
        device_id: &str,
        attempt_id: i64,
    ) -> Result<Option<DeviceAttemptView>, StoreError>;

    /// The hub's record of a device's record, where the device synced it.
    ///
    /// # Errors
    /// The store failed.
    fn hub_record(&self, device_id: &str, record: i64)
        -> Result<Option<HubRecordView>, StoreError>;

    /// The decisions made on `item`, newest first.
    ///
    /// # Errors
    /// The store failed.
    fn decisions(&self, item: &ItemRef) -> Result<Vec<DecisionKept>, StoreError>;

    /// Keeps `decision` on `item` by `session`'s member of staff, next in the decisions' chain;
    /// its id.
    ///
    /// # Errors
    /// The store failed.
    fn decide(
        &self,
        session: &StaffSession,
        item: &ItemRef,
        decision: Decision,
        note: &str,
    ) -> Result<i64, StoreError>;

    /// Records that `staff` views the picture `media_id` for `item`, then gives it out; `None`
    /// (and nothing recorded) when it is no picture of that item (a failed attempt's frame; the
    /// hub's pictures of a record open or decided), or was purged.
    ///
    /// # Errors
    /// The store failed (nothing is given out then).
    fn view_picture(
        &self,
        staff: StaffId,
        media_id: &str,
        item: &ItemRef,
    ) -> Result<Option<PictureShown>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(decision: Decision, at: i64) -> DecisionKept {
        DecisionKept { decision, staff_name: "a".into(), decided_at_ms: at, note: String::new() }
    }

    #[test]
    fn a_confirm_or_reject_closes_an_escalation_does_not_and_a_device_comes_back() {
        assert!(!Closes::item(None, None));
        assert!(Closes::item(Some(&kept(Decision::Confirm, 5)), None));
        assert!(Closes::item(Some(&kept(Decision::Reject, 5)), None));
        assert!(!Closes::item(Some(&kept(Decision::Escalate, 5)), None));
        // A device decided on after its problem was seen stays closed; seen again, it is back.
        assert!(Closes::item(Some(&kept(Decision::Confirm, 5)), Some(5)));
        assert!(!Closes::item(Some(&kept(Decision::Confirm, 5)), Some(6)));
    }

    #[test]
    fn names_round_trip() {
        for kind in [ItemKind::Record, ItemKind::Attempt, ItemKind::Device] {
            assert_eq!(ItemKind::parse(kind.as_str()), Some(kind));
        }
        for d in [Decision::Confirm, Decision::Reject, Decision::Escalate] {
            assert_eq!(Decision::parse(d.as_str()), Some(d));
        }
        assert_eq!(Decision::parse("approve"), None);
    }
}
