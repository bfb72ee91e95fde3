//! The checked-in C header, `ffi/include/dnd.h`, is what cbindgen makes of
//! the crate's source now. `DND_UPDATE_HEADER=1 cargo test -p dnd-ffi --test
//! header` rewrites it.

use std::path::Path;

#[test]
fn the_header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("ffi/cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen reads the crate")
        .write(&mut generated);
    let path = dir.join("include/dnd.h");
    if std::env::var_os("DND_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write ffi/include/dnd.h");
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "ffi/include/dnd.h is not what cbindgen makes of the source now; \
         rewrite it with DND_UPDATE_HEADER=1 cargo test -p dnd-ffi --test header"
    );
    let text = String::from_utf8(generated).expect("UTF-8");
    for name in [
        "dnd_settings_new",
        "dnd_shared_prepare",
        "dnd_prepared_decide_ids",
        "DND_STATUS_BUSY",
        "DND_LAYER_NONE",
    ] {
        assert!(text.contains(name), "the header lacks {name}");
    }
}
