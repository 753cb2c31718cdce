//! The review page's words in the languages of the kiosk, chosen by the browser's
//! `Accept-Language`: the pages' labels, the queue's sections, the error pages. Their catalogues
//! (`assets/review/translations/<code>.po`, gettext like the kiosk's, English message ids) are
//! built into the binary. What devices and staff wrote (reasons, notes, names) and the values of
//! the items' facts are shown as they are.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::{header, HeaderMap};
use minijinja::value::{Rest, Value};

use crate::kiosk::language::{parse_catalogue, Language};

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
pub const STORE_WORDS: [&str; 7] = [
    label!("selfie"),
    label!("front"),
    label!("back"),
    label!("best frame"),
    label!("confirm"),
    label!("reject"),
    label!("escalate"),
];

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
    accept_language::parse(asked)
        .iter()
        .filter_map(|tag| tag.split('-').next()?.to_ascii_lowercase().parse::<Language>().ok())
        .next()
        .unwrap_or_default()
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
    let language = current();
    let translated =
        CATALOGUES.get(&language).and_then(|c| c.get(text)).map_or(text, String::as_str);
    let mut parts = translated.split("{}");
    let mut out = parts.next().unwrap_or_default().to_string();
    for (i, part) in parts.enumerate() {
        out.push_str(args.get(i).map_or("", String::as_str));
        out.push_str(part);
    }
    out
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
