//! What can go wrong with a file, as a typed error.

use crate::error::ApiErrorCode;
use crate::protocol::methods::ExtensionsMode;
use std::fmt;

/// Which HTTP transfer a [`FileError::Refused`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transfer {
    /// `POST /bridge/api/client/v1/files` (step 2 of sending a file).
    Upload,
    /// `GET downloadUrl`.
    Download,
}

impl fmt::Display for Transfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transfer::Upload => "upload",
            Transfer::Download => "download",
        })
    }
}

/// A file operation failed. Reached through [`Error::File`](crate::Error::File).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The server no longer has the file (`readyState` 0, NOT_AVAILABLE:
    /// removed by quota or retention).
    #[error("file {file_id} is not available on the server any more")]
    NotAvailable {
        /// The file.
        file_id: String,
    },
    /// The file is larger than the server's upload limit (checked locally,
    /// before anything is sent).
    #[error("{name} is {size} bytes, over the server's upload limit of {max} bytes")]
    TooLarge {
        /// The file name.
        name: String,
        /// Its size in bytes.
        size: u64,
        /// The server's limit in bytes.
        max: u64,
    },
    /// The server's upload limits refuse the file's extension (checked
    /// locally, before anything is sent).
    #[error("{name}: {} the server's upload limits", extension_words(.extension, .mode))]
    ExtensionRefused {
        /// The file name.
        name: String,
        /// Its extension, lowercase without the dot (`None`: it has none).
        extension: Option<String>,
        /// Whether the server's list is an allow list or a block list.
        mode: ExtensionsMode,
    },
    /// A transfer moved a different number of bytes than announced: a
    /// reader that ended early, or a download of another length than the
    /// file's reported size (more bytes, or fewer announced).
    #[error("{what}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// What was being transferred.
        what: &'static str,
        /// The announced size.
        expected: u64,
        /// The bytes actually read (at least `expected + 1` when there were
        /// more than announced).
        actual: u64,
    },
    /// A download's connection ended before the file did (the server or
    /// the network went away): what arrived is not the file. Nothing was
    /// saved; trying again may work.
    #[error("{what} was cut short: the connection ended after {received} of {expected} bytes")]
    CutShort {
        /// What was being transferred.
        what: &'static str,
        /// The bytes that arrived.
        received: u64,
        /// The file's size.
        expected: u64,
    },
    /// The file is ready but the server gave no download URL.
    #[error("file {file_id} has no download URL")]
    NoDownloadUrl {
        /// The file.
        file_id: String,
    },
    /// The file has no preview with that index.
    #[error("file {file_id} has no preview number {index}")]
    NoPreview {
        /// The file.
        file_id: String,
        /// The index asked for.
        index: usize,
    },
    /// The server refused an HTTP upload or download with an error body
    /// `{"error": code, "error_description": ...}`.
    #[error("the server refused the {transfer} (HTTP {status}): {code}: {description}")]
    Refused {
        /// Upload or download.
        transfer: Transfer,
        /// The HTTP status.
        status: u16,
        /// The error code of the body (e.g. 407 upload task not found).
        code: ApiErrorCode,
        /// The server's description.
        description: String,
    },
    /// A local file of a download could not be created, written or named
    /// (a full disk, no permission, something other than a file in the
    /// way). The server side went well or was not reached yet.
    #[error("{}: {message}", path.display())]
    Local {
        /// The file or directory concerned.
        path: std::path::PathBuf,
        /// What kind of I/O error it was.
        kind: std::io::ErrorKind,
        /// The error's text.
        message: String,
    },
}

impl FileError {
    /// A local I/O error about `path`.
    pub(crate) fn local(path: &std::path::Path, e: &std::io::Error) -> FileError {
        FileError::Local {
            path: path.to_path_buf(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

fn extension_words(extension: &Option<String>, mode: &ExtensionsMode) -> String {
    let what = match extension {
        Some(ext) => format!("extension .{ext}"),
        None => "a name without an extension".to_string(),
    };
    match mode {
        ExtensionsMode::Allow => format!("{what} is not in the allow list of"),
        ExtensionsMode::Block => format!("{what} is blocked by"),
        _ => format!("{what} is refused by"),
    }
}

impl FileError {
    /// The server's error code, for [`FileError::Refused`].
    pub fn api_code(&self) -> Option<ApiErrorCode> {
        match self {
            FileError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        let e = FileError::ExtensionRefused {
            name: "run.EXE".into(),
            extension: Some("exe".into()),
            mode: ExtensionsMode::Block,
        };
        assert_eq!(
            e.to_string(),
            "run.EXE: extension .exe is blocked by the server's upload limits"
        );
        let e = FileError::ExtensionRefused {
            name: "README".into(),
            extension: None,
            mode: ExtensionsMode::Allow,
        };
        assert!(e
            .to_string()
            .contains("without an extension is not in the allow list"));
        let e = FileError::Refused {
            transfer: Transfer::Upload,
            status: 400,
            code: ApiErrorCode::UploadTaskNotFound,
            description: "Upload task not found".into(),
        };
        assert_eq!(e.api_code(), Some(ApiErrorCode::UploadTaskNotFound));
        assert_eq!(
            crate::Error::from(e).api_code(),
            Some(ApiErrorCode::UploadTaskNotFound)
        );
    }
}
