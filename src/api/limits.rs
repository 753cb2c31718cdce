//! Request rate limits per token (the contract's "account") and per token and API: per
//! minute in a sliding window (no burst of twice the limit across a minute boundary), per
//! UTC day with the counts kept in the database (a restart does not reset them). A refusal
//! says when to try again (`Retry-After`). The four limits answer the contract's four codes,
//! 4291-4294, which is why this is ours and not a general-purpose limiter.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::contract::ErrorCode;
use crate::store::{RecentCalls, TokenId};

/// Limits; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per minute per token, all APIs (4291).
    pub token_per_minute: Option<u32>,
    /// Requests per minute per token and API (4292).
    pub api_per_minute: Option<u32>,
    /// Requests per UTC day per token (4293).
    pub token_per_day: Option<u32>,
    /// Requests per UTC day per token and API (4294).
    pub api_per_day: Option<u32>,
}

impl Default for Limits {
    /// 180 calls a minute to one API and 240 to both: one verification is 2-3 uploads and
    /// a match, so a client can send about 60 verifications a minute, and a client that
    /// uploads at the full 180 can still match 60 times before 4291 stops it.
    fn default() -> Self {
        Limits {
            token_per_minute: Some(240),
            api_per_minute: Some(180),
            token_per_day: None,
            api_per_day: None,
        }
    }
}

impl Limits {
    /// Whether a call at `now_ms` fits beside the `recent` calls already counted, or the first
    /// limit it breaks: the minute limits in a sliding window, then the daily ones. Servers
    /// counting in memory and those counting in a shared database judge alike.
    ///
    /// # Errors
    /// The [`Refusal`], with when a retry can pass.
    pub fn judge(&self, recent: &RecentCalls, now_ms: u64) -> Result<(), Refusal> {
        let minute_rules = [
            (&recent.minute_all, self.token_per_minute, ErrorCode::AccountRateLimit),
            (&recent.minute_api, self.api_per_minute, ErrorCode::ApiRateLimit),
        ];
        for (calls, limit, code) in minute_rules {
            let Some(limit) = limit else { continue };
            let counted: Vec<u64> =
                calls.iter().copied().filter(|&t| t + MINUTE_MS > now_ms).collect();
            if counted.len() >= limit as usize {
                // Room again when the oldest call still counted leaves the window.
                let oldest = counted[counted.len() - limit as usize];
                let wait = (oldest + MINUTE_MS).saturating_sub(now_ms);
                return Err(Refusal { code, retry_after_secs: wait.div_ceil(1000).max(1) });
            }
        }
        let today = now_ms / DAY_MS;
        let day_rules = [
            (recent.today_all, self.token_per_day, ErrorCode::AccountDailyLimit),
            (recent.today_api, self.api_per_day, ErrorCode::ApiDailyLimit),
        ];
        for (n, limit, code) in day_rules {
            if limit.is_some_and(|limit| n >= limit) {
                let wait = (today + 1) * DAY_MS - now_ms;
                return Err(Refusal { code, retry_after_secs: wait.div_ceil(1000).max(1) });
            }
        }
        Ok(())
    }
}

/// The APIs that are limited separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// Media upload.
    Media,
    /// facex/match.
    Match,
    /// The fleet's calls beside the contract (a hub's `hub` and `heartbeat`): limited apart
    /// from matches, so a device's heartbeats never take its matches' quota.
    Fleet,
}

impl Api {
    /// The name the daily counts are stored under.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Media => "media",
            Api::Match => "match",
            Api::Fleet => "fleet",
        }
    }

    /// The API stored under `name`, if any.
    pub fn named(name: &str) -> Option<Api> {
        [Api::Media, Api::Match, Api::Fleet].into_iter().find(|api| api.as_str() == name)
    }
}

/// A refusal: the contract's code and the seconds after which a retry can pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// 4291-4294.
    pub code: ErrorCode,
    /// For `Retry-After`.
    pub retry_after_secs: u64,
}

/// What a token's counts are kept for: all its calls (`None`) or one API's.
type Scope = (TokenId, Option<Api>);

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;

/// Counts requests and says which limit a new one would break.
#[derive(Debug, Default)]
pub struct RateLimiter {
    limits: Limits,
    /// Accepted calls of the last minute, oldest first (ms since the epoch).
    minute: Mutex<HashMap<Scope, VecDeque<u64>>>,
    /// Accepted calls per UTC day: (day number, count).
    day: Mutex<HashMap<Scope, (u64, u32)>>,
}

impl RateLimiter {
    /// A limiter enforcing `limits`, starting from `today`'s counts as stored (token, API
    /// or `None` for all, count): the daily limits hold across restarts.
    pub fn new(limits: Limits, today_counts: &[(TokenId, Option<Api>, u32)]) -> RateLimiter {
        let day = today();
        let counts = today_counts.iter().map(|&(t, api, n)| ((t, api), (day, n))).collect();
        RateLimiter { limits, minute: Mutex::default(), day: Mutex::new(counts) }
    }

    /// The limits enforced.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether daily counts must be stored (a daily limit is set).
    pub fn counts_days(&self) -> bool {
        self.limits.token_per_day.is_some() || self.limits.api_per_day.is_some()
    }

    /// Counts a call by `token` to `api` at `now_ms`, or says which limit it breaks first
    /// (a refused call is not counted).
    ///
    /// # Errors
    /// The [`Refusal`].
    pub fn check_at(&self, token: TokenId, api: Api, now_ms: u64) -> Result<(), Refusal> {
        let minute_rules = [
            ((token, None), self.limits.token_per_minute),
            ((token, Some(api)), self.limits.api_per_minute),
        ];
        let day_rules = [(token, None), (token, Some(api))];
        let mut minute = self.minute.lock().unwrap_or_else(|p| p.into_inner());
        let mut day = self.day.lock().unwrap_or_else(|p| p.into_inner());
        let today = now_ms / DAY_MS;
        let [minute_all, minute_api] = minute_rules.map(|(scope, _)| {
            let calls = minute.entry(scope).or_default();
            while calls.front().is_some_and(|&t| t + MINUTE_MS <= now_ms) {
                calls.pop_front();
            }
            calls.iter().copied().collect::<Vec<_>>()
        });
        let [today_all, today_api] = day_rules.map(|scope| match day.get(&scope) {
            Some(&(d, n)) if d == today => n,
            _ => 0,
        });
        let recent = RecentCalls { minute_all, minute_api, today_all, today_api };
        self.limits.judge(&recent, now_ms)?;
        for (scope, limit) in minute_rules {
            if limit.is_some() {
                minute.entry(scope).or_default().push_back(now_ms);
            }
        }
        for scope in day_rules {
            let entry = day.entry(scope).or_insert((today, 0));
            if entry.0 != today {
                *entry = (today, 0);
            }
            entry.1 += 1;
        }
        Ok(())
    }

    /// [`RateLimiter::check_at`] now.
    ///
    /// # Errors
    /// The [`Refusal`].
    pub fn check(&self, token: TokenId, api: Api) -> Result<(), Refusal> {
        self.check_at(token, api, now_ms())
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Today's number, in UTC days since the epoch: what the daily counts are kept under.
pub fn today() -> u64 {
    now_ms() / DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(limits: Limits) -> RateLimiter {
        RateLimiter::new(limits, &[])
    }

    const DAY0: u64 = 20_000 * DAY_MS; // a day boundary

    #[test]
    fn each_limit_answers_its_code() {
        let r = limiter(Limits {
            token_per_minute: Some(5),
            api_per_minute: Some(3),
            token_per_day: Some(9),
            api_per_day: Some(6),
        });
        let (t, u) = (TokenId(1), TokenId(2));
        let code = |res: Result<(), Refusal>| res.map_err(|r| r.code);
        for _ in 0..3 {
            assert_eq!(code(r.check_at(t, Api::Match, DAY0)), Ok(()));
        }
        assert_eq!(code(r.check_at(t, Api::Match, DAY0 + 10)), Err(ErrorCode::ApiRateLimit));
        assert_eq!(code(r.check_at(t, Api::Media, DAY0 + 10)), Ok(()));
        assert_eq!(code(r.check_at(t, Api::Media, DAY0 + 10)), Ok(()));
        assert_eq!(code(r.check_at(t, Api::Media, DAY0 + 10)), Err(ErrorCode::AccountRateLimit));
        // Another token has its own counts.
        assert_eq!(code(r.check_at(u, Api::Match, DAY0 + 10)), Ok(()));
        // A minute later the minute limits have room; the day keeps counting (5, 3 Match).
        for _ in 0..3 {
            assert_eq!(code(r.check_at(t, Api::Match, DAY0 + 70_000)), Ok(()));
        }
        let later = DAY0 + 140_000;
        assert_eq!(code(r.check_at(t, Api::Match, later)), Err(ErrorCode::ApiDailyLimit));
        assert_eq!(code(r.check_at(t, Api::Media, later)), Ok(()));
        assert_eq!(code(r.check_at(t, Api::Media, later)), Err(ErrorCode::AccountDailyLimit));
        // The next UTC day.
        assert_eq!(code(r.check_at(t, Api::Match, DAY0 + DAY_MS)), Ok(()));
    }

    #[test]
    fn no_burst_of_twice_the_limit_across_a_minute_boundary() {
        let r = limiter(Limits { api_per_minute: Some(6), ..Limits::default() });
        let t = TokenId(1);
        let boundary = DAY0 + 59 * MINUTE_MS; // a calendar minute ends here
        let mut passed = 0;
        for i in 0..12 {
            // 12 calls within 2 s around the boundary.
            let at = boundary - 1_000 + i * 170;
            passed += usize::from(r.check_at(t, Api::Match, at).is_ok());
        }
        assert_eq!(passed, 6, "a fixed calendar window let 12 through");
        // The refusal says when the oldest call leaves the window.
        let refusal = r.check_at(t, Api::Match, boundary + 1_000).unwrap_err();
        assert_eq!((refusal.code, refusal.retry_after_secs), (ErrorCode::ApiRateLimit, 58));
        assert!(r.check_at(t, Api::Match, boundary - 1_000 + MINUTE_MS).is_ok());
    }

    #[test]
    fn the_default_account_limit_can_fire() {
        let r = limiter(Limits::default());
        let t = TokenId(1);
        for _ in 0..180 {
            assert!(r.check_at(t, Api::Media, DAY0).is_ok());
        }
        for _ in 0..60 {
            assert!(r.check_at(t, Api::Match, DAY0).is_ok());
        }
        let refusal = r.check_at(t, Api::Match, DAY0).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::AccountRateLimit, "240 in all, matches under 180");
    }

    #[test]
    fn daily_counts_start_from_what_was_stored() {
        let limits = Limits { api_per_day: Some(2), ..Limits::default() };
        let r = RateLimiter::new(limits, &[(TokenId(1), Some(Api::Match), 2)]);
        let refusal = r.check(TokenId(1), Api::Match).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::ApiDailyLimit);
        assert!(refusal.retry_after_secs <= 86_400);
        assert!(r.check(TokenId(1), Api::Media).is_ok());
    }
}
