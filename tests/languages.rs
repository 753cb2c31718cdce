//! The kiosk's catalogues: every customer string marked in the markup (`@tr("…")`) and in Rust
//! (`tr!("…")`) is translated in every language, with the same placeholders and no English
//! left, no catalogue holds words nobody uses, and every character of every translation is
//! drawn by a font the kiosk has (the embedded Noto Sans of the script, or DejaVu Sans). The
//! review page's catalogues likewise: every label of its templates and Rust, and nothing else.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use facematch::kiosk::language::{parse_catalogue, CATALOGUE_FILES};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Files under `dir` whose names end in `ext`, recursively.
fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.to_string_lossy().ends_with(ext) {
            out.push(path);
        }
    }
}

/// The string literals that follow `marker` (e.g. `@tr("`) in `text`, where the marker is not
/// the end of a longer name (`include_str!("` is not `tr!("`).
fn marked(text: &str, marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let glued = rest[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + marker.len()..];
        if glued {
            continue;
        }
        let (mut literal, mut escaped) = (String::new(), false);
        for c in rest.chars() {
            match (c, escaped) {
                ('"', false) => break,
                ('\\', false) => escaped = true,
                (c, _) => {
                    literal.push(c);
                    escaped = false;
                }
            }
        }
        found.push(literal);
    }
    found
}

/// Every message id the kiosk shows.
fn message_ids() -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut slint = Vec::new();
    files(&root().join("ui"), ".slint", &mut slint);
    for file in slint {
        ids.extend(marked(&std::fs::read_to_string(file).unwrap(), "@tr(\""));
    }
    let mut rust = Vec::new();
    files(&root().join("src"), ".rs", &mut rust);
    for file in rust {
        let text = std::fs::read_to_string(&file).unwrap();
        let ids_here = marked(&text, "tr!(\"");
        // The macro's own definition and docs name no message.
        ids.extend(ids_here.into_iter().filter(|id| !id.is_empty() && id != "…"));
    }
    ids
}

#[test]
fn every_customer_string_is_translated_in_every_language_and_nothing_else() {
    let ids = message_ids();
    assert!(ids.len() > 80, "the markers were not found: {ids:?}");
    assert!(ids.contains("Turn your head slowly to your left") && ids.contains("Start"));
    // Latin letters only in the ID's own acronym (EPIC), never an English word left.
    check_catalogues(&ids, &CATALOGUE_FILES, "EPIC", "screen");
}

/// Every id of `ids` is translated in each of `catalogues`, and nothing else: placeholders as in
/// the id, no Latin letter left but those of `kept` (a name or acronym written as it is). `shown`
/// says where the words appear (screen, page).
fn check_catalogues(
    ids: &BTreeSet<String>,
    catalogues: &[(facematch::kiosk::language::Language, &str)],
    kept: &str,
    shown: &str,
) {
    for (language, text) in catalogues {
        let catalogue = parse_catalogue(text);
        let missing: Vec<_> = ids.iter().filter(|id| !catalogue.contains_key(*id)).collect();
        assert!(missing.is_empty(), "{language}: untranslated: {missing:?}");
        let unused: Vec<_> = catalogue.keys().filter(|id| !ids.contains(*id)).collect();
        assert!(unused.is_empty(), "{language}: words no {shown} shows: {unused:?}");
        for (id, translation) in &catalogue {
            assert_eq!(
                id.matches("{}").count(),
                translation.matches("{}").count(),
                "{language}: placeholders differ: {id:?} → {translation:?}"
            );
            let latin = translation.replace(kept, "");
            assert!(
                !latin.chars().any(|c| c.is_ascii_alphabetic()),
                "{language}: English left in {translation:?}"
            );
        }
    }
}

/// The characters a font file maps.
fn coverage(file: &Path) -> HashMap<char, ()> {
    let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let face = ttf_parser::Face::parse(&data, 0).unwrap();
    let mut chars = HashMap::new();
    for table in face.tables().cmap.unwrap().subtables {
        if table.is_unicode() {
            table.codepoints(|c| {
                if let Some(c) = char::from_u32(c) {
                    chars.insert(c, ());
                }
            });
        }
    }
    chars
}

#[test]
fn every_character_of_every_catalogue_is_in_the_kiosks_fonts() {
    // DejaVu Sans: the system font the package depends on (Latin digits, punctuation).
    let dejavu = coverage(Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"));
    for (language, text) in CATALOGUE_FILES {
        let font = language.font_family().replace(' ', "");
        for weight in ["Regular", "Bold"] {
            let file = root().join(format!("assets/fonts/{font}-{weight}.ttf"));
            let own = coverage(&file);
            let words = parse_catalogue(text).into_values().chain([language.own_name().into()]);
            let mut missing = BTreeSet::new();
            for c in words.flat_map(|w| w.chars().collect::<Vec<_>>()) {
                if !(c.is_whitespace() || own.contains_key(&c) || dejavu.contains_key(&c)) {
                    missing.insert(format!("{c} U+{:04X}", c as u32));
                }
            }
            assert!(missing.is_empty(), "{language} {weight}: no glyph for {missing:?}");
            // The script's own letters come from its font, not a fallback.
            let sample = language.translate("Start").chars().next().unwrap();
            assert!(own.contains_key(&sample), "{language}: {sample} is not in {}", file.display());
        }
    }
}

/// Every message id of the review page: `"…"|t` in its templates, `label!("…")` and `tr("…")`
/// in its Rust (a string continued with `\` over lines read as Rust reads it).
fn review_message_ids() -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut templates = Vec::new();
    files(&root().join("assets/review"), ".html", &mut templates);
    for file in templates {
        let text = std::fs::read_to_string(file).unwrap();
        // Each use of the filter `t` (`|t`, `| t`) whose input is a quoted literal.
        for (bar, _) in text.match_indices('|') {
            let after = text[bar + 1..].trim_start();
            let is_t = after
                .strip_prefix('t')
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'));
            let before = text[..bar].trim_end();
            let Some(quote) = before.chars().next_back().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            if is_t {
                let body = &before[..before.len() - 1];
                let Some(start) = body.rfind(quote) else { continue };
                let id = &body[start + 1..];
                assert!(!id.contains('\\'), "an escape in a template label is not read here: {id}");
                ids.insert(id.to_string());
            }
        }
    }
    let mut rust = Vec::new();
    files(&root().join("src/review"), ".rs", &mut rust);
    for file in rust {
        let text = std::fs::read_to_string(&file).unwrap();
        // The unit tests' own words are no page's.
        let code = text.split("#[cfg(test)]").next().unwrap();
        ids.extend(rust_literals_after(code, "label!("));
        ids.extend(rust_literals_after(code, "tr("));
    }
    ids.remove("");
    ids
}

/// The string literals that open the calls `call` (`tr(`, not `str(`) in Rust source `code`,
/// wherever rustfmt put them, read as Rust reads them (`\` at a line's end joins the next line
/// without its indent).
fn rust_literals_after(code: &str, call: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices(call) {
        if code[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(rest) = code[at + call.len()..].trim_start().strip_prefix('"') else { continue };
        let (mut literal, mut chars) = (String::new(), rest.chars());
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('\n') => {
                        chars = chars.as_str().trim_start().chars();
                    }
                    Some(c) => literal.push(c),
                    None => break,
                },
                c => literal.push(c),
            }
        }
        found.push(literal);
    }
    found
}

#[test]
fn every_review_page_label_is_translated_in_every_language_and_nothing_else() {
    use facematch::review::words::{CATALOGUE_FILES as REVIEW, STORE_WORDS};
    let ids = review_message_ids();
    assert!(ids.len() > 80, "the markers were not found: {ids:?}");
    for id in ["Sign in", "Decision {} recorded.", "Busy", "selfie"] {
        assert!(ids.contains(id), "{id:?} not found among {ids:?}");
    }
    assert!(STORE_WORDS.iter().all(|w| ids.contains(*w)));
    assert!(ids.contains(
        "Name or password wrong, or the account is locked after 5 failed sign-ins (15 minutes)."
    ));
    // Latin letters only in the product's name, never an English word left.
    check_catalogues(&ids, &REVIEW, "facematch", "page");
}
