//! Secrets (passwords, tokens) that never reach `Debug`, `Display` or logs.

use std::borrow::Cow;
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

/// JSON fields whose string values are secrets (an echoed `auth` request or
/// token answer), in lower case: they are matched against the text in lower
/// case, so `accessToken` is found too.
const SECRET_FIELDS: [&str; 6] = [
    "\"token\"",
    "\"access_token\"",
    "\"accesstoken\"",
    "\"refresh_token\"",
    "\"refreshtoken\"",
    "\"password\"",
];

/// `text` (a URL, a server's error body, a frame) with the secrets it may
/// quote replaced by `***`: the values of secret URL query parameters and
/// of secret JSON string fields.
pub fn redact(text: &str) -> Cow<'_, str> {
    match redact_query_params(text) {
        Cow::Borrowed(text) => redact_json_fields(text),
        Cow::Owned(text) => Cow::Owned(redact_json_fields(&text).into_owned()),
    }
}

/// `text` with every occurrence of `secret` (a token the client holds, say)
/// replaced by `***`, wherever it is quoted.
pub fn without<'a>(text: &'a str, secret: &str) -> Cow<'a, str> {
    match !secret.is_empty() && text.contains(secret) {
        true => Cow::Owned(text.replace(secret, "***")),
        false => Cow::Borrowed(text),
    }
}

/// A URL for `Debug` output (download and avatar URLs may carry a token),
/// with secret query values hidden.
pub fn shown_url(url: &Option<String>) -> Option<Cow<'_, str>> {
    url.as_deref().map(redact)
}

/// The values of secret query parameters, after `?`, `&` or a `&` escaped
/// in JSON (`\u0026`).
fn redact_query_params(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !SECRET_PARAMS.iter().any(|p| lower.contains(p)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let starts_param = i == 0
            || matches!(text.as_bytes()[i - 1], b'?' | b'&')
            || lower.as_bytes()[..i].ends_with(b"\\u0026");
        let hit = if starts_param {
            SECRET_PARAMS
                .iter()
                .find(|p| lower.as_bytes()[i..].starts_with(p.as_bytes()))
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
    Cow::Owned(out)
}

/// The string values of secret JSON fields (`"token": "..."`).
fn redact_json_fields(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !SECRET_FIELDS.iter().any(|f| lower.contains(f)) {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let skip_space = |mut j: usize| {
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let field = SECRET_FIELDS
            .iter()
            .find(|f| lower.as_bytes()[i..].starts_with(f.as_bytes()));
        let Some(field) = field else {
            i += 1;
            continue;
        };
        let colon = skip_space(i + field.len());
        if bytes.get(colon) != Some(&b':') {
            i += field.len();
            continue;
        }
        let quote = skip_space(colon + 1);
        if bytes.get(quote) != Some(&b'"') {
            i = quote;
            continue;
        }
        // Every position cut at is an ASCII quote or the end: a character
        // boundary.
        out.push_str(&text[copied..=quote]);
        out.push_str("***");
        let mut end = quote + 1;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        copied = end.min(bytes.len());
        i = copied;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_secrets_are_redacted() {
        let url = r#"{"downloadUrl":"https://10.0.0.1/files?file_id=abc&token=s3cr3t","x":"ü"}"#;
        let shown = redact(url);
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("file_id=abc&token=***\""), "{shown}");
        assert!(shown.ends_with(r#""x":"ü"}"#));
        assert_eq!(redact("no secrets"), "no secrets");
        assert_eq!(redact("?TOKEN=a&b=c"), "?TOKEN=***&b=c");
        assert_eq!(redact("mytoken=x"), "mytoken=x");
        // A `&` escaped in JSON still separates parameters.
        assert_eq!(
            redact(r#""https://h/f?id=1\u0026token=esc""#),
            r#""https://h/f?id=1\u0026token=***""#
        );
    }

    #[test]
    fn json_secrets_are_redacted() {
        let echoed = r#"{"grant_type":"password","password" : "pw\"1","username":"bot"}"#;
        assert_eq!(
            redact(echoed),
            r#"{"grant_type":"password","password" : "***","username":"bot"}"#
        );
        assert_eq!(
            redact(r#"{"ACCESS_TOKEN":"eyJ.x.y","token_type":"JWE"}"#),
            r#"{"ACCESS_TOKEN":"***","token_type":"JWE"}"#
        );
        assert_eq!(
            redact(r#"{"accessToken":"a","refreshToken":"r"}"#),
            r#"{"accessToken":"***","refreshToken":"***"}"#
        );
        // Cut short, or not a string: nothing is shown, or nothing to hide.
        assert_eq!(redact(r#"{"token":"eyJ.x"#), r#"{"token":"***"#);
        assert_eq!(
            redact(r#"{"token":null,"ü":"token"}"#),
            r#"{"token":null,"ü":"token"}"#
        );
        // Both kinds at once.
        assert_eq!(
            redact(r#"{"token":"t","url":"/f?token=u"}"#),
            r#"{"token":"***","url":"/f?token=***"}"#
        );
    }

    #[test]
    fn a_known_secret_is_hidden_wherever_it_is_quoted() {
        assert_eq!(
            without(r#"{"message":"bad token tok-1 (tok-1)"}"#, "tok-1"),
            r#"{"message":"bad token *** (***)"}"#
        );
        assert_eq!(without("nothing here", "tok-1"), "nothing here");
        assert_eq!(
            without("an empty secret hides nothing", ""),
            "an empty secret hides nothing"
        );
    }

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "\"***\"");
        assert_eq!(s.expose(), "hunter2");
    }
}
