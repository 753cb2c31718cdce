//! The languages the kiosk speaks to a customer, and its words in each.
//!
//! One gettext catalogue per language (`ui/translations/<code>/LC_MESSAGES/facematch.po`)
//! holds every customer string: Slint bundles it for the markup's `@tr(...)`, and this module
//! embeds the same file for the words Rust sends to the screen (guidance, liveness requests,
//! the result), which are written with the [`tr!`](crate::tr) marker so that the catalogue
//! test finds them. English is the source language: its words are the message ids.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::DocumentType;

/// Marks an English customer string as a message id of the catalogues; it evaluates to the
/// string itself (translation happens where it is shown, in the session's language).
#[macro_export]
macro_rules! tr {
    ($text:literal) => {
        $text
    };
}

/// A language the kiosk offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// English (the source language).
    #[default]
    English,
    /// Hindi, in Devanagari.
    Hindi,
    /// Tamil.
    Tamil,
    /// Bengali.
    Bengali,
}

impl Language {
    /// Every language, in the welcome screen's order.
    pub const ALL: [Language; 4] =
        [Language::English, Language::Hindi, Language::Tamil, Language::Bengali];

    /// The ISO 639-1 code (`--language`, the catalogue's folder, the saved setting).
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Hindi => "hi",
            Language::Tamil => "ta",
            Language::Bengali => "bn",
        }
    }

    /// The language's name in its own script, as its button shows it.
    pub fn own_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Hindi => "हिन्दी",
            Language::Tamil => "தமிழ்",
            Language::Bengali => "বাংলা",
        }
    }

    /// Its name in English, for the staff screens (which are English, in a Latin font).
    pub fn english_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::Hindi => "Hindi",
            Language::Tamil => "Tamil",
            Language::Bengali => "Bengali",
        }
    }

    /// The font family its text is drawn with (the Indic ones are embedded in the binary).
    pub fn font_family(self) -> &'static str {
        match self {
            Language::English => "DejaVu Sans",
            Language::Hindi => "Noto Sans Devanagari",
            Language::Tamil => "Noto Sans Tamil",
            Language::Bengali => "Noto Sans Bengali",
        }
    }

    /// `text` (an English message id) in this language; the English itself when the
    /// catalogue has no translation (the catalogue test keeps that from shipping).
    pub fn translate(self, text: &str) -> &str {
        CATALOGUES.get(&self).and_then(|c| c.get(text)).map_or(text, String::as_str)
    }

    /// `template` translated, with each `{}` replaced by the next of `args` in turn.
    pub fn format(self, template: &str, args: &[String]) -> String {
        fill(self.translate(template), args)
    }

    /// "Step `n` of `of`" in this language and its digits: where the customer is in the session.
    pub fn step_of(self, n: usize, of: usize) -> String {
        let (n, of) = (self.number(n as f64, 0), self.number(of as f64, 0));
        self.format(crate::tr!("Step {} of {}"), &[n, of])
    }

    /// "Movement `n` of `of`": the liveness challenge's head movements, counted in other words
    /// than the session's steps, which the same screen shows.
    pub fn movement_of(self, n: usize, of: usize) -> String {
        let (n, of) = (self.number(n as f64, 0), self.number(of as f64, 0));
        self.format(crate::tr!("Movement {} of {}"), &[n, of])
    }

    /// `value` with `decimals` decimals, in the digits the language writes numbers with
    /// (CLDR's default numbering system: Bengali digits for Bengali, Latin digits for Hindi
    /// and Tamil, whose official use is the international form).
    pub fn number(self, value: f64, decimals: usize) -> String {
        let latin = format!("{value:.decimals$}");
        match self {
            Language::Bengali => latin
                .chars()
                .map(|c| c.to_digit(10).map_or(c, |d| char::from_u32(0x09E6 + d).unwrap_or(c)))
                .collect(),
            _ => latin,
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Language, String> {
        Language::ALL.into_iter().find(|l| l.code() == s).ok_or_else(|| {
            let codes: Vec<_> = Language::ALL.iter().map(|l| l.code()).collect();
            format!("unknown language {s:?}: one of {}", codes.join(", "))
        })
    }
}

/// Words for the document type on screen ("Show the front of your …").
pub fn document_name(t: DocumentType) -> &'static str {
    match t {
        DocumentType::Uidai => crate::tr!("Aadhaar card"),
        DocumentType::Dl => crate::tr!("driving licence"),
        DocumentType::Pan => crate::tr!("PAN card"),
        DocumentType::Voter => crate::tr!("voter ID card"),
        DocumentType::Passport => crate::tr!("passport"),
        DocumentType::Gov => crate::tr!("ID document"),
    }
}

/// The translated catalogues, as embedded in the binary.
pub const CATALOGUE_FILES: [(Language, &str); 3] = [
    (Language::Hindi, include_str!("../../ui/translations/hi/LC_MESSAGES/facematch.po")),
    (Language::Tamil, include_str!("../../ui/translations/ta/LC_MESSAGES/facematch.po")),
    (Language::Bengali, include_str!("../../ui/translations/bn/LC_MESSAGES/facematch.po")),
];

static CATALOGUES: LazyLock<HashMap<Language, HashMap<String, String>>> = LazyLock::new(|| {
    CATALOGUE_FILES.iter().map(|(language, text)| (*language, parse_catalogue(text))).collect()
});

/// Every message id of the catalogues (the English words the kiosk can show).
pub fn message_ids() -> impl Iterator<Item = &'static str> {
    CATALOGUES.get(&Language::Hindi).into_iter().flat_map(|c| c.keys().map(String::as_str))
}

/// `text` with each `{}` replaced by the next of `args` in turn (a missing one by nothing): the
/// catalogues' placeholders, which a translation may move but not reorder.
pub fn fill(text: &str, args: &[String]) -> String {
    let mut parts = text.split("{}");
    let mut out = parts.next().unwrap_or_default().to_string();
    for (i, part) in parts.enumerate() {
        out.push_str(args.get(i).map_or("", String::as_str));
        out.push_str(part);
    }
    out
}

/// A catalogue's translated, non-fuzzy entries: message id → translation. A catalogue that
/// does not parse gives none (its language then shows English; the catalogue test fails first).
pub fn parse_catalogue(text: &str) -> HashMap<String, String> {
    match rspolib::pofile(text) {
        Ok(file) => file
            .entries
            .into_iter()
            .filter(|e| !e.flags.iter().any(|f| f == "fuzzy") && !e.obsolete)
            .filter_map(|e| e.msgstr.filter(|s| !s.is_empty()).map(|s| (e.msgid, s)))
            .collect(),
        Err(e) => {
            log::error!("a translation catalogue cannot be read: {e}");
            HashMap::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_refused() {
        for l in Language::ALL {
            assert_eq!(l.code().parse::<Language>(), Ok(l));
        }
        assert!("fr".parse::<Language>().unwrap_err().contains("en, hi, ta, bn"));
    }

    #[test]
    fn numbers_use_the_languages_digits() {
        assert_eq!(Language::English.number(96.74, 1), "96.7");
        assert_eq!(Language::Hindi.number(96.74, 1), "96.7");
        assert_eq!(Language::Bengali.number(96.74, 1), "৯৬.৭");
        assert_eq!(Language::Bengali.number(85.0, 0), "৮৫");
    }

    #[test]
    fn words_are_translated_and_placeholders_filled() {
        assert_eq!(Language::English.translate("Start"), "Start");
        assert_ne!(Language::Hindi.translate("Start"), "Start");
        assert_eq!(Language::English.format("Match {} %", &["96.7".into()]), "Match 96.7 %");
        let hindi = Language::Hindi.format("Match {} %", &["96.7".into()]);
        assert!(hindi.contains("96.7") && !hindi.contains("Match"), "{hindi}");
        assert_eq!(Language::Tamil.translate("no such message"), "no such message");
    }
}
