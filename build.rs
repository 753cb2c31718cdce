//! Compiles the kiosk's Slint markup (`ui/app.slint`) when the `kiosk` feature is on, with the
//! translation catalogues (`ui/translations/<lang>/LC_MESSAGES/facematch.po`) bundled in;
//! nothing else.

fn main() {
    #[cfg(feature = "kiosk")]
    {
        // No context: one message id means one thing on every page, and Rust's words
        // (`kiosk::language`) are looked up in the same catalogues.
        let config = slint_build::CompilerConfiguration::new()
            .with_bundled_translations("ui/translations")
            .with_default_translation_context(slint_build::DefaultTranslationContext::None);
        slint_build::compile_with_config("ui/app.slint", config).expect("ui/app.slint compiles");
        println!("cargo:rerun-if-changed=ui/translations");
        println!("cargo:rerun-if-changed=assets/fonts");
    }
}
