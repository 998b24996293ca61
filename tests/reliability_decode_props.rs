//! Property test: thousands of random and mutated frames (from the spec's
//! examples, tests/data/spec_frames.jsonl) through every decoding step the
//! client runs on network input. Nothing may panic. A seeded xorshift
//! generator keeps failures reproducible: the panic message names the seed
//! and case.

include!("data/decode_all.rs");

const SEEDS: &str = include_str!("data/spec_frames.jsonl");

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Tokens worth splicing in: JSON of every type, edge numbers, protocol
/// field names, broken escapes and UTF-8.
const TOKENS: &[&str] = &[
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e309",
    "-0",
    "18446744073709551616",
    "4294967296",
    "1.5",
    "\"\"",
    "\"x\"",
    "[]",
    "{}",
    "[[[[",
    "{{",
    "}",
    "]",
    ",",
    ":",
    "\"type\"",
    "\"id\"",
    "\"method\"",
    "\"payload\"",
    "\"errorCode\"",
    "\"content\"",
    "\"author\"",
    "\"messages\"",
    "\"chatType\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\",
    "\u{feff}",
    "é",
    "\u{10ffff}",
    "1",
    "2",
    "\"1\"",
    "\"2\"",
    " ",
    "\n",
];

/// Replaces every JSON value of `v` at random with a value of another type.
fn swap_types(v: &mut serde_json::Value, rng: &mut Rng) {
    use serde_json::{json, Value};
    let others = [
        Value::Null,
        json!(true),
        json!(-7),
        json!(u64::MAX),
        json!(1.25),
        json!("s"),
        json!("12"),
        json!([]),
        json!({}),
        json!([{"type": 1}]),
    ];
    match v {
        Value::Object(map) => {
            for (_, child) in map.iter_mut() {
                if rng.below(4) == 0 {
                    *child = rng.pick(&others).clone();
                } else {
                    swap_types(child, rng);
                }
            }
        }
        Value::Array(items) => {
            for child in items.iter_mut() {
                swap_types(child, rng);
            }
        }
        _ => {
            if rng.below(3) == 0 {
                *v = rng.pick(&others).clone();
            }
        }
    }
}

/// Nests the frame's payload (or the frame) inside itself.
fn nest(text: &str, rng: &mut Rng) -> String {
    let depth = 1 + rng.below(200);
    match rng.below(3) {
        0 => format!("{}{}{}", "[".repeat(depth), text, "]".repeat(depth)),
        1 => format!(
            "{{\"type\":1,\"id\":1,\"method\":\"sendMessage\",\"payload\":{}{}{}}}",
            "{\"content\":".repeat(depth),
            text,
            "}".repeat(depth)
        ),
        _ => {
            let mut s = String::new();
            for _ in 0..depth {
                s.push_str("{\"type\":201,\"content\":");
            }
            s.push_str(text);
            s.push_str(&"}".repeat(depth));
            s
        }
    }
}

fn mutate(seed: &str, seeds: &[&str], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(9) {
            // Flip bits.
            0 => {
                for _ in 0..1 + rng.below(8) {
                    if !bytes.is_empty() {
                        let i = rng.below(bytes.len());
                        bytes[i] ^= 1 << rng.below(8);
                    }
                }
            }
            // Overwrite a byte with anything.
            1 => {
                if !bytes.is_empty() {
                    let i = rng.below(bytes.len());
                    bytes[i] = rng.next() as u8;
                }
            }
            // Truncate.
            2 => {
                let at = rng.below(bytes.len() + 1);
                bytes.truncate(at);
            }
            // Splice with another frame.
            3 => {
                let other = rng.pick(seeds).as_bytes();
                let at = rng.below(bytes.len() + 1);
                let from = rng.below(other.len() + 1);
                bytes.truncate(at);
                bytes.extend_from_slice(&other[from..]);
            }
            // Insert a token.
            4 => {
                let at = rng.below(bytes.len() + 1);
                let token = rng.pick(TOKENS).as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            // Delete a range.
            5 => {
                if !bytes.is_empty() {
                    let a = rng.below(bytes.len());
                    let b = (a + 1 + rng.below(16)).min(bytes.len());
                    bytes.drain(a..b);
                }
            }
            // Swap value types while keeping valid JSON.
            6 => {
                if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                    swap_types(&mut v, rng);
                    bytes = v.to_string().into_bytes();
                }
            }
            // Nest.
            7 => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                bytes = nest(&text, rng).into_bytes();
            }
            // Duplicate a range.
            _ => {
                if !bytes.is_empty() {
                    let a = rng.below(bytes.len());
                    let b = (a + 1 + rng.below(64)).min(bytes.len());
                    let chunk = bytes[a..b].to_vec();
                    bytes.splice(b..b, chunk);
                }
            }
        }
    }
    bytes
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(256);
    let alphabet = b"{}[]\":,0123456789.-eEtrufalsn \\u\"typeidmethodpayload";
    (0..len)
        .map(|_| {
            if rng.below(4) == 0 {
                rng.next() as u8
            } else {
                *rng.pick(alphabet)
            }
        })
        .collect()
}

fn check(case: &[u8], what: &str) {
    let text = String::from_utf8_lossy(case);
    let outcome = std::panic::catch_unwind(|| decode_all(&text));
    if outcome.is_err() {
        panic!("decoding panicked on {what}: {text:?}");
    }
}

#[test]
fn the_spec_examples_decode_without_panicking() {
    let seeds: Vec<&str> = SEEDS.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(seeds.len() >= 30);
    for seed in &seeds {
        trueconf_bot::protocol::frame::Frame::parse(seed).expect("a spec example is a frame");
        check(seed.as_bytes(), "a seed");
    }
}

#[test]
fn mutated_and_random_frames_never_panic() {
    let seeds: Vec<&str> = SEEDS.lines().filter(|l| !l.trim().is_empty()).collect();
    let base: u64 = std::env::var("DECODE_PROPS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_f00d_cafe_d00d);
    let cases: usize = std::env::var("DECODE_PROPS_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5_000);
    let mut rng = Rng(base | 1);
    for n in 0..cases {
        let case = if n % 5 == 4 {
            random_bytes(&mut rng)
        } else {
            let seed = *rng.pick(&seeds);
            mutate(seed, &seeds, &mut rng)
        };
        check(&case, &format!("case {n} of seed {base}"));
    }
}
