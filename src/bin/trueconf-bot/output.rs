//! Results on stdout as JSON lines; input from stdin.

use crate::failure::Failure;
use serde::Serialize;
use std::io::{self, Read, Write};

/// Writes one JSON value and a newline to stdout, and flushes, so a reader
/// sees each line as soon as it is produced.
pub fn emit<T: Serialize + ?Sized>(value: &T) -> Result<(), Failure> {
    let line = serde_json::to_string(value)
        .map_err(|e| Failure::usage(format_args!("cannot encode the result: {e}")))?;
    let mut out = io::stdout().lock();
    let written = out
        .write_all(line.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Failure::stdout_closed()),
        Err(e) => Err(Failure::usage(format_args!("cannot write to stdout: {e}"))),
    }
}

/// `value` itself, or all of stdin when it is `-` (without one trailing
/// newline, as `echo` and heredocs add it).
pub fn arg_or_stdin(value: String) -> Result<String, Failure> {
    if value != "-" {
        return Ok(value);
    }
    let mut text = String::new();
    io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::usage(format_args!("cannot read stdin: {e}")))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

/// A line for the person at the terminal (stderr).
pub fn note(message: impl std::fmt::Display) {
    let message = terminal_safe(&message.to_string());
    let _ = writeln!(io::stderr().lock(), "trueconf-bot: {message}");
}

/// `text` with control characters (which a server's words in an error
/// could use to drive the terminal) written as escapes such as `\u{1b}`.
fn terminal_safe(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            safe.extend(c.escape_default());
        } else {
            safe.push(c);
        }
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_cannot_drive_the_terminal() {
        assert_eq!(
            terminal_safe("refused: \u{1b}[2Jgone\r\nok é"),
            "refused: \\u{1b}[2Jgone\\r\\nok é"
        );
    }
}
