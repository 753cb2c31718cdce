//! The review page's words in the languages of the kiosk, chosen by the browser's
//! `Accept-Language`: the pages' labels, the queue's sections, the error pages. Their catalogues
//! (`assets/review/translations/<code>.po`, gettext like the kiosk's, English message ids) are
//! built into the binary. What devices and staff wrote (reasons, notes, names) and the values of
//! the items' facts are shown as they are.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::{header, HeaderMap};
use minijinja::value::{Rest, Value};

use crate::kiosk::language::{fill, parse_catalogue, Language};

/// The catalogues, as built into the binary.
pub const CATALOGUE_FILES: [(Language, &str); 3] = [
    (Language::Hindi, include_str!("../../assets/review/translations/hi.po")),
    (Language::Tamil, include_str!("../../assets/review/translations/ta.po")),
    (Language::Bengali, include_str!("../../assets/review/translations/bn.po")),
];

static CATALOGUES: LazyLock<HashMap<Language, HashMap<String, String>>> = LazyLock::new(|| {
    CATALOGUE_FILES.iter().map(|(language, text)| (*language, parse_catalogue(text))).collect()
});

/// Marks an English message id of the review page where it is written (the catalogue test,
/// `tests/languages.rs`, collects them with the templates' `"…"|t`); the text itself, unchanged.
macro_rules! label {
    ($text:literal) => {
        $text
    };
}
pub(super) use label;

/// Words the store hands the pages that they show translated: the pictures' roles and the
/// decisions.
pub const STORE_WORDS: [&str; 6] = [
    label!("selfie"),
    label!("front"),
    label!("back"),
    label!("confirm"),
    label!("reject"),
    label!("escalate"),
];

/// The most choices of an `Accept-Language` read (browsers send a handful).
const MAX_CHOICES: usize = 32;

tokio::task_local! {
    /// The language of the request being answered (set around each request by the router).
    static LANGUAGE: Language;
}

/// The language a browser asks for: the first of its `Accept-Language` choices, by preference,
/// whose primary subtag is one of the kiosk's (`hi-IN` is Hindi); English otherwise.
pub fn chosen(headers: &HeaderMap) -> Language {
    let Some(asked) = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
        return Language::English;
    };
    preferences(asked)
        .into_iter()
        .find_map(|tag| tag.split('-').next()?.to_ascii_lowercase().parse::<Language>().ok())
        .unwrap_or_default()
}

/// The language tags of an `Accept-Language` value (RFC 9110), most wanted first, equal weights
/// in the header's order. A choice weighted 0 is refused, not wanted last; one whose weight is
/// not a number from 0 to 1 is dropped; the first [`MAX_CHOICES`] are read.
fn preferences(value: &str) -> Vec<&str> {
    let mut choices: Vec<(f32, &str)> = value
        .split(',')
        .take(MAX_CHOICES)
        .filter_map(|choice| {
            let mut parts = choice.split(';');
            let tag = parts.next()?.trim();
            let weight = parts
                .filter_map(|p| p.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1.0), |(_, q)| q.trim().parse::<f32>().ok())?;
            let weighed = weight.is_finite() && weight > 0.0 && weight <= 1.0;
            (!tag.is_empty() && weighed).then_some((weight, tag))
        })
        .collect();
    choices.sort_by(|a, b| b.0.total_cmp(&a.0));
    choices.into_iter().map(|(_, tag)| tag).collect()
}

/// Runs `answer` (a request's handling) in `language`: every page it draws speaks it.
pub async fn speaking<F: std::future::Future>(language: Language, answer: F) -> F::Output {
    LANGUAGE.scope(language, answer).await
}

/// The language of the request being answered (English outside one).
pub fn current() -> Language {
    LANGUAGE.try_with(|l| *l).unwrap_or_default()
}

/// `text` (an English message id) in the current language, each `{}` replaced by the next of
/// `args`; the English itself where the catalogue has none (the catalogue test keeps that from
/// shipping).
pub fn tr(text: &str, args: &[String]) -> String {
    let translated = CATALOGUES.get(&current()).and_then(|c| c.get(text));
    fill(translated.map_or(text, String::as_str), args)
}

/// The templates' `t` filter: `{{ "Decision {} recorded."|t(decided) }}`.
pub fn filter(text: String, args: Rest<Value>) -> String {
    let args: Vec<String> = args.iter().map(ToString::to_string).collect();
    tr(&text, &args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn asking(value: &'static str) -> Language {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(value));
        chosen(&headers)
    }

    #[test]
    fn the_browsers_first_language_of_the_kiosks_is_chosen() {
        assert_eq!(asking("ta-IN,ta;q=0.9,en;q=0.8"), Language::Tamil);
        assert_eq!(asking("fr, hi;q=0.5"), Language::Hindi);
        assert_eq!(asking("en;q=0.4, bn;q=0.9"), Language::Bengali);
        assert_eq!(asking("en-GB, hi"), Language::English);
        assert_eq!(asking("fr, de"), Language::English);
        assert_eq!(asking(";;,q=,"), Language::English);
        assert_eq!(chosen(&HeaderMap::new()), Language::English);
        // Refused (q=0), unreadable and non-finite weights are no choice; `*` names none.
        assert_eq!(asking("hi;q=0, fr"), Language::English);
        assert_eq!(asking("hi;q=NaN, ta;q=0.5"), Language::Tamil);
        assert_eq!(asking("hi;q=inf, bn;q=abc, *, ta;Q=0.2"), Language::Tamil);
        assert_eq!(asking("hi;q =0, bn ; q= 1.5, ta;q=0.9, en;q=0.5"), Language::Tamil);
        // Only the first choices are read, however long the header.
        let long = format!("{}hi", "fr, ".repeat(MAX_CHOICES));
        assert_eq!(preferences(&long).len(), MAX_CHOICES);
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(&long).unwrap());
        assert_eq!(chosen(&headers), Language::English);
    }

    #[test]
    fn every_decision_the_store_keeps_is_a_word_the_pages_translate() {
        use crate::store::review::Decision;
        for decision in [Decision::Confirm, Decision::Reject, Decision::Escalate] {
            assert!(STORE_WORDS.contains(&decision.as_str()), "{}", decision.as_str());
        }
    }

    #[tokio::test]
    async fn words_follow_the_request_and_fill_in_order() {
        assert_eq!(tr("Decision {} recorded.", &["7".into()]), "Decision 7 recorded.");
        let hindi = speaking(Language::Hindi, async { tr("Sign in", &[]) }).await;
        assert_ne!(hindi, "Sign in");
        assert_eq!(current(), Language::English);
        let unknown = "not a message";
        assert_eq!(speaking(Language::Tamil, async { tr(unknown, &[]) }).await, unknown);
    }
}
