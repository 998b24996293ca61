//! File methods: upload tasks, sending files, file info, upload limits and
//! upload-progress subscriptions.

use super::{checks, empty_payload, ResultResponse};
use crate::protocol::lenient;
use crate::protocol::{FileReadyState, InvalidInput, Method, ParseMode};
use serde::{Deserialize, Serialize};

/// `uploadFile`: creates an upload task for a file of `fileSize` bytes.
/// The SDK also sends `fileName`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadFile {
    /// The file's size in bytes.
    pub file_size: u64,
    /// The file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

impl UploadFile {
    /// An upload task for `file_size` bytes.
    pub fn new(file_size: u64) -> UploadFile {
        UploadFile {
            file_size,
            file_name: None,
        }
    }

    /// Names the file.
    pub fn file_name(mut self, name: impl Into<String>) -> UploadFile {
        self.file_name = Some(name.into());
        self
    }
}

/// The answer to `uploadFile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadTask {
    /// The id to send in the upload's `Upload-Task-Id` header.
    pub upload_task_id: String,
}

impl Method for UploadFile {
    const NAME: &'static str = "uploadFile";
    type Response = UploadTask;
    fn validate(&self) -> Result<(), InvalidInput> {
        // Empty files are legitimate: no lower bound on the size.
        match &self.file_name {
            Some(name) => checks::id("fileName", name),
            None => Ok(()),
        }
    }
}

/// A caption under a sent file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Caption {
    /// The caption text.
    pub text: String,
    /// How the text is rendered.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub parse_mode: ParseMode,
}

/// The `content` of `sendFile`. Sent as `temporalFileId` (the SDK and spec
/// 8.1.3); `fileId` (spec 11.2.87) is accepted when decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendFileContent {
    /// The id the HTTP upload answered with.
    #[serde(alias = "fileId")]
    pub temporal_file_id: String,
    /// The caption, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<Caption>,
}

/// `sendFile`: posts an uploaded file to a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendFile {
    /// The chat.
    pub chat_id: String,
    /// The message replied to (left out when unset, as the SDK does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_message_id: Option<String>,
    /// The file and its caption.
    pub content: SendFileContent,
}

impl SendFile {
    /// Posts uploaded file `temporal_file_id` to chat `chat_id`.
    pub fn new(chat_id: impl Into<String>, temporal_file_id: impl Into<String>) -> SendFile {
        SendFile {
            chat_id: chat_id.into(),
            reply_message_id: None,
            content: SendFileContent {
                temporal_file_id: temporal_file_id.into(),
                caption: None,
            },
        }
    }

    /// Adds a caption.
    pub fn caption(mut self, text: impl Into<String>, parse_mode: ParseMode) -> SendFile {
        self.content.caption = Some(Caption {
            text: text.into(),
            parse_mode,
        });
        self
    }

    /// Makes the message a reply to `message_id`.
    pub fn reply_to(mut self, message_id: impl Into<String>) -> SendFile {
        self.reply_message_id = Some(message_id.into());
        self
    }
}

/// The answer to `sendFile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendFileResponse {
    /// The chat.
    pub chat_id: String,
    /// The new message's id.
    pub message_id: String,
    /// When it was sent, in milliseconds since the Unix epoch.
    #[serde(deserialize_with = "lenient::u64_any")]
    pub timestamp: u64,
    /// The file's permanent id, for `getFileInfo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// The separate caption message's id, when the server makes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption_message_id: Option<String>,
}

impl Method for SendFile {
    const NAME: &'static str = "sendFile";
    type Response = SendFileResponse;
    fn validate(&self) -> Result<(), InvalidInput> {
        checks::id("chatId", &self.chat_id)?;
        checks::id("content.temporalFileId", &self.content.temporal_file_id)?;
        if let Some(reply) = &self.reply_message_id {
            checks::id("replyMessageId", reply)?;
        }
        if let Some(caption) = &self.content.caption {
            checks::text("content.caption.text", &caption.text)?;
            checks::parse_mode("content.caption.parseMode", &caption.parse_mode)?;
        }
        Ok(())
    }
}

/// Declares a `{fileId}` request with its constructor.
macro_rules! file_request {
    ($(#[$meta:meta])* $name:ident, $wire:literal, $response:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// The file's id on the server (`id` accepted when decoding).
            #[serde(alias = "id")]
            pub file_id: String,
        }

        impl $name {
            /// The request for file `file_id`.
            pub fn new(file_id: impl Into<String>) -> $name {
                $name {
                    file_id: file_id.into(),
                }
            }
        }

        impl Method for $name {
            const NAME: &'static str = $wire;
            type Response = $response;
            fn validate(&self) -> Result<(), InvalidInput> {
                checks::id("fileId", &self.file_id)
            }
        }
    };
}

file_request! {
    /// `getFileInfo`: a file's name, size, state and download link.
    GetFileInfo, "getFileInfo", FileInfo
}

file_request! {
    /// `subscribeFileProgress`: upload-progress events for a file still
    /// uploading to the server.
    SubscribeFileProgress, "subscribeFileProgress", ResultResponse
}

file_request! {
    /// `unsubscribeFileProgress`: stops upload-progress events.
    UnsubscribeFileProgress, "unsubscribeFileProgress", ResultResponse
}

/// A preview of a file (e.g. a smaller image).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilePreview {
    /// The preview's file name.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub name: String,
    /// Its MIME type.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub mime_type: String,
    /// Its size in bytes.
    #[serde(default, deserialize_with = "lenient::u64_or_zero")]
    pub size: u64,
    /// Where to download it.
    #[serde(default)]
    pub download_url: Option<String>,
}

/// The answer to `getFileInfo`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileInfo {
    /// The file name (empty if the server sent none).
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub name: String,
    /// The size in bytes.
    #[serde(deserialize_with = "lenient::u64_any")]
    pub size: u64,
    /// The MIME type.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub mime_type: String,
    /// Where to download it; `None` while not available.
    #[serde(default)]
    pub download_url: Option<String>,
    /// Whether it is uploaded, uploading or gone.
    pub ready_state: FileReadyState,
    /// The file's id on the server.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub info_hash: String,
    /// The file id, when the server sends it (otherwise `infoHash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// Its previews (`null` is none; undecodable entries are skipped).
    #[serde(default, deserialize_with = "lenient::lossy_vec")]
    pub previews: Vec<FilePreview>,
}

use crate::secret::shown_url;

impl std::fmt::Debug for FilePreview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilePreview")
            .field("name", &self.name)
            .field("mime_type", &self.mime_type)
            .field("size", &self.size)
            .field("download_url", &shown_url(&self.download_url))
            .finish()
    }
}

impl std::fmt::Debug for FileInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileInfo")
            .field("name", &self.name)
            .field("size", &self.size)
            .field("mime_type", &self.mime_type)
            .field("download_url", &shown_url(&self.download_url))
            .field("ready_state", &self.ready_state)
            .field("info_hash", &self.info_hash)
            .field("file_id", &self.file_id)
            .field("previews", &self.previews)
            .finish()
    }
}

empty_payload! {
    /// `getFileUploadLimits`: the server's file size and extension limits
    /// (payload `{}`).
    GetFileUploadLimits
}

impl GetFileUploadLimits {
    /// The request.
    pub fn new() -> GetFileUploadLimits {
        GetFileUploadLimits
    }
}

impl Method for GetFileUploadLimits {
    const NAME: &'static str = "getFileUploadLimits";
    type Response = FileUploadLimits;
}

string_enum! {
    /// How [`FileExtensions::list`] applies.
    ExtensionsMode {
        /// `allow`: only these extensions may be uploaded.
        Allow = "allow",
        /// `block`: these extensions may not be uploaded.
        Block = "block",
    }
}

/// Which file extensions the server accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileExtensions {
    /// Whether `list` is an allow list or a block list.
    pub mode: ExtensionsMode,
    /// The extensions.
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub list: Vec<String>,
}

/// The server's upload limits: the answer to `getFileUploadLimits`, also
/// pushed by the server as a `getFileUploadLimits` event when they change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUploadLimits {
    /// The largest file accepted, in bytes; `None` when unlimited.
    #[serde(default, deserialize_with = "lenient::opt_u64_any")]
    pub max_size: Option<u64>,
    /// The extension rule; `None` when any extension is accepted.
    #[serde(default, deserialize_with = "lenient::lossy_option")]
    pub extensions: Option<FileExtensions>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::methods::testing::{assert_request, response};
    use serde_json::json;

    const FILE: &str = "e09dbd63a16bd8cd7bddda7193c1c4ff0d2f6de5";

    #[test]
    fn spec_8_1_1_upload_file() {
        assert_request(&UploadFile::new(1487), json!({"fileSize": 1487}));
        assert_request(
            &UploadFile::new(1487).file_name("some_image.png"),
            json!({"fileSize": 1487, "fileName": "some_image.png"}),
        );
        let task =
            response::<UploadFile>(json!({"uploadTaskId": "2e9537c4-e82c-467c-a149-3c1b41326def"}));
        assert_eq!(task.upload_task_id, "2e9537c4-e82c-467c-a149-3c1b41326def");
        assert!(
            UploadFile::new(0).validate().is_ok(),
            "empty files are sent too"
        );
    }

    #[test]
    fn spec_8_1_3_send_file() {
        let chat = "bea15543d971a83c8ba1f103104791762c6b4b8f";
        let tmp = "32506b12-6a1a-4cd3-be24-373c7bcf9510";
        assert_request(
            &SendFile::new(chat, tmp),
            json!({"chatId": chat, "content": {"temporalFileId": tmp}}),
        );
        let legacy: SendFile =
            serde_json::from_value(json!({"chatId": chat, "content": {"fileId": tmp}})).unwrap();
        assert_eq!(legacy, SendFile::new(chat, tmp));
        let r = response::<SendFile>(json!({
            "chatId": chat,
            "timestamp": 1735134222098u64,
            "messageId": "c8c3eee8-9ad0-4638-9692-ad16391a4256",
            "fileId": FILE
        }));
        assert_eq!(r.file_id.as_deref(), Some(FILE));
    }

    #[test]
    fn send_file_with_caption_and_reply() {
        assert_request(
            &SendFile::new("c", "t")
                .caption("<b>Report</b>", ParseMode::Html)
                .reply_to("m"),
            json!({
                "chatId": "c",
                "replyMessageId": "m",
                "content": {
                    "temporalFileId": "t",
                    "caption": {"text": "<b>Report</b>", "parseMode": "html"}
                }
            }),
        );
        let ok = SendFile::new("c", "t").caption("é".repeat(4096), ParseMode::Text);
        assert!(ok.validate().is_ok());
        let long = SendFile::new("c", "t").caption("é".repeat(4097), ParseMode::Text);
        assert_eq!(long.validate().unwrap_err().field, "content.caption.text");
        assert!(SendFile::new("c", "").validate().is_err());
    }

    #[test]
    fn spec_8_2_get_file_info() {
        assert_request(&GetFileInfo::new(FILE), json!({"fileId": FILE}));
        let info = response::<GetFileInfo>(json!({
            "name": "AirHelp_Logo.webp",
            "size": 3446,
            "mimeType": "image/webp",
            "downloadUrl": format!("https://10.111.15.116/bridge/api/client/v1/files?file_id={FILE}"),
            "readyState": 2,
            "previews": [{
                "name": "preview-2278f47b821f72e4a44ab6b980180518.webp",
                "mimeType": "image/webp",
                "size": 1264,
                "downloadUrl": format!("https://10.111.15.116/bridge/api/client/v1/files/preview?file_id={FILE}")
            }],
            "infoHash": FILE
        }));
        assert_eq!(info.ready_state, FileReadyState::Ready);
        assert_eq!(info.previews.len(), 1);
        let gone: FileInfo = serde_json::from_value(json!({
            "name": "x", "size": 1, "mimeType": "", "downloadUrl": null,
            "readyState": 0, "infoHash": "h", "previews": null
        }))
        .unwrap();
        assert_eq!((gone.download_url, gone.previews.len()), (None, 0));
    }

    #[test]
    fn spec_8_3_and_8_5_progress_subscriptions() {
        assert_request(&SubscribeFileProgress::new(FILE), json!({"fileId": FILE}));
        assert!(response::<SubscribeFileProgress>(json!({"result": true})).result);
        assert_request(&UnsubscribeFileProgress::new(FILE), json!({"fileId": FILE}));
        assert!(response::<UnsubscribeFileProgress>(json!({"result": true})).result);
        // Spec 11.2.104's table names the field `id`.
        let by_id: UnsubscribeFileProgress = serde_json::from_value(json!({"id": FILE})).unwrap();
        assert_eq!(by_id.file_id, FILE);
        assert!(GetFileInfo::new("").validate().is_err());
    }

    #[test]
    fn upload_limits() {
        assert_request(&GetFileUploadLimits::new(), json!({}));
        let limits = response::<GetFileUploadLimits>(json!({
            "maxSize": 10485760,
            "extensions": {"mode": "block", "list": ["exe", "bat"]}
        }));
        assert_eq!(limits.max_size, Some(10485760));
        let ext = limits.extensions.unwrap();
        assert_eq!((ext.mode, ext.list.len()), (ExtensionsMode::Block, 2));
        let open: FileUploadLimits =
            serde_json::from_value(json!({"maxSize": null, "extensions": null})).unwrap();
        assert_eq!(open, FileUploadLimits::default());
    }

    #[test]
    fn debug_hides_download_tokens() {
        let info: FileInfo = serde_json::from_value(serde_json::json!({
            "name": "a.png", "size": 1, "mimeType": "image/png", "readyState": 2, "infoHash": "h",
            "downloadUrl": "https://h/files?file_id=f&token=s3cr3t",
            "previews": [{"name": "p", "mimeType": "image/webp", "size": 1,
                          "downloadUrl": "https://h/files/preview?file_id=f&token=s3cr3t"}]
        }))
        .unwrap();
        let text = format!("{info:?}");
        assert!(
            !text.contains("s3cr3t") && text.contains("token=***"),
            "{text}"
        );
    }
}
