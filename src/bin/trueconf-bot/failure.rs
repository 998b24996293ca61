//! Why a command failed, and its exit status.

use std::fmt::Display;
use std::path::Path;
use trueconf_bot::{Error, FileError, TimeoutKind};

/// The server answered with an error.
pub const SERVER_ERROR: u8 = 1;
/// The command line (or a local file it names) is unusable.
pub const USAGE: u8 = 2;
/// The server could not be reached, or refused the credentials.
pub const CONNECTION: u8 = 3;

/// A failed command: its exit status and what to tell the person.
#[derive(Debug)]
pub struct Failure {
    /// The exit status.
    pub code: u8,
    /// The message for stderr; empty to say nothing.
    pub message: String,
}

impl Failure {
    /// A usage error (exit 2).
    pub fn usage(message: impl Display) -> Failure {
        Failure {
            code: USAGE,
            message: message.to_string(),
        }
    }

    /// A local file that cannot be read or written (exit 2).
    pub fn local(path: &Path, e: impl Display) -> Failure {
        Failure::usage(format_args!("{}: {e}", path.display()))
    }

    /// Stdout was closed by its reader (`| head`): stop quietly, exit 0.
    pub fn stdout_closed() -> Failure {
        Failure {
            code: 0,
            message: String::new(),
        }
    }

    /// Connecting or logging in failed.
    pub fn connect(server: &str, e: Error) -> Failure {
        let code = match exit_code(&e) {
            USAGE => USAGE,
            _ => CONNECTION,
        };
        Failure {
            code,
            message: format!("cannot connect to {server}: {e}"),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            code: exit_code(&e),
            message: e.to_string(),
        }
    }
}

/// The exit status for a library error once connected.
pub fn exit_code(e: &Error) -> u8 {
    match e {
        // 200..=204 are the authorization codes: the session was refused.
        Error::Api { code, .. } if (200..=204).contains(&code.code()) => CONNECTION,
        Error::Api { .. } | Error::Http { .. } | Error::Decode { .. } => SERVER_ERROR,
        Error::File(FileError::Local { .. }) => USAGE,
        // The connection ended mid-download.
        Error::File(FileError::CutShort { .. }) => CONNECTION,
        Error::File(_) => SERVER_ERROR,
        Error::Timeout {
            kind: TimeoutKind::FileReady,
            ..
        } => SERVER_ERROR,
        Error::Invalid(_) | Error::Config(_) => USAGE,
        _ => CONNECTION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trueconf_bot::ApiErrorCode;

    #[test]
    fn api_errors_are_server_errors_except_authorization() {
        let api = |code| Error::Api {
            method: "getChatByID".into(),
            code: ApiErrorCode::from_code(code),
        };
        assert_eq!(exit_code(&api(304)), SERVER_ERROR);
        assert_eq!(exit_code(&api(203)), CONNECTION);
        assert_eq!(exit_code(&Error::Closed), CONNECTION);
        assert_eq!(exit_code(&Error::Config("x".into())), USAGE);
        let full_disk = FileError::Local {
            path: "out.bin".into(),
            kind: std::io::ErrorKind::StorageFull,
            message: "No space left on device".into(),
        };
        assert_eq!(exit_code(&Error::File(full_disk)), USAGE);
        let cut = FileError::CutShort {
            what: "the download",
            received: 5,
            expected: 10,
        };
        assert_eq!(exit_code(&Error::File(cut)), CONNECTION);
        let f = Failure::from(api(304));
        assert!(f.message.contains("304") && f.message.contains("chat not found"));
    }
}
