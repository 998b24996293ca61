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
use super::model::kind;
use super::roles::Action;
use super::{Outbound, World};
use serde_json::{json, Value};
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
    fn code(self) -> u32 {
        match self {
            ReadyState::NotAvailable => 0,
            ReadyState::Uploading(_) => 1,
            ReadyState::Ready => 2,
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
        let Some(limits) = &self.config.upload_limits else {
            return Ok(());
        };
        if let Some(max) = limits.get("maxSize").and_then(Value::as_u64) {
            if size > max {
                return Err(MAX_SIZE_EXCEEDED);
            }
        }
        // Without a name (the spec's uploadFile has none) the extension is
        // checked when the upload brings one.
        let (Some(ext_rules), Some(name)) =
            (limits.get("extensions").filter(|v| v.is_object()), name)
        else {
            return Ok(());
        };
        let listed: Vec<String> = ext_rules
            .get("list")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(|e| e.trim_start_matches('.').to_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let ext = extension(name);
        let in_list = ext.as_ref().is_some_and(|e| listed.contains(e));
        let ok = match ext_rules.get("mode").and_then(Value::as_str) {
            Some("allow") => in_list,
            Some("block") => !in_list,
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(UPLOAD_FORBIDDEN)
        }
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
        let file_size = args.u64("fileSize")?;
        let file_name = args.opt_str("fileName")?;
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
        Ok(json!({ "uploadTaskId": id }))
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
        let chat_id = args.str("chatId")?;
        let content = args.object("content")?;
        let temporal = content.str("temporalFileId")?;
        let caption = match content.opt_object("caption")? {
            Some(c) => Some(c.as_text(false)?),
            None => None,
        };
        let reply = args.opt_str("replyMessageId")?;
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
        let content = json!({
            "name": record.file.name,
            "mimeType": record.file.mime_type,
            "size": record.file.size,
            "fileId": file_id,
        });
        let mut answer = self.post_user_message(
            actor,
            NewMessage {
                chat_id: &chat_id,
                action: Action::SendFiles,
                kind: kind::ATTACHMENT,
                content,
                reply: reply.as_deref(),
            },
            out,
        )?;
        answer["fileId"] = json!(file_id);
        if let Some(text) = caption {
            let caption_answer = self.post_user_message(
                actor,
                NewMessage {
                    chat_id: &chat_id,
                    action: Action::Send,
                    kind: kind::TEXT,
                    content: text,
                    reply: None,
                },
                out,
            )?;
            answer["captionMessageId"] = caption_answer["messageId"].clone();
        }
        Ok(answer)
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
        let file_id = args.str("fileId")?;
        let record = self.visible_file(&file_id, actor)?;
        let available = record.state != ReadyState::NotAvailable;
        let url = |preview| {
            if available {
                json!(self.download_url(&file_id, preview))
            } else {
                Value::Null
            }
        };
        let previews: Vec<Value> = record
            .preview
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "mimeType": p.mime_type,
                    "size": p.size,
                    "downloadUrl": url(true),
                })
            })
            .collect();
        Ok(json!({
            "name": record.file.name,
            "size": record.file.size,
            "mimeType": record.file.mime_type,
            "downloadUrl": url(false),
            "readyState": record.state.code(),
            "infoHash": file_id,
            "fileId": file_id,
            "previews": previews,
        }))
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
        let file_id = args.str("fileId")?;
        let record = self.visible_file(&file_id, actor)?;
        let (state, size) = (record.state, record.file.size);
        match state {
            ReadyState::NotAvailable => Ok(json!({ "result": false })),
            ReadyState::Ready => {
                out.push(progress_event(actor, &file_id, size));
                Ok(json!({ "result": true }))
            }
            ReadyState::Uploading(_) => {
                if let Some(r) = self.files.get_mut(&file_id) {
                    r.subscribers.insert(actor.to_string());
                }
                Ok(json!({ "result": true }))
            }
        }
    }

    /// `unsubscribeFileProgress {fileId}` -> `{result: true}`; 308.
    pub(super) fn unsubscribe_file_progress(
        &mut self,
        actor: &str,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let file_id = args.str("fileId")?;
        self.visible_file(&file_id, actor)?;
        if let Some(r) = self.files.get_mut(&file_id) {
            r.subscribers.remove(actor);
        }
        Ok(json!({ "result": true }))
    }

    /// `getFileUploadLimits {}` -> the configured limits, or `{maxSize:
    /// null, extensions: null}` when none are set.
    pub(super) fn get_file_upload_limits(
        &mut self,
        _actor: &str,
        _args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        Ok(self
            .config
            .upload_limits
            .clone()
            .unwrap_or_else(|| json!({ "maxSize": null, "extensions": null })))
    }

    /// Replaces the upload limits and pushes `getFileUploadLimits` with the
    /// new payload to every user, as servers do when an admin changes them.
    pub fn set_upload_limits(&mut self, limits: Option<Value>, out: &mut Vec<Outbound>) {
        self.config.upload_limits = limits;
        let payload = self
            .config
            .upload_limits
            .clone()
            .unwrap_or_else(|| json!({ "maxSize": null, "extensions": null }));
        let mut users: Vec<&String> = self.users.values().map(|u| &u.id).collect();
        users.sort();
        for u in users {
            out.push(Outbound {
                user_id: u.clone(),
                method: "getFileUploadLimits".into(),
                payload: payload.clone(),
            });
        }
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
    Outbound {
        user_id: user.to_string(),
        method: "uploadFileProgress".into(),
        payload: json!({ "fileId": file_id, "progress": progress }),
    }
}
