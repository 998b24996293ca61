//! Local checks shared by the requests' `validate`.

use super::{MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use crate::protocol::{InvalidInput, ParseMode};

/// An id must not be empty (or blank).
pub(super) fn id(field: &'static str, value: &str) -> Result<(), InvalidInput> {
    if value.trim().is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    Ok(())
}

/// Text and captions: at most [`MAX_TEXT_CHARS`] characters.
pub(super) fn text(field: &'static str, value: &str) -> Result<(), InvalidInput> {
    at_most(field, value, MAX_TEXT_CHARS)
}

/// At most `max` characters (counted only when the bytes are more).
fn at_most(field: &'static str, value: &str, max: usize) -> Result<(), InvalidInput> {
    // A string never holds more characters than bytes.
    if value.len() <= max {
        return Ok(());
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(InvalidInput::new(
            field,
            format!("{chars} characters, at most {max}"),
        ));
    }
    Ok(())
}

/// Chat titles: not empty, at most [`MAX_TITLE_CHARS`] characters.
pub(super) fn title(field: &'static str, value: &str) -> Result<(), InvalidInput> {
    if value.trim().is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    at_most(field, value, MAX_TITLE_CHARS)
}

/// A parse mode must name a mode: the server never answers a request whose
/// `parseMode` is missing or empty.
pub(super) fn parse_mode(field: &'static str, mode: &ParseMode) -> Result<(), InvalidInput> {
    if mode.as_str().trim().is_empty() {
        return Err(InvalidInput::new(field, "must name a parse mode"));
    }
    Ok(())
}

/// Counts and page sizes start at 1.
pub(super) fn positive(field: &'static str, value: u64) -> Result<(), InvalidInput> {
    if value == 0 {
        return Err(InvalidInput::new(field, "must be at least 1"));
    }
    Ok(())
}
