//! The server's upload limits: learning them and checking files against
//! them before anything is uploaded.

use super::error::FileError;
use super::mime::extension;
use crate::error::Result;
use crate::protocol::methods::{ExtensionsMode, FileUploadLimits, GetFileUploadLimits};
use crate::{Client, Pending};

impl FileUploadLimits {
    /// Checks a file name and size against these limits, as the server
    /// would: [`FileError::TooLarge`] over `maxSize`,
    /// [`FileError::ExtensionRefused`] for an extension outside the allow
    /// list or inside the block list (extensions compare case-insensitively,
    /// with or without a leading dot).
    pub fn check(&self, name: &str, size: u64) -> std::result::Result<(), FileError> {
        if let Some(max) = self.max_size {
            if size > max {
                return Err(FileError::TooLarge {
                    name: name.to_string(),
                    size,
                    max,
                });
            }
        }
        let Some(rule) = &self.extensions else {
            return Ok(());
        };
        let ext = extension(name);
        let listed = ext.as_deref().is_some_and(|ext| {
            rule.list
                .iter()
                .any(|l| l.trim().trim_start_matches('.').eq_ignore_ascii_case(ext))
        });
        let accepted = match rule.mode {
            ExtensionsMode::Allow => listed,
            ExtensionsMode::Block => !listed,
            // A mode this library does not know: leave it to the server.
            _ => true,
        };
        if accepted {
            Ok(())
        } else {
            Err(FileError::ExtensionRefused {
                name: name.to_string(),
                extension: ext,
                mode: rule.mode.clone(),
            })
        }
    }
}

impl Client {
    /// The server's upload limits (maximum size, allowed or blocked
    /// extensions). The answer is remembered: uploads are checked against
    /// it locally, as they are against limits the server pushes.
    ///
    /// Sends [`GetFileUploadLimits`] and waits for the response.
    pub fn get_file_upload_limits(&self) -> Result<FileUploadLimits> {
        let limits = self.request(&GetFileUploadLimits::new())?;
        match serde_json::to_value(&limits) {
            Ok(v) => self.inner().set_upload_limits(v),
            Err(e) => log::debug!("cannot remember the upload limits: {e}"),
        }
        Ok(limits)
    }

    /// [`Client::get_file_upload_limits`], pipelined: sends now, returns a
    /// [`Pending`] to wait on later. This answer is not remembered.
    pub fn get_file_upload_limits_pending(&self) -> Result<Pending<FileUploadLimits>> {
        self.request_pending(&GetFileUploadLimits::new())
    }

    /// The upload limits known to this client: the last ones the server
    /// pushed (`getFileUploadLimits` event) or answered; `None` before any.
    pub fn upload_limits(&self) -> Option<FileUploadLimits> {
        let value = self.inner().upload_limits()?;
        match serde_json::from_value(value) {
            Ok(limits) => Some(limits),
            Err(e) => {
                log::debug!("ignoring unreadable upload limits: {e}");
                None
            }
        }
    }

    /// Checks a file against the known upload limits (no limits known: no
    /// check).
    pub(crate) fn check_upload_limits(&self, name: &str, size: u64) -> Result<()> {
        match self.upload_limits() {
            Some(limits) => Ok(limits.check(name, size)?),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits(v: serde_json::Value) -> FileUploadLimits {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn size_limit_is_inclusive() {
        let l = limits(json!({"maxSize": 10, "extensions": null}));
        assert!(l.check("a.txt", 10).is_ok());
        assert_eq!(
            l.check("a.txt", 11),
            Err(FileError::TooLarge {
                name: "a.txt".into(),
                size: 11,
                max: 10
            })
        );
        assert!(FileUploadLimits::default().check("x.exe", u64::MAX).is_ok());
    }

    #[test]
    fn block_and_allow_lists() {
        let block = limits(json!({"extensions": {"mode": "block", "list": [".EXE", "bat"]}}));
        assert!(block.check("tool.exe", 1).is_err());
        assert!(block.check("TOOL.Bat", 1).is_err());
        assert!(block.check("notes.txt", 1).is_ok());
        assert!(block.check("README", 1).is_ok());
        let allow = limits(json!({"extensions": {"mode": "allow", "list": ["png", "jpg"]}}));
        assert!(allow.check("a.PNG", 1).is_ok());
        assert!(allow.check("a.gif", 1).is_err());
        match allow.check("README", 1) {
            Err(FileError::ExtensionRefused {
                extension: None,
                mode: ExtensionsMode::Allow,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }
}
