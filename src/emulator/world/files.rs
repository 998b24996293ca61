//! The Chatbot API methods on files: uploadFile, sendFile, getFileInfo,
//! progress subscriptions, getFileUploadLimits.

use super::args::Args;
use super::codes::FILE_NOT_FOUND;
use super::messages::NewMessage;
use super::render::answer;
use super::roles::Action;
use super::storage::{progress_event, FileRecord, ReadyState, Subscriber, UploadTask};
use super::{Outbound, SessionId, World};
use crate::protocol::methods::{
    FileInfo, FilePreview, GetFileInfo, ResultResponse, SendFile, SendFileResponse,
    SubscribeFileProgress, UnsubscribeFileProgress, UploadFile,
};
use crate::protocol::{AttachmentContent, Content, TextContent};
use serde_json::Value;

impl World {
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

    /// `subscribeFileProgress {fileId}` -> `{result}`, for the calling
    /// session only (the subscription belongs to its connection). On a
    /// READY file one final progress event (progress = size) goes to that
    /// session at once (guide 8.4) and nothing is kept; on an uploading file
    /// the session gets every progress until READY, until it unsubscribes or
    /// until it closes; a NOT_AVAILABLE file answers false. 308. Without a
    /// session nothing is kept or sent (the answer is the same).
    pub(super) fn subscribe_file_progress(
        &mut self,
        actor: &str,
        session: Option<SessionId>,
        args: &Args,
        out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let file_id = args.decode::<SubscribeFileProgress>()?.file_id;
        let record = self.visible_file(&file_id, actor)?;
        let (state, size) = (record.state, record.file.size);
        let result = match state {
            ReadyState::NotAvailable => false,
            ReadyState::Ready => {
                if let Some(session) = session {
                    out.push(progress_event(actor, &file_id, size).for_session(session));
                }
                true
            }
            ReadyState::Uploading(_) => {
                if let (Some(session), Some(r)) = (session, self.files.get_mut(&file_id)) {
                    r.subscribers.insert(Subscriber {
                        session,
                        user: actor.to_string(),
                    });
                }
                true
            }
        };
        answer(ResultResponse { result })
    }

    /// `unsubscribeFileProgress {fileId}` -> `{result: true}`: ends the
    /// calling session's subscription (those of other sessions, of the same
    /// user too, go on); 308.
    pub(super) fn unsubscribe_file_progress(
        &mut self,
        actor: &str,
        session: Option<SessionId>,
        args: &Args,
        _out: &mut Vec<Outbound>,
    ) -> Result<Value, u32> {
        let file_id = args.decode::<UnsubscribeFileProgress>()?.file_id;
        self.visible_file(&file_id, actor)?;
        if let (Some(session), Some(r)) = (session, self.files.get_mut(&file_id)) {
            r.subscribers.remove(&Subscriber {
                session,
                user: actor.to_string(),
            });
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
}
