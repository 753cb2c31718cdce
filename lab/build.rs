//! Gives the lab's binaries the rpath `$ORIGIN`, as the device crate's build script gives its own:
//! `target/release/facematch-lab` finds the `libLiteRt.so` that `scripts/build.sh` puts beside it.

fn main() {
    println!("cargo:rustc-link-arg=-Wl,-rpath,$ORIGIN");
    // Without it cargo runs this again, and rebuilds the whole lab, whenever any file of it changes.
    println!("cargo:rerun-if-changed=build.rs");
}
