//! Files on the server side: upload tasks, finished HTTP uploads, permanent
//! file records with their ready state and the sessions subscribed to their
//! progress, upload limits, and what the HTTP side serves. The Chatbot API methods on files
//! are in `files`.
//!
//! The bytes live on disk (paths in [`StoredFile`]); the world keeps only
//! metadata.

use super::codes::{
    FILE_NOT_FOUND, FILE_UPLOAD_FAILED, INVALID_FILE, MAX_SIZE_EXCEEDED, UPLOAD_FORBIDDEN,
    UPLOAD_TASK_NOT_FOUND,
};
use super::render;
use super::{Outbound, SessionId, World};
use crate::protocol::events::UploadProgress;
use crate::protocol::methods::{ExtensionsMode, FileUploadLimits};
use crate::protocol::FileReadyState;
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

/// A file (or preview) stored on disk by the HTTP side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredFile {
    /// Where the bytes are.
    pub path: PathBuf,
    /// Their count.
    pub size: u64,
    /// The file name from the multipart part.
    pub name: String,
    /// The MIME type from the multipart part.
    pub mime_type: String,
}

/// An upload task created by `uploadFile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadTask {
    /// The user who created it.
    pub owner: String,
    /// The announced size; the upload must match it.
    pub file_size: u64,
    /// The announced name, when given.
    pub file_name: Option<String>,
}

/// Why the HTTP upload is refused: the HTTP status and the body
/// `{error, error_description}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadRejection {
    /// The HTTP status (400).
    pub status: u16,
    /// The API error code (407 unknown task, 408 size differs, 406 too
    /// large, 403 blocked extension).
    pub error: u32,
    /// A human-readable description.
    pub description: String,
}

impl UploadRejection {
    fn new(error: u32, description: impl Into<String>) -> UploadRejection {
        UploadRejection {
            status: 400,
            error,
            description: description.into(),
        }
    }
}

/// An uploaded file waiting for sendFile or editChatAvatar.
#[derive(Debug, Clone)]
pub(crate) struct PendingUpload {
    owner: String,
    file: StoredFile,
    preview: Option<StoredFile>,
}

/// `FileReadyStateEnum`, with the progress of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadyState {
    /// 0: removed (quota, retention).
    NotAvailable,
    /// 1: still uploading, with the bytes so far.
    Uploading(u64),
    /// 2: complete.
    Ready,
}

impl ReadyState {
    pub(super) fn wire(self) -> FileReadyState {
        match self {
            ReadyState::NotAvailable => FileReadyState::NotAvailable,
            ReadyState::Uploading(_) => FileReadyState::Uploading,
            ReadyState::Ready => FileReadyState::Ready,
        }
    }
}

/// A progress subscription: the session that made it, and the user it was
/// authenticated as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Subscriber {
    pub(super) session: SessionId,
    pub(super) user: String,
}

/// A permanent file, sent in a chat or set as an avatar.
#[derive(Debug, Clone)]
pub(crate) struct FileRecord {
    pub(super) owner: String,
    pub(super) file: StoredFile,
    pub(super) preview: Option<StoredFile>,
    pub(super) state: ReadyState,
    /// The sessions subscribed to its upload progress.
    pub(super) subscribers: BTreeSet<Subscriber>,
    /// Chats it was posted in (who may see it).
    pub(super) chats: HashSet<String>,
}

/// The lowercased extension of a file name, without the dot.
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_lowercase())
}

impl World {
    /// Checks a size and name against the upload limits: 406 too large, 403
    /// an extension the limits block (or do not allow; a name without an
    /// extension is then refused too).
    pub(super) fn check_limits(&self, size: u64, name: Option<&str>) -> Result<(), u32> {
        let limits = self.upload_limits();
        if limits.max_size.is_some_and(|max| size > max) {
            return Err(MAX_SIZE_EXCEEDED);
        }
        // Without a name (the spec's uploadFile has none) the extension is
        // checked when the upload brings one.
        let (Some(rules), Some(name)) = (&limits.extensions, name) else {
            return Ok(());
        };
        let ext = extension(name);
        let listed = ext.as_ref().is_some_and(|e| {
            rules
                .list
                .iter()
                .any(|l| l.trim_start_matches('.').eq_ignore_ascii_case(e))
        });
        let ok = match rules.mode {
            ExtensionsMode::Allow => listed,
            ExtensionsMode::Block => !listed,
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(UPLOAD_FORBIDDEN)
        }
    }

    /// The configured upload limits, typed (none when unset or unreadable).
    pub(super) fn upload_limits(&self) -> FileUploadLimits {
        self.config
            .upload_limits
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// The download URL of a file or of its preview.
    pub(super) fn download_url(&self, file_id: &str, preview: bool) -> String {
        let base = self.config.server_url.trim_end_matches('/');
        let path = if preview { "files/preview" } else { "files" };
        format!("{base}/bridge/api/client/v1/{path}?file_id={file_id}")
    }

    /// The upload task with that id (the HTTP side reads it before taking
    /// the body).
    pub fn upload_task(&self, task_id: &str) -> Option<UploadTask> {
        self.upload_tasks.get(task_id).cloned()
    }

    /// Records a finished HTTP upload and returns its temporalFileId. The
    /// task is used up on success; a refused upload keeps it.
    pub fn complete_upload(
        &mut self,
        task_id: &str,
        file: StoredFile,
        preview: Option<StoredFile>,
    ) -> Result<String, UploadRejection> {
        let task = self
            .upload_tasks
            .get(task_id)
            .ok_or_else(|| UploadRejection::new(UPLOAD_TASK_NOT_FOUND, "Upload task not found"))?;
        if file.size != task.file_size {
            return Err(UploadRejection::new(
                INVALID_FILE,
                format!(
                    "File size {} differs from the task's fileSize {}",
                    file.size, task.file_size
                ),
            ));
        }
        match self.check_limits(file.size, Some(&file.name)) {
            Ok(()) => {}
            Err(MAX_SIZE_EXCEEDED) => {
                return Err(UploadRejection::new(
                    MAX_SIZE_EXCEEDED,
                    "Max file size exceeded",
                ))
            }
            Err(code) => return Err(UploadRejection::new(code, "File upload forbidden")),
        }
        let Some(task) = self.upload_tasks.remove(task_id) else {
            return Err(UploadRejection::new(
                FILE_UPLOAD_FAILED,
                "File upload failed",
            ));
        };
        let temporal = self.ids.uuid();
        self.pending.insert(
            temporal.clone(),
            PendingUpload {
                owner: task.owner,
                file,
                preview,
            },
        );
        Ok(temporal)
    }

    /// Whether `temporal` names an upload of `actor` not sent yet.
    pub(super) fn owns_upload(&self, temporal: &str, actor: &str) -> bool {
        matches!(self.pending.get(temporal), Some(p) if p.owner == actor)
    }

    /// Turns an uploaded file of `actor` into a permanent, READY file seen
    /// from `chat_id`; 308 when the temporalFileId is unknown, used, or
    /// someone else's. Callers check everything else first: this consumes.
    pub(super) fn claim_upload(
        &mut self,
        temporal: &str,
        actor: &str,
        chat_id: &str,
    ) -> Result<String, u32> {
        if !self.owns_upload(temporal, actor) {
            return Err(FILE_NOT_FOUND);
        }
        let upload = self.pending.remove(temporal).ok_or(FILE_NOT_FOUND)?;
        let id = self.ids.hex40();
        self.files.insert(
            id.clone(),
            FileRecord {
                owner: upload.owner,
                file: upload.file,
                preview: upload.preview,
                state: ReadyState::Ready,
                subscribers: BTreeSet::new(),
                chats: HashSet::from([chat_id.to_string()]),
            },
        );
        Ok(id)
    }

    /// Replaces the upload limits and pushes `getFileUploadLimits` with the
    /// new payload to every user, as servers do when an admin changes them.
    pub fn set_upload_limits(&mut self, limits: Option<Value>, out: &mut Vec<Outbound>) {
        self.config.upload_limits = limits;
        let limits = self.upload_limits();
        let mut users: Vec<&String> = self.users.values().map(|u| &u.id).collect();
        users.sort();
        out.extend(users.into_iter().map(|u| render::event(u, &limits)));
    }

    /// Marks a file as still uploading with `progress` bytes on the server:
    /// each subscribed session gets an `uploadFileProgress {fileId,
    /// progress}` event (no other session of its user does); once the
    /// progress reaches the size the file turns READY, the final event
    /// carries the size and the subscriptions end. Unknown ids are ignored.
    pub fn advance_upload(&mut self, file_id: &str, progress: u64, out: &mut Vec<Outbound>) {
        let Some(record) = self.files.get_mut(file_id) else {
            return;
        };
        let size = record.file.size;
        let done = progress >= size;
        record.state = if done {
            ReadyState::Ready
        } else {
            ReadyState::Uploading(progress)
        };
        let shown = progress.min(size);
        let subscribers: Vec<Subscriber> = if done {
            std::mem::take(&mut record.subscribers)
                .into_iter()
                .collect()
        } else {
            record.subscribers.iter().cloned().collect()
        };
        for s in subscribers {
            out.push(progress_event(&s.user, file_id, shown).for_session(s.session));
        }
    }

    /// Ends the progress subscriptions of a session (its connection closed):
    /// a later connection of the same user gets no progress events until it
    /// subscribes itself.
    pub fn end_session(&mut self, session: SessionId) {
        for record in self.files.values_mut() {
            record.subscribers.retain(|s| s.session != session);
        }
    }

    /// Marks a file NOT_AVAILABLE (removed by quota or retention): it can no
    /// longer be downloaded. Returns false for an unknown id.
    pub fn expire_file(&mut self, file_id: &str) -> bool {
        match self.files.get_mut(file_id) {
            Some(r) => {
                r.state = ReadyState::NotAvailable;
                r.subscribers.clear();
                true
            }
            None => false,
        }
    }

    /// The file (or its preview) to serve at a download URL: only READY
    /// files are served.
    pub fn download(&self, file_id: &str, preview: bool) -> Option<StoredFile> {
        let record = self.files.get(file_id)?;
        if record.state != ReadyState::Ready {
            return None;
        }
        if preview {
            record.preview.clone()
        } else {
            Some(record.file.clone())
        }
    }
}

/// An upload progress event for every session of `user` (callers address it
/// to the subscribed session with [`Outbound::for_session`]); renamed
/// `uploadingProgress` by the session layer when the emulator is set to the
/// spec's spelling.
pub(super) fn progress_event(user: &str, file_id: &str, progress: u64) -> Outbound {
    let e = UploadProgress {
        file_id: file_id.to_string(),
        progress,
    };
    render::event(user, &e)
}
