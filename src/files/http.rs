//! The HTTP side of files: per-transfer timeouts, URLs safe to show, and
//! the server's refusals as typed errors.

use super::error::{FileError, Transfer};
use crate::auth::{http_error, http_status, HttpLimits};
use crate::connection::Inner;
use crate::error::{ApiErrorCode, Error};
use std::io::Read;
use std::time::Duration;

/// The upload endpoint.
pub(crate) const FILES_PATH: &str = "/bridge/api/client/v1/files";

/// The most of an error body that is read.
pub(crate) const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// A URL without its query string, which may hold a token.
pub(crate) fn shown(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// A transfer's body that stops at its next read once the client is
/// closed: [`Client::close`](crate::Client::close) ends transfers under way
/// as it ends calls.
pub(crate) struct UntilClosed<'a, R> {
    reader: R,
    inner: &'a Inner,
    /// The client was closed: the transfer was stopped.
    pub(crate) stopped: bool,
}

impl<'a, R> UntilClosed<'a, R> {
    pub(crate) fn new(reader: R, inner: &'a Inner) -> Self {
        UntilClosed {
            reader,
            inner,
            stopped: false,
        }
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.reader
    }

    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }
}

impl<R: Read> Read for UntilClosed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.inner.is_shutdown() {
            self.stopped = true;
            return Err(std::io::Error::other("the client was closed"));
        }
        self.reader.read(buf)
    }
}

/// A ureq error as the crate's error, naming the URL without its query.
pub(crate) fn transport_error(e: ureq::Error, url: &str, limits: HttpLimits) -> Error {
    http_error(e, shown(url), limits)
}

/// An I/O error while a body moves: a timeout as [`Error::Timeout`] (ureq
/// reports its own inside an I/O error), the rest as they are.
pub(crate) fn body_error(e: std::io::Error, timeout: Duration) -> Error {
    let ureq_timeout = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)));
    if e.kind() == std::io::ErrorKind::TimedOut || ureq_timeout {
        Error::Timeout {
            kind: crate::error::TimeoutKind::Http,
            after: timeout,
        }
    } else {
        Error::Io(e)
    }
}

/// An unsuccessful HTTP answer: [`FileError::Refused`] when the body is the
/// server's `{"error": code, "error_description": text}`, otherwise
/// [`Error::Http`].
pub(crate) fn refusal(transfer: Transfer, status: u16, body: &str, url: &str) -> Error {
    #[derive(serde::Deserialize)]
    struct Refused {
        #[serde(deserialize_with = "crate::protocol::lenient::u32_any")]
        error: u32,
        #[serde(default)]
        error_description: Option<String>,
    }
    // The spec's example has a trailing comma: tolerate it.
    let cleaned = body.trim().replace(",\n}", "\n}").replace(",}", "}");
    match serde_json::from_str::<Refused>(&cleaned) {
        Ok(r) => FileError::Refused {
            transfer,
            status,
            code: ApiErrorCode::from_code(r.error),
            description: crate::auth::excerpt(&r.error_description.unwrap_or_default()),
        }
        .into(),
        Err(_) => http_status(status, url, body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_the_code_and_description() {
        let e = refusal(
            Transfer::Upload,
            400,
            "{\n  \"error\": 310,\n  \"error_description\": \"No upload task ID provided\",\n}",
            "http://h/x",
        );
        assert_eq!(e.api_code(), Some(ApiErrorCode::FileUploadFailed));
        assert!(e.to_string().contains("No upload task ID provided"), "{e}");
        let e = refusal(
            Transfer::Download,
            502,
            "<html>bad gateway",
            "http://h/f?token=s",
        );
        match e {
            Error::Http { status, url, .. } => {
                assert_eq!((status, url.as_str()), (502, "http://h/f"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(shown("https://h/f?file_id=1&token=s"), "https://h/f");
        // A description that quotes the URL with its token.
        let quoting =
            r#"{"error": 308, "error_description": "no file at /files?file_id=f&token=s3cr3t"}"#;
        let e = refusal(Transfer::Download, 404, quoting, "http://h/x");
        let shown = format!("{e} {e:?}");
        assert!(
            !shown.contains("s3cr3t") && shown.contains("token=***"),
            "{shown}"
        );
    }

    #[test]
    fn a_timeout_inside_an_io_error_is_a_timeout() {
        let limit = Duration::from_secs(3);
        let wrapped = std::io::Error::other(ureq::Error::Timeout(ureq::Timeout::RecvBody));
        assert!(matches!(
            body_error(wrapped, limit),
            Error::Timeout { kind: crate::error::TimeoutKind::Http, after } if after == limit
        ));
        let timed_out = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert!(matches!(
            body_error(timed_out, limit),
            Error::Timeout { .. }
        ));
        let other = std::io::Error::other(ureq::Error::HostNotFound);
        assert!(matches!(body_error(other, limit), Error::Io(_)));
    }
}
