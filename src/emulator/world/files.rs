//! Files: upload tasks, finished uploads (the HTTP side), sendFile,
//! getFileInfo, progress subscriptions, upload limits, downloads.
//!
//! The bytes live on disk (paths in [`StoredFile`]); the world keeps only
//! metadata.

use super::args::Args;
use super::codes::{
    FILE_NOT_FOUND, FILE_UPLOAD_FAILED, INVALID_FILE, MAX_SIZE_EXCEEDED, UPLOAD_FORBIDDEN,
    UPLOAD_TASK_NOT_FOUND,
};
use super::messages::NewMessage;
use super::render::{self, answer};
use super::roles::Action;
use super::{Outbound, World};
use crate::protocol::events::UploadProgress;
use crate::protocol::methods::{
    ExtensionsMode, FileInfo, FilePreview, FileUploadLimits, GetFileInfo, ResultResponse, SendFile,
    SendFileResponse, SubscribeFileProgress, UnsubscribeFileProgress, UploadFile,
};
use crate::protocol::{AttachmentContent, Content, FileReadyState, TextContent};
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
    fn wire(self) -> FileReadyState {
        match self {
            ReadyState::NotAvailable => FileReadyState::NotAvailable,
            ReadyState::Uploading(_) => FileReadyState::Uploading,
            ReadyState::Ready => FileReadyState::Ready,
        }
    }
}

/// A permanent file, sent in a chat or set as an avatar.
#[derive(Debug, Clone)]
pub(crate) struct FileRecord {
    owner: String,
    file: StoredFile,
    preview: Option<StoredFile>,
    state: ReadyState,
    /// Users subscribed to its upload progress.
    subscribers: BTreeSet<String>,
    /// Chats it was posted in (who may see it).
    chats: HashSet<String>,
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
    fn check_limits(&self, size: u64, name: Option<&str>) -> Result<(), u32> {
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
    fn upload_limits(&self) -> FileUploadLimits {
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

    /// `uploadFile {fileSize, fileName?}` -> `{uploadTaskId}`; 406 or 403
    /// under the upload limits.
    pub(super) fn upload_file(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let UploadFile {
            file_size,
            file_name,
        } = args.decode()?;
        self.check_limits(file_size, file_name.as_deref())?;
        let id = self.ids.uuid();
        self.upload_tasks.insert(
            id.clone(),
            UploadTask {
                owner: actor.to_string(),
                file_size,
                file_name,
            },
        );
        answer(crate::protocol::methods::UploadTask { upload_task_id: id })
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
    fn owns_upload(&self, temporal: &str, actor: &str) -> bool {
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

    /// `sendFile {chatId, content: {temporalFileId, caption?: {text,
    /// parseMode}}, replyMessageId?}` -> `{chatId, messageId, timestamp,
    /// fileId[, captionMessageId]}`. A type 202 message with content `{name,
    /// mimeType, size, fileId}`; a caption follows as its own text message
    /// (its id is `captionMessageId`). 304, 305, 303, 306, 308.
    pub(super) fn send_file(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        args.check_text("/content/caption", false)?;
        let req: SendFile = args.decode()?;
        let (chat_id, temporal) = (req.chat_id, req.content.temporal_file_id);
        let reply = req.reply_message_id;
        // Everything that can fail is checked before the upload is consumed.
        let (chat, role) = self.member_chat(&chat_id, actor)?;
        World::require(chat, role, Action::SendFiles)?;
        if let Some(id) = &reply {
            World::require(chat, role, Action::Reply)?;
            self.reply_target(chat, id, actor)?;
        }
        if !self.owns_upload(&temporal, actor) {
            return Err(FILE_NOT_FOUND);
        }
        let file_id = self.claim_upload(&temporal, actor, &chat_id)?;
        let record = self.files.get(&file_id).ok_or(FILE_NOT_FOUND)?;
        let content = Content::Attachment(AttachmentContent {
            name: record.file.name.clone(),
            mime_type: record.file.mime_type.clone(),
            size: record.file.size,
            file_id: file_id.clone(),
            ready_state: None,
        });
        let new = NewMessage {
            chat_id: &chat_id,
            action: Action::SendFiles,
            content,
            reply: reply.as_deref(),
        };
        let sent = self.post_user_message(actor, new, out)?;
        let caption_message_id = match req.content.caption {
            Some(caption) => {
                let new = NewMessage {
                    chat_id: &chat_id,
                    action: Action::Send,
                    content: Content::Text(TextContent::new(caption.text, caption.parse_mode)),
                    reply: None,
                };
                Some(self.post_user_message(actor, new, out)?.message_id)
            }
            None => None,
        };
        answer(SendFileResponse {
            chat_id: sent.chat_id,
            message_id: sent.message_id,
            timestamp: sent.timestamp,
            file_id: Some(file_id),
            caption_message_id,
        })
    }

    /// The file if `actor` may see it (its uploader, or a participant of a
    /// chat it was posted in); 308 otherwise.
    fn visible_file(&self, file_id: &str, actor: &str) -> Result<&FileRecord, u32> {
        let record = self.files.get(file_id).ok_or(FILE_NOT_FOUND)?;
        let allowed = record.owner == actor
            || record.chats.iter().any(|c| {
                self.chats
                    .get(c)
                    .is_some_and(|chat| chat.participant(actor).is_some())
            });
        if allowed {
            Ok(record)
        } else {
            Err(FILE_NOT_FOUND)
        }
    }

    /// `getFileInfo {fileId}` -> `{name, size, mimeType, downloadUrl,
    /// readyState, infoHash, fileId, previews}`; `downloadUrl` is null once
    /// the file is NOT_AVAILABLE. 308.
    pub(super) fn get_file_info(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let file_id = args.decode::<GetFileInfo>()?.file_id;
        let record = self.visible_file(&file_id, actor)?;
        let available = record.state != ReadyState::NotAvailable;
        let url = |preview| available.then(|| self.download_url(&file_id, preview));
        let previews = record
            .preview
            .iter()
            .map(|p| FilePreview {
                name: p.name.clone(),
                mime_type: p.mime_type.clone(),
                size: p.size,
                download_url: url(true),
            })
            .collect();
        answer(FileInfo {
            name: record.file.name.clone(),
            size: record.file.size,
            mime_type: record.file.mime_type.clone(),
            download_url: url(false),
            ready_state: record.state.wire(),
            info_hash: file_id.clone(),
            file_id: Some(file_id.clone()),
            previews,
        })
    }

    /// `subscribeFileProgress {fileId}` -> `{result}`. On a READY file one
    /// final progress event (progress = size) goes to the actor at once
    /// (guide 8.4) and nothing is kept; on an uploading file the actor gets
    /// every progress until READY; a NOT_AVAILABLE file answers false. 308.
    pub(super) fn subscribe_file_progress(
        &mut self,
        actor: &str,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let file_id = args.decode::<SubscribeFileProgress>()?.file_id;
        let record = self.visible_file(&file_id, actor)?;
        let (state, size) = (record.state, record.file.size);
        let result = match state {
            ReadyState::NotAvailable => false,
            ReadyState::Ready => {
                out.push(progress_event(actor, &file_id, size));
                true
            }
            ReadyState::Uploading(_) => {
                if let Some(r) = self.files.get_mut(&file_id) {
                    r.subscribers.insert(actor.to_string());
                }
                true
            }
        };
        answer(ResultResponse { result })
    }

    /// `unsubscribeFileProgress {fileId}` -> `{result: true}`; 308.
    pub(super) fn unsubscribe_file_progress(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let file_id = args.decode::<UnsubscribeFileProgress>()?.file_id;
        self.visible_file(&file_id, actor)?;
        if let Some(r) = self.files.get_mut(&file_id) {
            r.subscribers.remove(actor);
        }
        answer(ResultResponse { result: true })
    }

    /// `getFileUploadLimits {}` -> the configured limits, or `{maxSize:
    /// null, extensions: null}` when none are set (or they do not read as
    /// limits).
    pub(super) fn get_file_upload_limits(
        &mut self,
        _actor: &str,
        _args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        answer(self.upload_limits())
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
    /// subscribers get an `uploadFileProgress {fileId, progress}` event; at
    /// `progress >= size` the file turns READY, the final event carries the
    /// size and the subscriptions end. Unknown ids are ignored.
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
        let subscribers: Vec<String> = if done {
            std::mem::take(&mut record.subscribers)
                .into_iter()
                .collect()
        } else {
            record.subscribers.iter().cloned().collect()
        };
        for user in subscribers {
            out.push(progress_event(&user, file_id, shown));
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

/// An upload progress event (renamed `uploadingProgress` by the session when
/// the emulator is set to the spec's spelling).
fn progress_event(user: &str, file_id: &str, progress: u64) -> Outbound {
    let e = UploadProgress {
        file_id: file_id.to_string(),
        progress,
    };
    render::event(user, &e)
}
