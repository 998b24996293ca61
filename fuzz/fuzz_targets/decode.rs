//! Frame parsing, event decoding and response decoding on arbitrary bytes:
//! the same steps as the property test (tests/data/decode_all.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../../tests/data/decode_all.rs");

fuzz_target!(|data: &[u8]| {
    // The WebSocket layer hands over only valid UTF-8 text frames; lossy
    // conversion keeps invalid inputs useful instead of discarding them.
    let text = String::from_utf8_lossy(data);
    decode_all(&text);
});
