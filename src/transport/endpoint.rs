//! The server address: one base URL gives the HTTP endpoints and the
//! WebSocket endpoint.

use crate::error::{Error, Result};
use std::fmt;

/// The default WebSocket path of the Chatbot API.
pub const DEFAULT_WS_PATH: &str = "/websocket/chat_bot/";

/// A parsed server base URL such as `https://video.example.com` or
/// `http://127.0.0.1:4309`.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `true` for https/wss (TLS).
    pub secure: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port: explicit, else 443 for https and 4309 for http.
    pub port: u16,
}

impl Endpoint {
    /// Parses `http[s]://host[:port][/...]`; `ws`/`wss` are accepted as
    /// synonyms. Any path is ignored: the API paths are fixed.
    pub fn parse(url: &str) -> Result<Endpoint> {
        let bad = |why: &str| Error::Config(format!("server URL {:?}: {why}", shown(url)));
        let (scheme, rest) = url
            .trim()
            .split_once("://")
            .ok_or_else(|| bad("expected http://host or https://host"))?;
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "https" | "wss" => true,
            "http" | "ws" => false,
            _ => return Err(bad("the scheme must be http or https")),
        };
        let authority = rest.split(AUTHORITY_ENDS).next().unwrap_or("");
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            if !after.is_empty() && !after.starts_with(':') {
                return Err(bad("expected a port or nothing after ']'"));
            }
            (h.to_string(), after.strip_prefix(':'))
        } else if authority.matches(':').count() > 1 {
            return Err(bad(
                "an IPv6 address needs brackets, as in http://[::1]:4309",
            ));
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => match p.parse::<u16>() {
                Ok(port) if port > 0 && p.bytes().all(|b| b.is_ascii_digit()) => port,
                _ => return Err(bad("the port must be a number from 1 to 65535")),
            },
            None if secure => 443,
            None => 4309,
        };
        Ok(Endpoint { secure, host, port })
    }

    /// `host:port` with IPv6 hosts bracketed.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The HTTP base, e.g. `https://video.example.com:443`.
    pub fn http_base(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}", self.authority())
    }

    /// The full URL of an HTTP path.
    pub fn http_url(&self, path: &str) -> String {
        format!("{}{}", self.http_base(), path)
    }

    /// The WebSocket URL for a path, e.g. `wss://host:443/websocket/chat_bot/`.
    pub fn ws_url(&self, path: &str) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.authority(), path)
    }

    /// Replaces the scheme, host and port of `url` by this endpoint's,
    /// keeping its path and query (for download URLs that name an internal
    /// address behind NAT). A URL without a scheme is a path on this
    /// endpoint, whatever it starts with: `@other:80/x` stays here too.
    pub fn rebase(&self, url: &str) -> String {
        // A scheme ends before any `/`, `?` or `#` (a `://` in the query of
        // a path is not one).
        let path = match url.split_once("://") {
            Some((scheme, rest)) if !scheme.contains(['/', '?', '#']) => {
                rest.find('/').map_or("/", |i| &rest[i..])
            }
            _ => url,
        };
        match path.starts_with('/') {
            true => self.http_url(path),
            false => self.http_url(&format!("/{path}")),
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.http_base())
    }
}

/// A server URL as error messages show it: the scheme and the host part
/// only, with any user info masked. The path and query are dropped (they
/// are ignored anyway, and a query may carry a token). A password holding
/// `/`, `?` or `#` written raw ends the host part early, as URLs are read,
/// and leaves an `@` after it: when one follows, the host part is masked
/// whole.
pub(crate) fn shown(url: &str) -> String {
    let url = url.trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => (Some(scheme), rest),
        _ => (None, url),
    };
    let authority = rest.split(AUTHORITY_ENDS).next().unwrap_or("");
    let authority = if rest[authority.len()..].contains('@') {
        "***".to_string()
    } else {
        match authority.rsplit_once('@') {
            Some((_, host)) => format!("***@{host}"),
            None => authority.to_string(),
        }
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{authority}"),
        None => authority,
    }
}

/// Where the host part of a URL ends (a `\` as a `/`, as browsers read it).
const AUTHORITY_ENDS: [char; 4] = ['/', '\\', '?', '#'];

/// Whether `text` can be a URL scheme: a letter, then letters, digits, `+`,
/// `-` or `.`.
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_and_forms() {
        let e = Endpoint::parse("https://video.example.com").unwrap();
        assert_eq!(
            e.ws_url(DEFAULT_WS_PATH),
            "wss://video.example.com:443/websocket/chat_bot/"
        );
        let e = Endpoint::parse("http://127.0.0.1").unwrap();
        assert_eq!(e.port, 4309);
        let e = Endpoint::parse("HTTP://10.0.0.1:8080/some/path").unwrap();
        assert_eq!(e.http_url("/x"), "http://10.0.0.1:8080/x");
        let e = Endpoint::parse("wss://[::1]:9443").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.secure), ("::1", 9443, true));
        assert_eq!(e.authority(), "[::1]:9443");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "video.example.com",
            "ftp://x",
            "http://",
            "http://h:port",
            "http://h:99999",
            "http://h:0",
            "http://u:p@h",
            "http://h:+80",
            "http://[::1]garbage",
            "http://[::1]:",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
        let message = |url: &str| Endpoint::parse(url).unwrap_err().to_string();
        assert!(
            message("http://fe80::1")
                .ends_with("an IPv6 address needs brackets, as in http://[::1]:4309"),
            "{}",
            message("http://fe80::1")
        );
    }

    #[test]
    fn errors_show_neither_user_info_nor_query() {
        let message = |url: &str| Endpoint::parse(url).unwrap_err().to_string();
        assert_eq!(
            message("https://bot:hunter2@video.example.com/x"),
            "configuration error: server URL \"https://***@video.example.com\": \
             credentials in the URL are not supported"
        );
        assert_eq!(
            message("https://video.example.com:x/?access_token=SECRET"),
            "configuration error: server URL \"https://video.example.com:x\": \
             the port must be a number from 1 to 65535"
        );
        // A password with `/`, `?` or `#` ends the host part early.
        for url in [
            "https://bot:pa/ss@video.example.com",
            "https://bot:hunter?2@video.example.com",
            "https://bot:hunter#2@video.example.com/x",
        ] {
            assert_eq!(
                message(url),
                "configuration error: server URL \"https://***\": \
                 the port must be a number from 1 to 65535"
            );
        }
        // Never a password or a query token, whatever the URL's shape.
        for (url, expected) in [
            ("https://bot:12?3@video.example.com", "https://***"),
            ("https://bot:p@ss/w0rd@video.example.com", "https://***"),
            ("https://bot:s3cr@t?x@video.example.com", "https://***"),
            ("bot:hunter2://x@video.example.com", "***"),
            (
                "video.example.com/?next=https://x&access_token=SECRET",
                "video.example.com",
            ),
            ("https://h/x?user=a@b&access_token=SECRET", "https://***"),
            ("https://h\\x?access_token=SECRET", "https://h"),
            ("https://h:8443/?access_token=SECRET#@", "https://***"),
        ] {
            assert_eq!(shown(url), expected, "{url}");
        }
        // An `@` in a path or query is no user info: such URLs are valid.
        for url in [
            "https://h/x?user=a@b&access_token=SECRET",
            "https://h?user=a@b",
        ] {
            assert!(Endpoint::parse(url).is_ok(), "{url}");
        }
        // A `\` ends the host as a `/` does.
        let e = Endpoint::parse("https://h\\x?token=SECRET").unwrap();
        assert_eq!(e.host, "h");
    }

    #[test]
    fn rebases_internal_download_urls() {
        let e = Endpoint::parse("https://video.example.com").unwrap();
        assert_eq!(
            e.rebase("https://10.111.15.116/bridge/api/client/v1/files?file_id=e0"),
            "https://video.example.com:443/bridge/api/client/v1/files?file_id=e0"
        );
        // Without a scheme: a path here, even one that looks like a host.
        for (url, rebased) in [
            ("/files?file_id=e0", "/files?file_id=e0"),
            ("files?file_id=e0", "/files?file_id=e0"),
            ("@127.0.0.1:9/elsewhere", "/@127.0.0.1:9/elsewhere"),
            ("//other.example.com/x", "//other.example.com/x"),
            ("http://other.example.com", "/"),
            ("/files?next=http://a/b", "/files?next=http://a/b"),
        ] {
            let rebased = format!("https://video.example.com:443{rebased}");
            assert_eq!(e.rebase(url), rebased, "{url}");
            let parsed: ureq::http::Uri = rebased.parse().unwrap();
            assert_eq!(parsed.host(), Some("video.example.com"), "{url}");
        }
    }
}
