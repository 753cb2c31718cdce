//! Compiles the kiosk's Slint markup (`ui/app.slint`) when the `kiosk` feature is on, with the
//! translation catalogues (`ui/translations/<lang>/LC_MESSAGES/facematch.po`) bundled in; and,
//! with the `tflite` feature, puts a copy of the LiteRT library litert-sys links
//! (`LITERT_LIB_DIR`, `.cargo/config.toml`) in this build's output folder, which `cargo run` and
//! `cargo test` put on the library path (a folder outside `target/` they would not). And it gives
//! every linked target the rpath `$ORIGIN`, so a deployed binary finds `libLiteRt.so` beside itself.

fn main() {
    // Here rather than as rustflags in .cargo/config.toml, which would also change the host build's
    // proc-macros and build scripts and keep a cross build from reusing them.
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
    // Run again only for what it reads (and what the branches below name), not for any change.
    println!("cargo:rerun-if-changed=build.rs");
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
    #[cfg(feature = "tflite")]
    litert_beside_the_build();
}

#[cfg(feature = "tflite")]
fn litert_beside_the_build() {
    use std::path::PathBuf;
    println!("cargo:rerun-if-env-changed=LITERT_LIB_DIR");
    let Some(dir) = std::env::var_os("LITERT_LIB_DIR") else {
        panic!("LITERT_LIB_DIR is not set: run scripts/setup.sh (see .cargo/config.toml)");
    };
    let library = PathBuf::from(dir).join("libLiteRt.so");
    println!("cargo:rerun-if-changed={}", library.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    if let Err(e) = std::fs::copy(&library, out.join("libLiteRt.so")) {
        panic!("{}: {e} (run scripts/setup.sh)", library.display());
    }
    println!("cargo:rustc-link-search=native={}", out.display());
}
