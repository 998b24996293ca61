//! Shared test helpers.
#![allow(dead_code)]

pub mod http;
pub mod peer;
#[cfg(feature = "emulator")]
pub mod rel;
