//! Survey (poll) message content, and helpers that fill it the way the
//! server's web client expects (spec section 9).
//!
//! A survey message points at a survey campaign of the server's web tools.
//! [`SurveyContent::build`] fills every field from the server address, the
//! campaign id (`path`), the title and the anonymity flag:
//!
//! - `url`: `https://<server>/webtools/survey`, `appVersion`: 1;
//! - `description`: `{{Survey}}` or `{{Anonymous survey}}`;
//! - `buttonText`: `{{Go to survey}}`;
//! - `secret`: SHA-1 (hex) of the title followed by a random string;
//! - `alt`: a fallback link, written exactly as the official SDK and the
//!   spec's example write it:
//!   `📊 <a href='<url>?id=<path>&error=autologin_not_supported'><title></a>`
//!   with the path and title HTML-escaped.

use super::text::escape_html;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// The `description` of a survey whose answers carry the user's name.
pub const SURVEY_DESCRIPTION: &str = "{{Survey}}";
/// The `description` of an anonymous survey.
pub const ANONYMOUS_SURVEY_DESCRIPTION: &str = "{{Anonymous survey}}";
/// The `buttonText` of every survey.
pub const SURVEY_BUTTON_TEXT: &str = "{{Go to survey}}";
/// The survey application version the server expects.
pub const SURVEY_APP_VERSION: u32 = 1;

fn default_app_version() -> u32 {
    SURVEY_APP_VERSION
}

/// The content of a survey message: sent by `sendSurvey`, received in
/// envelopes of type 204.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SurveyContent {
    /// The survey tool's address, `https://<server>/webtools/survey`.
    pub url: String,
    /// The survey application version (1).
    #[serde(
        default = "default_app_version",
        deserialize_with = "super::lenient::u32_any"
    )]
    pub app_version: u32,
    /// The survey campaign id.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub path: String,
    /// The survey title.
    pub title: String,
    /// `{{Survey}}` or `{{Anonymous survey}}`.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub description: String,
    /// `{{Go to survey}}`.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub button_text: String,
    /// SHA-1 (hex) of the title and a random string.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub secret: String,
    /// The fallback HTML link shown by clients that cannot open surveys.
    #[serde(default, deserialize_with = "super::lenient::null_default")]
    pub alt: String,
}

impl SurveyContent {
    /// Fills a survey for campaign `path` on `server` (a host name such as
    /// `video.example.com`, or a URL whose scheme is then kept), with a fresh
    /// random secret.
    pub fn build(server: &str, path: &str, title: &str, anonymous: bool) -> SurveyContent {
        SurveyContent::build_with_salt(server, path, title, anonymous, &random_salt())
    }

    /// Like [`SurveyContent::build`], with the secret's random string given.
    pub fn build_with_salt(
        server: &str,
        path: &str,
        title: &str,
        anonymous: bool,
        salt: &str,
    ) -> SurveyContent {
        let url = survey_url(server);
        SurveyContent {
            alt: survey_alt(&url, path, title),
            url,
            app_version: SURVEY_APP_VERSION,
            path: path.to_string(),
            title: title.to_string(),
            description: survey_description(anonymous).to_string(),
            button_text: SURVEY_BUTTON_TEXT.to_string(),
            secret: survey_secret(title, salt),
        }
    }
}

/// The content of an `editSurvey` request: the survey fields that can change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditSurveyContent {
    /// The survey campaign id.
    pub path: String,
    /// The survey title.
    pub title: String,
    /// `{{Survey}}` or `{{Anonymous survey}}`.
    #[serde(default)]
    pub description: String,
    /// `{{Go to survey}}`.
    #[serde(default)]
    pub button_text: String,
    /// The fallback HTML link.
    #[serde(default)]
    pub alt: String,
}

impl EditSurveyContent {
    /// Fills the new survey fields for campaign `path` on `server`.
    pub fn build(server: &str, path: &str, title: &str, anonymous: bool) -> EditSurveyContent {
        EditSurveyContent {
            alt: survey_alt(&survey_url(server), path, title),
            path: path.to_string(),
            title: title.to_string(),
            description: survey_description(anonymous).to_string(),
            button_text: SURVEY_BUTTON_TEXT.to_string(),
        }
    }
}

/// `https://<server>/webtools/survey`; a scheme given in `server` is kept and
/// a trailing slash dropped.
pub fn survey_url(server: &str) -> String {
    let server = server.trim().trim_end_matches('/');
    if server.starts_with("https://") || server.starts_with("http://") {
        format!("{server}/webtools/survey")
    } else {
        format!("https://{server}/webtools/survey")
    }
}

/// The survey's `description` marker.
pub fn survey_description(anonymous: bool) -> &'static str {
    if anonymous {
        ANONYMOUS_SURVEY_DESCRIPTION
    } else {
        SURVEY_DESCRIPTION
    }
}

/// The fallback link: `📊 <a href='<url>?id=<path>&error=autologin_not_supported'><title></a>`.
pub fn survey_alt(url: &str, path: &str, title: &str) -> String {
    format!(
        "📊 <a href='{}?id={}&error=autologin_not_supported'>{}</a>",
        escape_html(url),
        escape_html(path),
        escape_html(title)
    )
}

/// SHA-1 (lower-case hex) of `title` followed by `salt`.
pub fn survey_secret(title: &str, salt: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(title.as_bytes());
    hasher.update(salt.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A random string without extra dependencies: std's randomly keyed hasher
/// over the clock and a counter.
fn random_salt() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut first = RandomState::new().build_hasher();
    first.write_u64(count);
    first.write_u128(nanos);
    let second = RandomState::new().hash_one((count, nanos));
    format!("{:016x}{:016x}", first.finish(), second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_fills_the_spec_example() {
        let s = SurveyContent::build_with_salt(
            "server.url",
            "employee_testing",
            "Employee survey",
            false,
            "salt",
        );
        assert_eq!(s.url, "https://server.url/webtools/survey");
        assert_eq!(s.app_version, 1);
        assert_eq!(s.description, "{{Survey}}");
        assert_eq!(s.button_text, "{{Go to survey}}");
        // The spec example's alt, line breaks of the PDF removed.
        assert_eq!(
            s.alt,
            "📊 <a href='https://server.url/webtools/survey?id=employee_testing&error=autologin_not_supported'>Employee survey</a>"
        );
        assert_eq!(s.secret, survey_secret("Employee survey", "salt"));
        assert_eq!(s.secret.len(), 40);
        assert!(s.secret.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn secret_is_sha1_of_title_and_salt() {
        // sha1("abc") is a well-known test vector.
        assert_eq!(
            survey_secret("ab", "c"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let a = SurveyContent::build("h", "p", "t", true);
        let b = SurveyContent::build("h", "p", "t", true);
        assert_ne!(a.secret, b.secret, "random part differs");
        assert_eq!(a.description, "{{Anonymous survey}}");
    }

    #[test]
    fn urls_and_titles_are_normalised_and_escaped() {
        assert_eq!(
            survey_url("https://srv.example/"),
            "https://srv.example/webtools/survey"
        );
        assert_eq!(
            survey_url("http://srv:8080"),
            "http://srv:8080/webtools/survey"
        );
        let e = EditSurveyContent::build("srv", "p1", "<Q&A>", false);
        assert_eq!(
            e.alt,
            "📊 <a href='https://srv/webtools/survey?id=p1&error=autologin_not_supported'>&lt;Q&amp;A&gt;</a>"
        );
        assert_eq!(e.title, "<Q&A>");
    }

    #[test]
    fn received_surveys_tolerate_missing_fields() {
        let s: SurveyContent =
            serde_json::from_str(r#"{"url":"u","title":"t","secret":null}"#).unwrap();
        assert_eq!(
            (s.app_version, s.secret.as_str(), s.path.as_str()),
            (1, "", "")
        );
    }
}
