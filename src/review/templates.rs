//! The review page's HTML: minijinja templates kept in `assets/review/` and built into the
//! binary, escaped for HTML by default (every value a device or a member of staff wrote is
//! text, never markup), their words in the request's language (`{{ "Queue"|t }}`).

use minijinja::Environment;
use serde::Serialize;

/// The templates, each under its file name.
const TEMPLATES: [(&str, &str); 6] = [
    ("base.html", include_str!("../../assets/review/base.html")),
    ("signin.html", include_str!("../../assets/review/signin.html")),
    ("queue.html", include_str!("../../assets/review/queue.html")),
    ("item.html", include_str!("../../assets/review/item.html")),
    ("fleet.html", include_str!("../../assets/review/fleet.html")),
    ("error.html", include_str!("../../assets/review/error.html")),
];

/// The page's style sheet, served at `/review.css` (the pages allow no inline style).
pub const STYLE: &str = include_str!("../../assets/review/review.css");

/// The loaded templates.
pub struct Templates(Environment<'static>);

impl Templates {
    /// Loads every template.
    ///
    /// # Errors
    /// A template does not parse (a build that ships one is caught by the tests).
    pub fn load() -> Result<Templates, minijinja::Error> {
        let mut env = Environment::new();
        env.add_filter("t", super::words::filter);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Templates(env))
    }

    /// `name` rendered with `page`, in the language of the request being answered (`lang`, and
    /// the `t` filter's words).
    ///
    /// # Errors
    /// The template is missing or fails on these values.
    pub fn render(&self, name: &str, page: &impl Serialize) -> Result<String, minijinja::Error> {
        let lang = super::words::current().code();
        let page = minijinja::Value::from(minijinja::value::Serde(page));
        self.0.get_template(name)?.render(minijinja::context! { lang, ..page })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_what_a_device_sent_is_shown_as_text() {
        let templates = Templates::load().unwrap();
        let page = serde_json::json!({
            "staff": "alice", "csrf": "t", "page": "error",
            "title": "Not found", "message": "<script>alert(1)</script>"
        });
        let html = templates.render("error.html", &page).unwrap();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }
}
