//! Sending files: the upload task, the streamed multipart POST, `sendFile`;
//! [`FileUpload`] for the options, [`Client::upload`] for step 2 alone.

use super::error::Transfer;
use super::http::{self, FILES_PATH};
use super::mime;
use super::multipart::{new_boundary, MultipartBody, Part, Progress};
use crate::error::{Error, Result, TimeoutKind};
use crate::protocol::methods::{SendFile, SendFileResponse, UploadFile};
use crate::protocol::{InvalidInput, Method, ParseMode};
use crate::Client;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The content type that makes the server show a webp image as a sticker
/// (with its transparent background).
pub const STICKER_MIME_TYPE: &str = "sticker/webp";

/// One part of an upload: a reader giving exactly `len` bytes, the file
/// name to show, and its MIME type (guessed from the name unless set).
pub struct UploadPart<'a> {
    reader: Box<dyn Read + 'a>,
    len: u64,
    name: String,
    mime_type: Option<String>,
}

impl fmt::Debug for UploadPart<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadPart")
            .field("len", &self.len)
            .field("name", &self.name)
            .field("mime_type", &self.mime_type_or_guess())
            .finish_non_exhaustive()
    }
}

impl<'a> UploadPart<'a> {
    /// `len` bytes from `reader`, shown as `name`. Reading stops at `len`
    /// bytes; a reader that ends sooner fails the upload with
    /// [`FileError::SizeMismatch`](super::FileError::SizeMismatch).
    pub fn new(reader: impl Read + 'a, len: u64, name: impl Into<String>) -> UploadPart<'a> {
        UploadPart {
            reader: Box::new(reader),
            len,
            name: name.into(),
            mime_type: None,
        }
    }

    /// The file at `path`: its size is read from the open file, its name is
    /// the path's last component. Anything but a regular file (a directory,
    /// a FIFO, a device) is [`Error::Invalid`].
    pub fn open(path: impl AsRef<Path>) -> Result<UploadPart<'static>> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                InvalidInput::new("path", format!("{} does not name a file", path.display()))
            })?;
        let opened =
            crate::local_file::open(path, crate::local_file::Accept::Files).map_err(|e| {
                Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("cannot open {}: {e}", path.display()),
                ))
            })?;
        match opened {
            crate::local_file::Local::File(file, len) => Ok(UploadPart::new(file, len, name)),
            _ => Err(InvalidInput::new("path", format!("{} is not a file", path.display())).into()),
        }
    }

    /// Sets the MIME type (default: guessed from the name's extension).
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> UploadPart<'a> {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// Sets the file name shown in the chat.
    pub fn file_name(mut self, name: impl Into<String>) -> UploadPart<'a> {
        self.name = name.into();
        self
    }

    /// The length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the part is empty (empty files are sent too).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The MIME type sent: the one set, or the guess from the name.
    pub fn mime_type_or_guess(&self) -> &str {
        self.mime_type
            .as_deref()
            .unwrap_or_else(|| mime::guess(&self.name))
    }

    fn into_part(self, field: &'static str) -> Result<Part<'a>> {
        let which = if field == "file" {
            "file.name"
        } else {
            "preview.name"
        };
        if self.name.trim().is_empty() {
            return Err(InvalidInput::new(which, "must not be empty").into());
        }
        let mime_type = self.mime_type_or_guess().to_string();
        check_mime(&mime_type)?;
        Ok(Part {
            field,
            file_name: self.name,
            mime_type,
            reader: self.reader,
            len: self.len,
        })
    }
}

/// A MIME type must be `type/subtype` of visible ASCII (it becomes a
/// header line).
fn check_mime(mime: &str) -> std::result::Result<(), InvalidInput> {
    let visible = mime.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    match mime.split_once('/') {
        Some((t, s)) if visible && !t.trim().is_empty() && !s.trim().is_empty() => Ok(()),
        _ => Err(InvalidInput::new(
            "mimeType",
            format!("{mime:?} is not a MIME type like text/plain"),
        )),
    }
}

impl Client {
    /// Step 2 of 3 of sending a file: streams `file` (and an optional
    /// `preview` image, which the server shows instead of a plain file
    /// icon) to the upload task `task_id` of
    /// [`create_upload_task`](Client::create_upload_task), and returns the
    /// `temporalFileId` for [`send_uploaded_file`](Client::send_uploaded_file)
    /// or [`edit_chat_avatar`](Client::edit_chat_avatar).
    ///
    /// The body is sent with a real `Content-Length` straight from the
    /// readers: memory use does not depend on the file size. The file is
    /// checked against the server's known upload limits first.
    pub fn upload(
        &self,
        task_id: &str,
        file: UploadPart<'_>,
        preview: Option<UploadPart<'_>>,
    ) -> Result<String> {
        self.check_upload_limits(&file.name, file.len)?;
        self.post_upload(task_id, file, preview, None, self.timeout())
    }

    /// Sends the file at `path` to a chat: the upload task, the upload and
    /// `sendFile`, with the name and MIME type taken from the path. See
    /// [`Client::file_upload`] for a caption, a preview and other options.
    pub fn send_file(
        &self,
        chat_id: impl AsRef<str>,
        path: impl AsRef<Path>,
    ) -> Result<SendFileResponse> {
        self.file_upload(chat_id.as_ref()).path(path).send()
    }

    /// Starts sending a file to chat `chat_id` with options:
    ///
    /// ```no_run
    /// # fn main() -> trueconf_bot::Result<()> {
    /// # let client: trueconf_bot::Client = unimplemented!();
    /// use trueconf_bot::protocol::ParseMode;
    /// let sent = client
    ///     .file_upload("chat-id")
    ///     .path("report.pdf")
    ///     .caption("<b>Weekly report</b>", ParseMode::Html)
    ///     .progress(|sent, total| eprintln!("{sent}/{total}"))
    ///     .send()?;
    /// println!("file id {:?}", sent.file_id);
    /// # Ok(()) }
    /// ```
    pub fn file_upload(&self, chat_id: impl Into<String>) -> FileUpload<'_> {
        FileUpload {
            client: self,
            chat_id: chat_id.into(),
            file: None,
            preview: None,
            file_name: None,
            mime_type: None,
            sticker: false,
            caption: None,
            reply_to: None,
            progress: None,
            timeout: self.timeout(),
        }
    }

    /// The multipart POST itself.
    pub(crate) fn post_upload<'a>(
        &self,
        task_id: &str,
        file: UploadPart<'a>,
        preview: Option<UploadPart<'a>>,
        progress: Option<Progress<'a>>,
        timeout: Duration,
    ) -> Result<String> {
        if task_id.trim().is_empty() {
            return Err(InvalidInput::new("uploadTaskId", "must not be empty").into());
        }
        let mut parts = vec![file.into_part("file")?];
        if let Some(p) = preview {
            let mut p = p.into_part("preview")?;
            if p.file_name == parts[0].file_name {
                // The server wants the two names to differ.
                p.file_name = format!("preview-{}", p.file_name);
            }
            parts.push(p);
        }
        let boundary = new_boundary();
        let inner = self.inner();
        let mut body =
            http::UntilClosed::new(MultipartBody::new(&boundary, parts, progress), inner);
        let url = inner.config.endpoint.http_url(FILES_PATH);
        let limits = inner.agent.limits(TimeoutKind::Http, timeout);
        let sent = inner
            .agent
            .post(&url)
            .config()
            .timeout_per_read(Some(crate::time::bounded(timeout)))
            .timeout_per_write(Some(crate::time::bounded(timeout)))
            .timeout_recv_response(Some(crate::time::bounded(timeout)))
            .build()
            .header("Upload-Task-Id", task_id)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            // Set explicitly, ureq sends the reader length-delimited, not
            // chunked.
            .header("Content-Length", body.get_ref().len().to_string())
            .send(ureq::SendBody::from_reader(&mut body));
        let mut response = match sent {
            Ok(r) => r,
            Err(_) if body.stopped => return Err(Error::Closed),
            Err(e) => {
                return Err(match body.get_mut().failure() {
                    Some(short) => short.into(),
                    None => http::transport_error(e, &url, limits),
                })
            }
        };
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(http::ERROR_BODY_LIMIT)
            .lossy_utf8(true)
            .read_to_string()
            .map_err(|e| http::transport_error(e, &url, limits))?;
        if status != 200 {
            return Err(http::refusal(Transfer::Upload, status, &text, &url));
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Uploaded {
            temporal_file_id: String,
        }
        let uploaded: Uploaded = serde_json::from_str(&text)
            .map_err(|e| Error::decode("the upload response", e, &text))?;
        Ok(uploaded.temporal_file_id)
    }
}

/// Where a part's bytes come from.
enum Source<'a> {
    Path(PathBuf),
    Part(UploadPart<'a>),
}

impl<'a> Source<'a> {
    fn open(self) -> Result<UploadPart<'a>> {
        match self {
            Source::Path(p) => UploadPart::open(p),
            Source::Part(p) => Ok(p),
        }
    }
}

/// A file being prepared for sending; from [`Client::file_upload`].
#[must_use = "nothing is sent until send() or upload()"]
pub struct FileUpload<'a> {
    client: &'a Client,
    chat_id: String,
    file: Option<Source<'a>>,
    preview: Option<Source<'a>>,
    file_name: Option<String>,
    mime_type: Option<String>,
    sticker: bool,
    caption: Option<(String, ParseMode)>,
    reply_to: Option<String>,
    progress: Option<Progress<'a>>,
    timeout: Duration,
}

impl fmt::Debug for FileUpload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = |s: &Option<Source<'_>>| match s {
            None => "none".to_string(),
            Some(Source::Path(p)) => p.display().to_string(),
            Some(Source::Part(p)) => format!("{p:?}"),
        };
        f.debug_struct("FileUpload")
            .field("chat_id", &self.chat_id)
            .field("file", &source(&self.file))
            .field("preview", &source(&self.preview))
            .field("file_name", &self.file_name)
            .field("mime_type", &self.mime_type)
            .field("sticker", &self.sticker)
            .field("reply_to", &self.reply_to)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<'a> FileUpload<'a> {
    /// The file at `path` (opened when sending).
    pub fn path(mut self, path: impl AsRef<Path>) -> Self {
        self.file = Some(Source::Path(path.as_ref().to_path_buf()));
        self
    }

    /// `len` bytes from `reader`, shown as `name`.
    pub fn reader(mut self, reader: impl Read + 'a, len: u64, name: impl Into<String>) -> Self {
        self.file = Some(Source::Part(UploadPart::new(reader, len, name)));
        self
    }

    /// A preview image from a file (MIME type guessed from its name).
    /// Images without a preview show as plain files.
    pub fn preview_path(mut self, path: impl AsRef<Path>) -> Self {
        self.preview = Some(Source::Path(path.as_ref().to_path_buf()));
        self
    }

    /// A preview image: `len` bytes from `reader`, named `name`, of type
    /// `mime_type` (e.g. `image/webp`).
    pub fn preview(
        mut self,
        reader: impl Read + 'a,
        len: u64,
        name: impl Into<String>,
        mime_type: impl Into<String>,
    ) -> Self {
        self.preview = Some(Source::Part(
            UploadPart::new(reader, len, name).mime_type(mime_type),
        ));
        self
    }

    /// The file name shown in the chat (default: the path's or reader's).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// The MIME type (default: guessed from the file name's extension).
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// Sends a webp image as a sticker: content type `sticker/webp`, and,
    /// for a file from a path without a preview, the same image as its
    /// preview (as the official SDK does).
    pub fn sticker(mut self) -> Self {
        self.sticker = true;
        self
    }

    /// A caption under the file.
    pub fn caption(mut self, text: impl Into<String>, parse_mode: ParseMode) -> Self {
        self.caption = Some((text.into(), parse_mode));
        self
    }

    /// Makes the message a reply to `message_id`.
    pub fn reply_to(mut self, message_id: impl Into<String>) -> Self {
        self.reply_to = Some(message_id.into());
        self
    }

    /// Called as the file's bytes go out with `(bytes sent, file size)`
    /// (the preview is not counted); once with `(0, 0)` for an empty file.
    pub fn progress(mut self, progress: impl FnMut(u64, u64) + 'a) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// The longest the HTTP transfer may stall (no byte moving) and the
    /// longest wait for each answer; default: the client's request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Steps 1 and 2: checks the file against the server's known upload
    /// limits, creates the upload task and uploads; returns the
    /// `temporalFileId` (for `sendFile` or `editChatAvatar`).
    pub fn upload(mut self) -> Result<String> {
        self.upload_inner()
    }

    /// All three steps: upload, then `sendFile` with the caption and reply.
    pub fn send(mut self) -> Result<SendFileResponse> {
        // Refuse a bad caption or chat id before uploading anything.
        let mut message = SendFile::new(self.chat_id.clone(), "pending");
        if let Some((text, mode)) = self.caption.take() {
            message = message.caption(text, mode);
        }
        if let Some(reply) = self.reply_to.take() {
            message = message.reply_to(reply);
        }
        message.validate()?;
        let client = self.client;
        let timeout = self.timeout;
        message.content.temporal_file_id = self.upload_inner()?;
        client.with_timeout(timeout).request(&message)
    }

    fn upload_inner(&mut self) -> Result<String> {
        let source = self
            .file
            .take()
            .ok_or_else(|| InvalidInput::new("file", "give path() or reader()"))?;
        let sticker_path = match (&source, self.sticker) {
            (Source::Path(p), true) => Some(p.clone()),
            _ => None,
        };
        let mut file = source.open()?;
        if let Some(name) = self.file_name.take() {
            file.name = name;
        }
        if let Some(mime) = self.mime_type.take() {
            file.mime_type = Some(mime);
        }
        if self.sticker {
            file.mime_type = Some(STICKER_MIME_TYPE.into());
        }
        let preview = match (self.preview.take(), sticker_path) {
            (Some(p), _) => Some(p.open()?),
            (None, Some(path)) => {
                let p = UploadPart::open(path)?.mime_type("image/webp");
                let name = format!("preview-{}", file.name);
                Some(p.file_name(name))
            }
            (None, None) => None,
        };
        let client = self.client;
        client.check_upload_limits(&file.name, file.len)?;
        let task = client
            .with_timeout(self.timeout)
            .request(&UploadFile::new(file.len).file_name(file.name.clone()))?;
        client.post_upload(
            &task.upload_task_id,
            file,
            preview,
            self.progress.take(),
            self.timeout,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_need_a_name_and_a_real_mime_type() {
        assert!(UploadPart::new(&b""[..], 0, " ").into_part("file").is_err());
        let bad = UploadPart::new(&b""[..], 0, "a.txt").mime_type("text/plain\r\nX: y");
        assert!(bad.into_part("file").is_err());
        let p = UploadPart::new(&b"x"[..], 1, "a.PNG")
            .into_part("file")
            .unwrap();
        assert_eq!(p.mime_type, "image/png");
        assert!(check_mime("text").is_err());
        assert!(check_mime("text/plain; charset=utf-8").is_ok());
    }
}
