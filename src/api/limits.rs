//! Request rate limits per token (the contract's "account") and per token and
//! API, per minute and per day, in fixed windows kept in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::contract::ErrorCode;
use crate::store::TokenId;

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
    fn default() -> Self {
        Limits {
            token_per_minute: Some(600),
            api_per_minute: Some(300),
            token_per_day: None,
            api_per_day: None,
        }
    }
}

/// The APIs that are limited separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// Media upload.
    Media,
    /// facex/match.
    Match,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Window {
    Minute,
    Day,
}

/// What a count is kept for: a token, an API of it (`None`: all APIs), a window length.
type CountKey = (TokenId, Option<Api>, Window);
/// The window's number (minutes or days since the epoch) and the requests counted in it.
type Count = (u64, u32);

/// Counts requests and says which limit a new one would break.
#[derive(Debug, Default)]
pub struct RateLimiter {
    limits: Limits,
    counts: Mutex<HashMap<CountKey, Count>>,
}

impl RateLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: Limits) -> RateLimiter {
        RateLimiter { limits, counts: Mutex::default() }
    }

    /// Counts a request by `token` to `api` at `now_secs`; the error code of the
    /// first limit it breaks (the request is then not counted).
    pub fn check_at(&self, token: TokenId, api: Api, now_secs: u64) -> Result<(), ErrorCode> {
        let rules = [
            (None, Window::Minute, self.limits.token_per_minute, ErrorCode::AccountRateLimit),
            (Some(api), Window::Minute, self.limits.api_per_minute, ErrorCode::ApiRateLimit),
            (None, Window::Day, self.limits.token_per_day, ErrorCode::AccountDailyLimit),
            (Some(api), Window::Day, self.limits.api_per_day, ErrorCode::ApiDailyLimit),
        ];
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let slot = |w: Window| match w {
            Window::Minute => now_secs / 60,
            Window::Day => now_secs / 86_400,
        };
        for (scope, window, limit, code) in rules {
            if let Some(limit) = limit {
                let (n, count) =
                    counts.get(&(token, scope, window)).copied().unwrap_or((slot(window), 0));
                if n == slot(window) && count >= limit {
                    return Err(code);
                }
            }
        }
        for (scope, window, _, _) in rules {
            let entry = counts.entry((token, scope, window)).or_insert((slot(window), 0));
            if entry.0 != slot(window) {
                *entry = (slot(window), 0);
            }
            entry.1 += 1;
        }
        Ok(())
    }

    /// [`RateLimiter::check_at`] now.
    pub fn check(&self, token: TokenId, api: Api) -> Result<(), ErrorCode> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.check_at(token, api, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_answers_its_code_and_windows_reset() {
        let limits = Limits {
            token_per_minute: Some(5),
            api_per_minute: Some(3),
            token_per_day: Some(9),
            api_per_day: Some(6),
        };
        let r = RateLimiter::new(limits);
        let (t, u) = (TokenId(1), TokenId(2));
        for _ in 0..3 {
            assert_eq!(r.check_at(t, Api::Match, 0), Ok(()));
        }
        assert_eq!(r.check_at(t, Api::Match, 10), Err(ErrorCode::ApiRateLimit));
        assert_eq!(r.check_at(t, Api::Media, 10), Ok(()));
        assert_eq!(r.check_at(t, Api::Media, 10), Ok(()));
        assert_eq!(r.check_at(t, Api::Media, 10), Err(ErrorCode::AccountRateLimit));
        // Another token has its own counts.
        assert_eq!(r.check_at(u, Api::Match, 10), Ok(()));
        // Next minute: the minute limits reset, the day keeps counting (5 so far, 3 of them Match).
        for _ in 0..3 {
            assert_eq!(r.check_at(t, Api::Match, 70), Ok(()));
        }
        assert_eq!(r.check_at(t, Api::Match, 130), Err(ErrorCode::ApiDailyLimit));
        assert_eq!(r.check_at(t, Api::Media, 130), Ok(()));
        assert_eq!(r.check_at(t, Api::Media, 130), Err(ErrorCode::AccountDailyLimit));
        // Next day.
        assert_eq!(r.check_at(t, Api::Match, 86_400), Ok(()));
    }

    #[test]
    fn unlimited_by_default_per_day() {
        let r = RateLimiter::new(Limits {
            token_per_minute: None,
            api_per_minute: None,
            ..Limits::default()
        });
        for _ in 0..10_000 {
            assert_eq!(r.check_at(TokenId(1), Api::Match, 5), Ok(()));
        }
    }
}
