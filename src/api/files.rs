//! The file methods of the WebSocket API. Uploading bytes, downloading and
//! the upload limits are in `crate::files`.

use super::api;
use crate::protocol::methods::*;

api! {
    /// Creates an upload task for a file of `file_size` bytes (step 1 of 3
    /// of sending a file).
    create_upload_task / create_upload_task_pending (file_size: u64)
        -> UploadFile => UploadTask = UploadFile::new(file_size);
    /// Sends an uploaded file by its temporal id (step 3 of 3).
    send_uploaded_file / send_uploaded_file_pending (chat_id: impl Into<String>, temporal_file_id: impl Into<String>)
        -> SendFile => SendFileResponse = SendFile::new(chat_id, temporal_file_id);
    /// A file's name, size, state, download URL and previews.
    get_file_info / get_file_info_pending (file_id: impl Into<String>)
        -> GetFileInfo => FileInfo = GetFileInfo::new(file_id);
    /// Asks for upload-progress events of a file still uploading.
    subscribe_file_progress / subscribe_file_progress_pending (file_id: impl Into<String>)
        -> SubscribeFileProgress => ResultResponse = SubscribeFileProgress::new(file_id);
    /// Stops upload-progress events of a file.
    unsubscribe_file_progress / unsubscribe_file_progress_pending (file_id: impl Into<String>)
        -> UnsubscribeFileProgress => ResultResponse = UnsubscribeFileProgress::new(file_id);
}
