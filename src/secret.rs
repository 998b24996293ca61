//! Secrets (passwords, tokens) that never reach `Debug`, `Display` or logs.

use std::fmt;

/// A string that prints as `"***"`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for putting on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

/// Query parameters whose values are secrets (download URLs carry a token).
const SECRET_PARAMS: [&str; 4] = ["token=", "access_token=", "password=", "secret="];

/// `text` with the values of secret URL query parameters replaced by `***`.
pub fn redact_query_secrets(text: &str) -> std::borrow::Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !SECRET_PARAMS.iter().any(|p| lower.contains(p)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let starts_param = i == 0 || matches!(text.as_bytes()[i - 1], b'?' | b'&');
        let hit = if starts_param {
            SECRET_PARAMS.iter().find(|p| lower[i..].starts_with(*p))
        } else {
            None
        };
        match hit {
            Some(param) => {
                out.push_str(&text[i..i + param.len()]);
                out.push_str("***");
                i += param.len();
                while i < text.len()
                    && !matches!(
                        text.as_bytes()[i],
                        b'&' | b'"' | b'#' | b' ' | b'\'' | b'\\'
                    )
                {
                    i += 1;
                }
            }
            None => {
                let ch = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[i..i + ch]);
                i += ch;
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_secrets_are_redacted() {
        let url = r#"{"downloadUrl":"https://10.0.0.1/files?file_id=abc&token=s3cr3t","x":"ü"}"#;
        let shown = redact_query_secrets(url);
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("file_id=abc&token=***\""), "{shown}");
        assert!(shown.ends_with(r#""x":"ü"}"#));
        assert_eq!(redact_query_secrets("no secrets"), "no secrets");
        assert_eq!(redact_query_secrets("?TOKEN=a&b=c"), "?TOKEN=***&b=c");
        assert_eq!(redact_query_secrets("mytoken=x"), "mytoken=x");
    }

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "\"***\"");
        assert_eq!(s.expose(), "hunter2");
    }
}
