//! The kiosk's screens for customers who see poorly: every text colour of the theme reaches
//! 4.5:1 against the backgrounds it is drawn on (WCAG 2.2 AA, success criterion 1.4.3), and no
//! touch target in the markup is smaller than 9 mm on the supported panels.

use std::collections::HashMap;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The theme's `out property <color> name: #rrggbb;` values.
fn theme_colours() -> HashMap<String, [f64; 3]> {
    let text = std::fs::read_to_string(root().join("ui/theme.slint")).unwrap();
    let mut colours = HashMap::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("out property <color> ") else { continue };
        let (name, value) = rest.split_once(':').unwrap();
        let hex = value.trim().trim_end_matches(';').trim_start_matches('#');
        let channel = |i: usize| f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap());
        colours.insert(name.trim().to_string(), [channel(0), channel(2), channel(4)]);
    }
    colours
}

/// WCAG 2.2 relative luminance of an sRGB colour.
fn luminance(rgb: [f64; 3]) -> f64 {
    let linear = |c: f64| {
        let c = c / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
}

fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn the_contrast_arithmetic_matches_wcags_examples() {
    assert!((contrast([0.0; 3], [255.0; 3]) - 21.0).abs() < 1e-9);
    assert!((contrast([118.0; 3], [255.0; 3]) - 4.54).abs() < 0.01, "#767676 on white");
}

#[test]
fn every_text_colour_reaches_4_5_to_1_on_its_backgrounds() {
    let colours = theme_colours();
    // Which text colour is drawn on which background (pages, the operator's log panel, buttons).
    let mut pairs = Vec::new();
    for text in ["title", "body", "hint", "problem", "success"] {
        pairs.push((text, "page"));
    }
    pairs.extend([("body", "panel"), ("problem", "panel")]);
    for button in ["action", "confirm", "danger", "neutral", "quiet"] {
        pairs.push(("button-text", button));
    }
    let mut report = Vec::new();
    for (text, background) in pairs {
        let ratio = contrast(colours[text], colours[background]);
        report.push(format!("{text} on {background}: {ratio:.2}"));
        assert!(ratio >= 4.5, "{text} on {background}: {ratio:.2}:1 is under 4.5:1");
    }
    eprintln!("accessibility: contrast {}", report.join(", "));
}

#[test]
fn no_touch_target_is_smaller_than_9_mm() {
    // Pixels per millimetre: the Raspberry Pi 7" panel (800×480 on 154.08 × 85.92 mm), which
    // gets the compact theme, and a 10.1" 1280×800 panel (216.96 × 135.6 mm), the densest the
    // normal theme is drawn on.
    let at = |px_per_mm: f64| (9.0 * px_per_mm).ceil();
    let (seven_inch, ten_inch) = (at(800.0 / 154.08), at(1280.0 / 216.96));
    let theme = std::fs::read_to_string(root().join("ui/theme.slint")).unwrap();
    let line = theme
        .lines()
        .find_map(|l| l.trim().strip_prefix("out property <length> touch-min: compact ? "))
        .expect("the theme names its smallest touch target, compact and normal");
    let sizes: Vec<f64> = line
        .trim_end_matches(';')
        .split(':')
        .map(|v| v.trim().trim_end_matches("px").parse().unwrap())
        .collect();
    assert!(
        sizes[0] >= seven_inch,
        "compact touch-min {} px is under 9 mm ({seven_inch} px)",
        sizes[0]
    );
    assert!(sizes[1] >= ten_inch, "touch-min {} px is under 9 mm ({ten_inch} px)", sizes[1]);
    eprintln!(
        "accessibility: touch-min {} px = {:.1} mm on the 7\" panel, {} px = {:.1} mm on a 10.1\" one",
        sizes[0],
        sizes[0] / (800.0 / 154.08),
        sizes[1],
        sizes[1] / (1280.0 / 216.96)
    );
    // No page sets a smaller size of its own.
    for entry in std::fs::read_dir(root().join("ui/pages")).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for property in ["min-height: ", "min-width: "] {
            for value in text.split(property).skip(1) {
                let Some(px) = value.split("px").next().and_then(|v| v.parse::<f64>().ok()) else {
                    continue; // a theme value, checked above
                };
                assert!(
                    px >= ten_inch,
                    "{}: {property}{px}px is under 9 mm",
                    entry.path().display()
                );
            }
        }
    }
}
