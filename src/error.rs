//! The crate's error type.

use crate::protocol::InvalidInput;
use std::fmt;
use std::time::Duration;

/// A shorthand for `Result<T, trueconf_bot::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to a TrueConf server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered the request with an `errorCode`.
    #[error("{method} failed: {code}")]
    Api {
        /// The method that failed.
        method: String,
        /// The error code, named when it is a known one.
        code: ApiErrorCode,
    },
    /// A limit ran out before the operation finished.
    #[error("{kind} timed out after {after:?}")]
    Timeout {
        /// Which limit fired.
        kind: TimeoutKind,
        /// The limit's length.
        after: Duration,
    },
    /// The client was closed (or dropped) before or while waiting.
    #[error("the client is closed")]
    Closed,
    /// The connection broke while the request was in flight: the server may
    /// or may not have applied it.
    #[error("connection lost while {method} was in flight; its outcome is unknown")]
    ConnectionLost {
        /// The method whose outcome is unknown.
        method: String,
    },
    /// The connection could not be established or was lost.
    #[error("connection failed: {0}")]
    Connect(String),
    /// A TLS failure (an untrusted certificate, a handshake error). A CA
    /// file or PEM that cannot be used is [`Error::Config`].
    #[error("TLS error: {0}")]
    Tls(String),
    /// A socket or file I/O error.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// An HTTP request got an unexpected status.
    #[error("HTTP {status} from {url}{}", colon_then(.body))]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The URL requested (without query secrets).
        url: String,
        /// The start of the response body.
        body: String,
    },
    /// The OAuth token endpoint refused the credentials or the request.
    #[error("authentication refused: {error}: {description}")]
    OAuth {
        /// The OAuth error, e.g. `invalid_grant` (typed by
        /// [`Error::oauth_error`]).
        error: String,
        /// The server's human-readable description.
        description: String,
    },
    /// The server sent something that could not be decoded (including an
    /// answer whose `errorCode` is not a code: the request failed, but how
    /// is unknown).
    #[error("could not decode {what}: {reason}; received: {raw}")]
    Decode {
        /// What was being decoded.
        what: String,
        /// Why it failed.
        reason: String,
        /// The raw JSON received (truncated for display).
        raw: String,
    },
    /// The request was rejected locally before sending.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// A file operation failed: not available, over the upload limits, a
    /// size mismatch, an upload or download the server refused.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    /// A configuration value is unusable (bad URL, unreadable CA file...).
    #[error("configuration error: {0}")]
    Config(String),
}

/// `": text"`, or nothing for empty text.
fn colon_then(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

impl Error {
    /// The API error code, when the server answered with one (over the
    /// WebSocket, or in the body of a refused upload or download).
    pub fn api_code(&self) -> Option<ApiErrorCode> {
        match self {
            Error::Api { code, .. } => Some(*code),
            Error::File(e) => e.api_code(),
            _ => None,
        }
    }

    /// The OAuth error, typed, when the token endpoint refused the request
    /// (e.g. [`OAuthError::InvalidGrant`](crate::protocol::OAuthError::InvalidGrant)
    /// for a wrong password).
    pub fn oauth_error(&self) -> Option<crate::protocol::OAuthError> {
        match self {
            Error::OAuth { error, .. } => Some(crate::protocol::OAuthError::from_wire(error)),
            _ => None,
        }
    }

    /// Builds a decode error keeping (a bounded prefix of) the raw JSON.
    pub fn decode(what: impl Into<String>, reason: impl fmt::Display, raw: &str) -> Error {
        const KEEP: usize = 2048;
        let raw = crate::secret::redact(raw);
        let raw = raw.as_ref();
        let raw = if raw.len() > KEEP {
            let mut end = KEEP;
            while !raw.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}... ({} bytes)", &raw[..end], raw.len())
        } else {
            raw.to_string()
        };
        Error::Decode {
            what: what.into(),
            reason: reason.to_string(),
            raw,
        }
    }
}

/// Which limit fired in an [`Error::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Establishing TCP, TLS and the WebSocket handshake (also the
    /// connection of an HTTP call: the token request, an upload or a
    /// download).
    Connect,
    /// The `auth` request (and the OAuth token request).
    Auth,
    /// Waiting for a response to a request. Like
    /// [`Error::ConnectionLost`], it leaves the outcome unknown: the request
    /// may have been carried out (it was sent and only its answer was
    /// late), or never sent (the wait for a connection ran out). Check
    /// before repeating one that must not happen twice.
    Request,
    /// Waiting for a file to finish uploading on the server.
    FileReady,
    /// An HTTP transfer (upload or download).
    Http,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connecting",
            TimeoutKind::Auth => "authentication",
            TimeoutKind::Request => "the request",
            TimeoutKind::FileReady => "waiting for the file upload",
            TimeoutKind::Http => "the HTTP transfer",
        })
    }
}

macro_rules! api_error_codes {
    ($($name:ident = $code:literal, $text:literal;)*) => {
        /// An `errorCode` from the server, named when known.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ApiErrorCode {
            $(
                #[doc = concat!($code, ": ", $text, ".")]
                $name,
            )*
            /// A code this library does not know.
            Unknown(u32),
        }

        impl ApiErrorCode {
            /// The code for a number.
            pub fn from_code(code: u32) -> Self {
                match code {
                    $($code => ApiErrorCode::$name,)*
                    other => ApiErrorCode::Unknown(other),
                }
            }
            /// The number on the wire.
            pub fn code(self) -> u32 {
                match self {
                    $(ApiErrorCode::$name => $code,)*
                    ApiErrorCode::Unknown(c) => c,
                }
            }
            /// What the code means, in words.
            pub fn description(self) -> &'static str {
                match self {
                    $(ApiErrorCode::$name => $text,)*
                    ApiErrorCode::Unknown(_) => "unknown error code",
                }
            }
        }
    };
}

api_error_codes! {
    InvalidRequestId = 2, "request id repeated or lower than a previous one";
    ConnectionError = 100, "connection error";
    ConnectionTimeout = 101, "connection timeout";
    TlsError = 102, "TLS/SSL error";
    UnsupportedProtocol = 103, "unsupported protocol";
    RouteNotFound = 104, "route not found";
    NotAuthorized = 200, "not authorized";
    InvalidCredentials = 201, "invalid credentials";
    UserDisabled = 202, "user disabled";
    CredentialsExpired = 203, "credentials expired";
    UnsupportedCredentials = 204, "unsupported credentials";
    InternalError = 300, "internal server error";
    OperationTimeout = 301, "operation timeout";
    AccessDenied = 302, "access denied";
    NotEnoughRights = 303, "not enough rights";
    ChatNotFound = 304, "chat not found";
    NotChatParticipant = 305, "user is not a chat participant";
    MessageNotFound = 306, "message not found";
    UnknownMessage = 307, "unknown message";
    FileNotFound = 308, "file not found";
    UserAlreadyInChat = 309, "user already in chat";
    FileUploadFailed = 310, "file upload failed";
    FileNotReady = 311, "file not ready";
    RoleNotFound = 312, "role not found";
    WrongPayloadFormat = 399, "wrong payload format";
    UnknownFileError = 400, "unknown file error";
    NotEnoughSpace = 401, "not enough space";
    BadFileName = 402, "bad file name";
    FileUploadForbidden = 403, "file upload forbidden";
    UploadFileNotFound = 404, "file not found";
    UploadFileNotReady = 405, "file not ready";
    MaxFileSizeExceeded = 406, "maximum file size exceeded";
    UploadTaskNotFound = 407, "upload task not found";
    InvalidFile = 408, "invalid file";
}

impl fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {} ({})", self.code(), self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_error_shows_its_body_only_when_there_is_one() {
        let e = |body: &str| Error::Http {
            status: 404,
            url: "http://h/oauth/token".into(),
            body: body.into(),
        };
        assert_eq!(e("").to_string(), "HTTP 404 from http://h/oauth/token");
        assert_eq!(
            e("no such page").to_string(),
            "HTTP 404 from http://h/oauth/token: no such page"
        );
    }

    #[test]
    fn codes_round_trip_and_read_well() {
        for c in [2, 100, 104, 200, 203, 204, 300, 312, 399, 400, 408] {
            let code = ApiErrorCode::from_code(c);
            assert!(!matches!(code, ApiErrorCode::Unknown(_)), "{c}");
            assert_eq!(code.code(), c);
        }
        assert_eq!(ApiErrorCode::from_code(777), ApiErrorCode::Unknown(777));
        let e = Error::Api {
            method: "getChatByID".into(),
            code: ApiErrorCode::ChatNotFound,
        };
        assert_eq!(
            e.to_string(),
            "getChatByID failed: error 304 (chat not found)"
        );
    }

    #[test]
    fn decode_errors_keep_bounded_raw_json() {
        let raw = "x".repeat(5000);
        let Error::Decode { raw: kept, .. } = Error::decode("frame", "bad", &raw) else {
            unreachable!()
        };
        assert!(kept.len() < 2100 && kept.ends_with("(5000 bytes)"));
    }
}
