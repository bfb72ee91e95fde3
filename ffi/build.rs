//! Tells the tests the target they are built for, so that the C test
//! program is compiled (with the cc crate) for the same one.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    println!("cargo:rustc-env=DND_FFI_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
