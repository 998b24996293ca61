//! Files: sending (upload task, streamed multipart upload, `sendFile`) and
//! receiving (wait for the upload to finish, streamed download, verified
//! byte count), with the server's upload limits checked locally.
//!
//! Sending takes three steps, all done by [`Client::send_file`] or by the
//! builder [`Client::file_upload`]:
//! 1. `uploadFile` creates an upload task ([`Client::create_upload_task`]);
//! 2. `POST /bridge/api/client/v1/files` uploads the bytes as
//!    `multipart/form-data` with the header `Upload-Task-Id`
//!    ([`Client::upload`]) and answers with a `temporalFileId`;
//! 3. `sendFile` posts it to a chat ([`Client::send_uploaded_file`]); the
//!    same id can instead become a chat avatar
//!    ([`Client::edit_chat_avatar`]).
//!
//! The upload body streams from the reader with a real `Content-Length`
//! and a download streams into the writer: memory use does not grow with
//! the file size.
//!
//! Receiving: [`Client::download`], [`Client::download_to_path`],
//! [`Client::download_preview`] and the builder [`Client::file_download`].
//! Download URLs name the server as it sees itself, often an internal
//! address behind NAT; by default they are pointed at the server the client
//! was configured with ([`ClientBuilder::keep_download_urls`] turns that
//! off).
//!
//! [`ClientBuilder::keep_download_urls`]: crate::ClientBuilder::keep_download_urls
//! [`Client::send_file`]: crate::Client::send_file
//! [`Client::file_upload`]: crate::Client::file_upload
//! [`Client::create_upload_task`]: crate::Client::create_upload_task
//! [`Client::upload`]: crate::Client::upload
//! [`Client::send_uploaded_file`]: crate::Client::send_uploaded_file
//! [`Client::edit_chat_avatar`]: crate::Client::edit_chat_avatar
//! [`Client::download`]: crate::Client::download
//! [`Client::download_to_path`]: crate::Client::download_to_path
//! [`Client::download_preview`]: crate::Client::download_preview
//! [`Client::file_download`]: crate::Client::file_download

mod download;
mod error;
mod http;
mod limits;
mod mime;
mod multipart;
mod ready;
mod safe_path;
mod upload;

pub use download::FileDownload;
pub use error::{FileError, Transfer};
pub use mime::{extension, guess as guess_mime_type, OCTET_STREAM};
pub use safe_path::{remove_partial_downloads, sanitize as safe_file_name};
pub use upload::{FileUpload, UploadPart, STICKER_MIME_TYPE};
