//! The checked-in C header matches what cbindgen generates from src/ffi/.
//! After changing the C ABI, regenerate it with
//! `TCB_BLESS_HEADER=1 cargo test --features ffi --test ffi_header`.
#![cfg(feature = "ffi")]

use std::path::Path;

#[test]
fn checked_in_header_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("read cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("header is UTF-8");

    let path = root.join("include/trueconf_bot.h");
    if std::env::var_os("TCB_BLESS_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write the header");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "include/trueconf_bot.h is stale: regenerate it with \
         `TCB_BLESS_HEADER=1 cargo test --features ffi --test ffi_header` \
         and commit it"
    );
}
