//! Interim file transfer for the C ABI, until the `files` branch lands
//! `Client::send_file` and `Client::download_to_path`: then
//! `tcb_client_send_file` / `tcb_client_download_file` call those and this
//! file goes away. Same wire flow as the official SDK: `uploadFile`, a
//! multipart POST with `Upload-Task-Id`, `sendFile`; `getFileInfo` (waiting
//! on upload progress while the file is still uploading), then GET
//! `downloadUrl`.

use crate::auth::http_error;
use crate::error::{Error, Result, TimeoutKind};
use crate::protocol::methods::{SendFile, SendFileResponse, UploadFile};
use crate::protocol::{FileReadyState, ParseMode};
use crate::Client;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

const UPLOAD_PATH: &str = "/bridge/api/client/v1/files";

/// Uploads `path` and posts it to `chat_id`.
pub(crate) fn send_file(
    client: &Client,
    chat_id: &str,
    path: &Path,
    caption: Option<&str>,
) -> Result<SendFileResponse> {
    let mut file = File::open(path)
        .map_err(|e| Error::File(format!("cannot open {}: {e}", path.display())))?;
    let size = file.metadata()?.len();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".into());
    let task = client.request(&UploadFile::new(size).file_name(name.clone()))?;

    let inner = client.inner();
    let url = inner.config.endpoint.http_url(UPLOAD_PATH);
    let boundary = format!("trueconf-bot-{:016x}", crate::config::random_u64());
    let quoted = name.replace(['"', '\r', '\n'], "_");
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{quoted}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    file.read_to_end(&mut body)?;
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());

    let timeout = client.timeout();
    let mut response = inner
        .agent
        .post(&url)
        .config()
        .timeout_global(Some(timeout))
        .build()
        .header("Upload-Task-Id", &task.upload_task_id)
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .send(&body[..])
        .map_err(|e| http_error(e, &url, timeout))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| http_error(e, &url, timeout))?;
    if status != 200 {
        return Err(Error::Http {
            status,
            url,
            body: text.chars().take(512).collect(),
        });
    }
    let reply: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::decode("upload response", e, &text))?;
    let temporal = reply["temporalFileId"]
        .as_str()
        .ok_or_else(|| Error::decode("upload response", "no temporalFileId", &text))?;

    let mut request = SendFile::new(chat_id, temporal);
    if let Some(caption) = caption {
        request = request.caption(caption, ParseMode::Text);
    }
    client.request(&request)
}

/// Downloads file `file_id` into `dir` under its (sanitised) server name.
pub(crate) fn download_to_path(client: &Client, file_id: &str, dir: &Path) -> Result<PathBuf> {
    let deadline = Instant::now() + client.timeout();
    let mut info = client.get_file_info(file_id)?;
    if info.ready_state == FileReadyState::Uploading {
        let watch = client.inner().watch_progress(file_id);
        client.subscribe_file_progress(file_id)?;
        info = client.get_file_info(file_id)?;
        while info.ready_state == FileReadyState::Uploading {
            let left = deadline.saturating_duration_since(Instant::now());
            match watch.rx.recv_timeout(left) {
                Ok(progress) if progress >= info.size => {
                    info = client.get_file_info(file_id)?;
                }
                Ok(_) => {}
                Err(_) => {
                    let _ = client.unsubscribe_file_progress(file_id);
                    return Err(Error::Timeout {
                        kind: TimeoutKind::FileReady,
                        after: client.timeout(),
                    });
                }
            }
        }
        let _ = client.unsubscribe_file_progress(file_id);
    }
    if info.ready_state != FileReadyState::Ready {
        return Err(Error::File(format!(
            "file {file_id} is not available on the server"
        )));
    }
    let url = info
        .download_url
        .clone()
        .ok_or_else(|| Error::File(format!("file {file_id} has no download URL")))?;
    let inner = client.inner();
    let url = if inner.config.rewrite_download_urls {
        inner.config.endpoint.rebase(&url)
    } else {
        url
    };

    let timeout = client.timeout();
    let mut response = inner
        .agent
        .get(&url)
        .config()
        .timeout_global(Some(timeout))
        .build()
        .call()
        .map_err(|e| http_error(e, &url, timeout))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(Error::Http {
            status,
            url,
            body: String::new(),
        });
    }
    let name = safe_name(&info.name);
    let target = dir.join(&name);
    let partial = dir.join(format!(".{name}.part"));
    let written = (|| -> Result<u64> {
        let mut out = File::create(&partial)?;
        let mut reader = response.body_mut().as_reader();
        let n = std::io::copy(&mut reader, &mut out)?;
        out.flush()?;
        Ok(n)
    })();
    let outcome = match written {
        Ok(n) if n == info.size => std::fs::rename(&partial, &target).map_err(Error::from),
        Ok(n) => Err(Error::File(format!(
            "downloaded {n} bytes of file {file_id}, the server reported {}",
            info.size
        ))),
        Err(e) => Err(e),
    };
    if outcome.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    outcome.map(|()| target)
}

/// The last path component of a server-given name, never `.`, `..` or
/// empty, so the file lands inside the directory given.
fn safe_name(name: &str) -> String {
    let last = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .replace('\0', "_");
    match last.as_str() {
        "" | "." | ".." => "download".into(),
        _ => last,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn server_names_stay_inside_the_directory() {
        assert_eq!(safe_name("report.pdf"), "report.pdf");
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("..\\x.txt"), "x.txt");
        assert_eq!(safe_name(".."), "download");
        assert_eq!(safe_name("dir/"), "download");
    }
}
