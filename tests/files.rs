//! Files through the emulator and on the wire: uploads and downloads
//! byte-exact, previews, files still uploading (also across a
//! reconnection), NOT_AVAILABLE, refused uploads, upload limits, download
//! verification, safe file names.

mod support;

use serde_json::{json, Value};
use std::fs::Permissions;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::peer::{script, Script};
use support::rel;
use trueconf_bot::emulator::{Direction, Emulator};
use trueconf_bot::files::{FileError, UploadPart};
use trueconf_bot::protocol::methods::FileInfo;
use trueconf_bot::protocol::{FileReadyState, ParseMode};
use trueconf_bot::{ApiErrorCode, Client, Error, Event, Events, ReconnectPolicy, TimeoutKind};

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

/// Deterministic bytes that differ with `seed` (xorshift).
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn emulator() -> Emulator {
    emulator_with(Emulator::builder())
}

fn emulator_with(builder: trueconf_bot::emulator::EmulatorBuilder) -> Emulator {
    builder
        .user("bot", "bot-pw", "Bot")
        .user("alice", "alice-pw", "Alice")
        .start()
        .expect("emulator")
}

fn connect(url: &str) -> Client {
    Client::builder(url)
        .credentials("bot", "bot-pw")
        .reconnect(ReconnectPolicy::disabled())
        .request_timeout(Duration::from_secs(10))
        .connect()
        .expect("connect")
}

/// Alice's p2p chat with the bot.
fn chat(emu: &Emulator) -> String {
    emu.user("alice").create_p2p_chat("bot").expect("chat")
}

/// A fresh empty directory.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tcb-files-{tag}-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The bot's requests with this method, as JSON, in order.
fn sent(emu: &Emulator, method: &str) -> Vec<Value> {
    emu.frames()
        .into_iter()
        .filter(|f| f.direction == Direction::In)
        .filter_map(|f| serde_json::from_str::<Value>(&f.text).ok())
        .filter(|v| v["method"] == method)
        .collect()
}

/// Waits (bounded) until the emulator has answered the bot's first request
/// with this method.
fn wait_for_answer(emu: &Emulator, method: &str) {
    wait_for_answers(emu, method, 1);
}

/// Waits (bounded) until the emulator has answered `count` of the bot's
/// requests with this method (each on the connection it came in on).
fn wait_for_answers(emu: &Emulator, method: &str, count: usize) {
    let answered = emu.wait_frames(Duration::from_secs(10), |frames| {
        let parsed = |dir: Direction| {
            frames
                .iter()
                .filter(move |f| f.direction == dir)
                .filter_map(|f| Some((f.connection, serde_json::from_str::<Value>(&f.text).ok()?)))
        };
        let answers: Vec<(u64, Value)> = parsed(Direction::Out)
            .filter(|(_, v)| v["type"] == 2)
            .map(|(c, v)| (c, v["id"].clone()))
            .collect();
        parsed(Direction::In)
            .filter(|(_, v)| v["type"] == 1 && v["method"] == method)
            .filter(|(c, v)| answers.contains(&(*c, v["id"].clone())))
            .count()
            >= count
    });
    assert!(answered, "no {count} answer(s) to {method} within 10 s");
}

/// The connection each of the bot's requests with this method came in on,
/// in order.
fn connections_of(emu: &Emulator, method: &str) -> Vec<u64> {
    emu.frames()
        .into_iter()
        .filter(|f| f.direction == Direction::In)
        .filter(|f| {
            serde_json::from_str::<Value>(&f.text)
                .is_ok_and(|v| v["type"] == 1 && v["method"] == method)
        })
        .map(|f| f.connection)
        .collect()
}

fn file_error(e: Error) -> FileError {
    match e {
        Error::File(f) => f,
        other => panic!("expected a file error, got {other:?}"),
    }
}

#[test]
fn upload_then_download_is_byte_exact_for_every_size() {
    let emu = emulator();
    let chat = chat(&emu);
    let client = connect(emu.url());
    for (i, size) in [0, 1, 64 * KIB, 8 * MIB].into_iter().enumerate() {
        let bytes = data(size, i as u64);
        let mut reports = Vec::new();
        let sent_file = client
            .file_upload(&chat)
            .reader(&bytes[..], size as u64, format!("blob-{size}.bin"))
            .progress(|s, t| reports.push((s, t)))
            .send()
            .unwrap();
        assert_eq!(reports.last(), Some(&(size as u64, size as u64)));
        assert!(reports.windows(2).all(|w| w[0].0 < w[1].0));
        let file_id = sent_file.file_id.expect("fileId");
        let info = client.get_file_info(&file_id).unwrap();
        assert_eq!(
            (info.name.as_str(), info.size, info.mime_type.as_str()),
            (
                format!("blob-{size}.bin").as_str(),
                size as u64,
                "application/octet-stream"
            )
        );
        assert!(info.previews.is_empty());
        let mut got = Vec::new();
        let mut seen = Vec::new();
        let n = client
            .file_download(&file_id)
            .progress(|r, t| seen.push((r, t)))
            .to_writer(&mut got)
            .unwrap();
        assert_eq!(n, size as u64);
        assert!(got == bytes, "size {size}: downloaded bytes differ");
        assert_eq!(seen.last(), Some(&(size as u64, size as u64)));
    }
    // On the wire: the SDK's uploadFile payload, then sendFile.
    let tasks = sent(&emu, "uploadFile");
    assert_eq!(tasks.len(), 4);
    assert_eq!(
        tasks[3]["payload"],
        json!({"fileSize": 8 * MIB, "fileName": "blob-8388608.bin"})
    );
    assert_eq!(sent(&emu, "sendFile").len(), 4);
}

#[test]
fn close_stops_a_download_and_an_upload_under_way() {
    let emu = emulator();
    let chat = chat(&emu);
    let size = 8 * MIB;
    let bytes = data(size, 3);
    let client = connect(emu.url());
    let file_id = client
        .file_upload(&chat)
        .reader(&bytes[..], size as u64, "big.bin")
        .send()
        .unwrap()
        .file_id
        .expect("fileId");

    // Closed once the first chunk is in: the download stops there.
    let mut got = Vec::new();
    let e = client
        .file_download(&file_id)
        .progress(|_, _| client.close())
        .to_writer(&mut got)
        .unwrap_err();
    assert!(matches!(e, Error::Closed), "{e:?}");
    assert!(!got.is_empty() && got.len() < size, "{} bytes", got.len());

    // Closed once the first bytes are out: the upload stops there, and no
    // file reaches the chat.
    let client = connect(emu.url());
    let e = client
        .file_upload(&chat)
        .reader(&bytes[..], size as u64, "cut.bin")
        .progress(|_, _| client.close())
        .send()
        .unwrap_err();
    assert!(matches!(e, Error::Closed), "{e:?}");
    assert_eq!(sent(&emu, "sendFile").len(), 1);
}

/// A client, and the id of a 5-byte file `hello.txt` it sent to Alice.
fn client_with_hello_file(emu: &Emulator) -> (Client, String) {
    let client = connect(emu.url());
    let file_id = client
        .file_upload(chat(emu))
        .reader(&b"hello"[..], 5, "hello.txt")
        .send()
        .unwrap()
        .file_id
        .expect("fileId");
    (client, file_id)
}

#[test]
fn timeouts_too_long_to_add_to_the_clock_mean_no_limit() {
    let emu = emulator();
    let client = Client::builder(emu.url())
        .credentials("bot", "bot-pw")
        .connect_timeout(Duration::MAX)
        .auth_timeout(Duration::MAX)
        .request_timeout(Duration::MAX)
        .connect()
        .expect("connect");
    let sent_file = client
        .with_timeout(Duration::MAX)
        .file_upload(chat(&emu))
        .reader(&b"hello"[..], 5, "hello.txt")
        .send()
        .unwrap();
    let mut got = Vec::new();
    client
        .with_timeout(Duration::MAX)
        .file_download(sent_file.file_id.expect("fileId"))
        .to_writer(&mut got)
        .unwrap();
    assert_eq!(got, b"hello");
}

#[test]
fn local_trouble_with_a_download_is_a_local_file_error() {
    let emu = emulator();
    let (client, file_id) = client_with_hello_file(&emu);
    let e = client
        .file_download(&file_id)
        .to_file("/dev/null")
        .unwrap_err();
    match file_error(e) {
        FileError::Local { path, kind, .. } => {
            assert_eq!(
                (path.as_path(), kind),
                (Path::new("/dev/null"), std::io::ErrorKind::InvalidInput)
            );
        }
        other => panic!("{other:?}"),
    }
    // A path to a file the process has open (as `/dev/stdout` is, when
    // stdout goes to a file) is refused: renaming a new file over it would
    // replace that file and never reach the open one.
    let dir = temp_dir("open-fd");
    let open = dir.join("open.txt");
    std::fs::write(&open, b"precious").unwrap();
    let held = std::fs::OpenOptions::new()
        .append(true)
        .open(&open)
        .unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&held);
    for path in [format!("/proc/self/fd/{fd}"), format!("/dev/fd/{fd}")] {
        let e = client.file_download(&file_id).to_file(&path).unwrap_err();
        assert!(
            matches!(
                file_error(e),
                FileError::Local {
                    kind: std::io::ErrorKind::InvalidInput,
                    ..
                }
            ),
            "{path}"
        );
    }
    assert_eq!(std::fs::read(&open).unwrap(), b"precious");
    assert_eq!(entries(&dir), vec!["open.txt"]);
    drop(held);
    let e = client
        .file_download(&file_id)
        .to_dir("/no/such/dir")
        .unwrap_err();
    match file_error(e) {
        FileError::Local { kind, message, .. } => {
            assert_eq!(kind, std::io::ErrorKind::NotFound);
            assert!(!message.contains("not a directory"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let e = client
        .file_download(&file_id)
        .to_dir("/dev/null")
        .unwrap_err();
    assert!(matches!(
        file_error(e),
        FileError::Local {
            kind: std::io::ErrorKind::NotADirectory,
            ..
        }
    ));
    // A read-only file is left alone.
    let dir = temp_dir("to-file");
    let kept = dir.join("kept.txt");
    std::fs::write(&kept, b"keep me").unwrap();
    std::fs::set_permissions(&kept, Permissions::from_mode(0o444)).unwrap();
    let e = client.file_download(&file_id).to_file(&kept).unwrap_err();
    assert!(matches!(
        file_error(e),
        FileError::Local {
            kind: std::io::ErrorKind::PermissionDenied,
            ..
        }
    ));
    assert_eq!(std::fs::read(&kept).unwrap(), b"keep me");
    std::fs::remove_file(&kept).unwrap();
}

#[test]
fn to_file_replaces_a_file_keeping_its_permissions_and_creates_a_links_target() {
    let emu = emulator();
    let (client, file_id) = client_with_hello_file(&emu);
    let dir = temp_dir("to-file-replace");
    // A private file stays private.
    let path = dir.join("hello.txt");
    std::fs::write(&path, b"older and longer").unwrap();
    std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
    assert_eq!(client.file_download(&file_id).to_file(&path).unwrap(), 5);
    assert_eq!(std::fs::read(&path).unwrap(), b"hello");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // A link to a file not there yet: the file is created, the link kept.
    let link = dir.join("link.txt");
    std::os::unix::fs::symlink("created.txt", &link).unwrap();
    client.file_download(&file_id).to_file(&link).unwrap();
    assert_eq!(std::fs::read(dir.join("created.txt")).unwrap(), b"hello");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // A name as long as a file name may be.
    let long = dir.join(format!("{}.txt", "n".repeat(250)));
    client.file_download(&file_id).to_file(&long).unwrap();
    assert_eq!(std::fs::read(&long).unwrap(), b"hello");
    let mut names = entries(&dir);
    names.retain(|n| !n.starts_with("nnn"));
    assert_eq!(
        names,
        ["created.txt", "hello.txt", "link.txt"],
        "no temporary file left"
    );
}

#[test]
fn send_file_from_a_path_with_caption_reply_and_download_to_path() {
    let emu = emulator();
    let chat = chat(&emu);
    let question = emu
        .user("alice")
        .send_message(&chat, "the report?")
        .unwrap();
    let client = connect(emu.url());
    let dir = temp_dir("path");
    let source = dir.join("report.pdf");
    let bytes = data(100 * KIB + 7, 42);
    std::fs::write(&source, &bytes).unwrap();

    let plain = client.send_file(&chat, &source).unwrap();
    let with_caption = client
        .file_upload(&chat)
        .path(&source)
        .caption("<b>Weekly</b>", ParseMode::Html)
        .reply_to(&question)
        .send()
        .unwrap();
    assert!(with_caption.caption_message_id.is_some());
    let last = sent(&emu, "sendFile").pop().unwrap();
    assert_eq!(last["payload"]["replyMessageId"], question.as_str());
    assert_eq!(
        last["payload"]["content"]["caption"],
        json!({"text": "<b>Weekly</b>", "parseMode": "html"})
    );

    let out = temp_dir("path-out");
    let file_id = plain.file_id.unwrap();
    assert_eq!(
        client.get_file_info(&file_id).unwrap().mime_type,
        "application/pdf"
    );
    let first = client.download_to_path(&file_id, &out).unwrap();
    assert_eq!(first, out.join("report.pdf"));
    assert_eq!(std::fs::read(&first).unwrap(), bytes);
    // An existing file is never replaced; nothing temporary is left behind.
    // (Ids may be given as anything that derefs to a `str`.)
    let shared: std::sync::Arc<str> = file_id.as_str().into();
    let second = client.download_to_path(&shared, &out).unwrap();
    assert_eq!(second, out.join("report (1).pdf"));
    assert_eq!(entries(&out), vec!["report (1).pdf", "report.pdf"]);
    // Unless asked to: then the file of that name is replaced.
    std::fs::write(&first, b"older").unwrap();
    let replaced = client
        .file_download(&file_id)
        .overwrite(true)
        .to_dir(&out)
        .unwrap();
    assert_eq!(replaced, first);
    assert_eq!(std::fs::read(&first).unwrap(), bytes);
    assert_eq!(entries(&out), vec!["report (1).pdf", "report.pdf"]);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn sending_anything_but_a_regular_file_is_refused_without_blocking() {
    let emu = emulator();
    let chat = chat(&emu);
    let client = connect(emu.url());
    let fifo = support::fifo("send");
    let dir = temp_dir("not-a-file");
    let socket = dir.join("socket");
    let _listening = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    for path in [fifo.clone(), dir.clone(), "/dev/zero".into(), socket] {
        // On a thread: opening a FIFO for reading blocks until a writer comes.
        let (tx, rx) = std::sync::mpsc::channel();
        let (client, chat, at) = (client.clone(), chat.clone(), path.clone());
        std::thread::spawn(move || {
            let _ = tx.send(client.send_file(&chat, &at).map(|_| ()));
        });
        let result = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("an answer, not a hang");
        match result {
            Err(Error::Invalid(e)) => {
                assert!(e.to_string().contains("is not a file"), "{e}")
            }
            other => panic!("{}: {other:?}", path.display()),
        }
    }
    assert!(sent(&emu, "sendFile").is_empty());
    // A writer waiting at the FIFO is left waiting: refusing the FIFO does
    // not open it (a reader that comes and goes would break the writer).
    let writer = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("echo kept > '{}'", fifo.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut writer = KilledOnDrop(writer);
    let wchan = format!("/proc/{}/wchan", writer.0.id());
    // The kernel's name for a FIFO's open waiting for the other end.
    let waits = || {
        matches!(
            std::fs::read_to_string(&wchan).unwrap_or_default().as_str(),
            "wait_for_partner" | "fifo_open"
        )
    };
    let started = Instant::now();
    while !waits() {
        assert!(started.elapsed() < Duration::from_secs(10), "no writer");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(matches!(
        client.send_file(&chat, &fifo),
        Err(Error::Invalid(_))
    ));
    // Released, the writer would leave its wait within moments: it must
    // still be waiting a while later (nothing else can show that it was
    // never released).
    let refused = Instant::now();
    while refused.elapsed() < Duration::from_millis(300) {
        assert!(waits(), "the writer was released");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(std::fs::read_to_string(&fifo).unwrap(), "kept\n");
    assert!(writer.0.wait().unwrap().success());
    let _ = std::fs::remove_file(fifo);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn previews_upload_and_download_byte_exact() {
    let emu = emulator();
    let chat = chat(&emu);
    let client = connect(emu.url());
    let image = data(300 * KIB, 7);
    let preview = data(5 * KIB + 3, 8);
    let sent_file = client
        .file_upload(&chat)
        .reader(&image[..], image.len() as u64, "photo.png")
        .preview(
            &preview[..],
            preview.len() as u64,
            "photo-small.webp",
            "image/webp",
        )
        .send()
        .unwrap();
    let file_id = sent_file.file_id.unwrap();
    let info = client.get_file_info(&file_id).unwrap();
    assert_eq!(info.mime_type, "image/png");
    assert_eq!(info.previews.len(), 1);
    assert_eq!(info.previews[0].mime_type, "image/webp");
    assert_eq!(info.previews[0].size, preview.len() as u64);
    let mut got = Vec::new();
    client.download_preview(&file_id, &mut got).unwrap();
    assert!(got == preview, "preview differs");
    let mut got = Vec::new();
    client.download(&file_id, &mut got).unwrap();
    assert!(got == image, "image differs");
    let out = temp_dir("preview");
    let at = client
        .file_download(&file_id)
        .preview(0)
        .to_dir(&out)
        .unwrap();
    assert_eq!(at, out.join("photo-small.webp"));
    assert_eq!(std::fs::read(&at).unwrap(), preview);
    std::fs::remove_dir_all(&out).unwrap();

    // Without a preview, asking for one is a typed error.
    let plain = client
        .file_upload(&chat)
        .reader(&b"png"[..], 3, "bare.png")
        .send()
        .unwrap();
    let e = client
        .download_preview(plain.file_id.as_deref().unwrap(), &mut Vec::new())
        .unwrap_err();
    assert!(
        matches!(file_error(e), FileError::NoPreview { index: 0, .. }),
        "no preview"
    );
}

#[test]
fn stickers_go_out_as_sticker_webp_with_the_image_as_preview() {
    let emu = emulator();
    let chat = chat(&emu);
    let client = connect(emu.url());
    let dir = temp_dir("sticker");
    let path = dir.join("cat.webp");
    let bytes = data(2 * KIB, 3);
    std::fs::write(&path, &bytes).unwrap();
    let sent_file = client
        .file_upload(&chat)
        .path(&path)
        .sticker()
        .send()
        .unwrap();
    let info = client
        .get_file_info(sent_file.file_id.as_deref().unwrap())
        .unwrap();
    assert_eq!(info.mime_type, "sticker/webp");
    assert_eq!(info.previews.len(), 1);
    assert_eq!(info.previews[0].mime_type, "image/webp");
    assert_eq!(info.previews[0].size, bytes.len() as u64);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Alice sends a file, the emulator marks it still uploading, the bot's
/// download waits on progress events and finishes when the upload does.
fn download_waits_for_upload(progress_event: &str) {
    let emu = emulator_with(Emulator::builder().progress_event_name(progress_event));
    let chat = chat(&emu);
    let bytes = data(256 * KIB + 1, 11);
    let file = emu
        .user("alice")
        .send_file(&chat, "video.mp4", &bytes)
        .unwrap();
    emu.advance_upload(&file.file_id, 0);
    let client = connect(emu.url());
    assert_eq!(
        client.get_file_info(&file.file_id).unwrap().ready_state,
        FileReadyState::Uploading
    );
    let events = client.events();
    let download = {
        let client = client.clone();
        let file_id = file.file_id.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            client
                .file_download(&file_id)
                .ready_timeout(Duration::from_secs(10))
                .to_writer(&mut got)
                .map(|_| got)
        })
    };
    // Subscribed, and the look at the file after subscribing answered
    // (this test's own look, the download's first, then that one): from
    // here on only the progress events can end the wait.
    wait_for_answer(&emu, "subscribeFileProgress");
    wait_for_answers(&emu, "getFileInfo", 3);
    wait_until_nothing_in_flight(&client);
    emu.advance_upload(&file.file_id, 1000);
    emu.advance_upload(&file.file_id, bytes.len() as u64);
    let got = download.join().unwrap().unwrap();
    assert!(got == bytes, "downloaded bytes differ");
    // The progress event ended the wait: one more look, for the download.
    assert_eq!(sent(&emu, "getFileInfo").len(), 4);
    wait_for_answer(&emu, "unsubscribeFileProgress");
    let unsubscribed = sent(&emu, "unsubscribeFileProgress");
    assert_eq!(unsubscribed.len(), 1);
    assert_eq!(unsubscribed[0]["payload"]["fileId"], file.file_id.as_str());
    // The application still sees the progress events (queued before the
    // download's last answer arrived).
    let mut progress = Vec::new();
    while let Some(e) = events.try_recv().unwrap() {
        if let Event::UploadProgress(p) = e {
            progress.push(p.progress);
        }
    }
    assert_eq!(progress, vec![1000, bytes.len() as u64]);
}

#[test]
fn a_file_still_uploading_is_waited_for_with_upload_file_progress() {
    download_waits_for_upload("uploadFileProgress");
}

#[test]
fn a_file_still_uploading_is_waited_for_with_the_spec_uploading_progress() {
    download_waits_for_upload("uploadingProgress");
}

#[test]
fn a_file_that_never_finishes_uploading_times_out_and_unsubscribes() {
    let emu = emulator();
    let file_id = uploading_file(&emu, 5, 2);
    let client = connect(emu.url());
    let dir = temp_dir("timeout");
    let e = client
        .file_download(&file_id)
        .ready_timeout(Duration::from_secs(2))
        .to_dir(&dir)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout {
                kind: TimeoutKind::FileReady,
                ..
            }
        ),
        "{e:?}"
    );
    wait_for_answer(&emu, "unsubscribeFileProgress");
    assert_eq!(sent(&emu, "unsubscribeFileProgress").len(), 1);
    assert!(entries(&dir).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_wait_that_times_out_does_not_wait_on_a_silent_server_to_unsubscribe() {
    let emu = emulator();
    let file_id = uploading_file(&emu, 5, 2);
    let client = connect(emu.url()); // 10 s request timeout
    let started = Instant::now();
    let waiting = {
        let client = client.clone();
        let file_id = file_id.clone();
        std::thread::spawn(move || client.wait_file_ready(&file_id, Duration::from_secs(3)))
    };
    // Subscribed, and the state asked once more: then the server goes
    // silent, and will not answer the unsubscription either.
    wait_for_answer(&emu, "subscribeFileProgress");
    wait_for_answers(&emu, "getFileInfo", 2);
    emu.faults().stall(true);
    let e = waiting.join().unwrap().unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout {
                kind: TimeoutKind::FileReady,
                ..
            }
        ),
        "{e:?}"
    );
    let took = started.elapsed();
    assert!(took < Duration::from_secs(7), "the 3 s wait took {took:?}");
    emu.faults().stall(false);
}

/// A client that reconnects at once (20 ms backoff) when its connection
/// drops.
fn connect_reconnecting(emu: &Emulator) -> Client {
    rel::bot_builder(emu).connect().expect("connect")
}

#[test]
fn a_wait_for_a_file_ends_like_every_call_when_the_client_gives_up() {
    let emu = emulator();
    let file_id = uploading_file(&emu, 1000, 10);
    let client = rel::bot_builder(&emu)
        .reconnect(
            ReconnectPolicy::backoff(Duration::from_millis(10), Duration::from_millis(20))
                .max_attempts(Some(2)),
        )
        .connect()
        .expect("connect");
    let wait = wait_in_background(&client, &file_id, Duration::from_secs(60));
    wait_until_waiting_for_progress(&emu, &client);
    emu.faults().refuse_next(1_000);
    emu.faults().drop_connections();
    // Not `Closed` (the application closed nothing): why it stopped.
    match wait.join().unwrap() {
        Err(Error::Connect(why)) => assert!(why.contains("gave up reconnecting"), "{why}"),
        other => panic!("{other:?}"),
    }
    match client.get_chats(10, 1) {
        Err(Error::Connect(why)) => assert!(why.contains("gave up reconnecting"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// Alice sends a file of `len` bytes and the emulator marks it still
/// uploading with `progress` bytes on the server; its id.
fn uploading_file(emu: &Emulator, len: usize, progress: u64) -> String {
    let file = emu
        .user("alice")
        .send_file(&chat(emu), "growing.bin", &data(len, 5))
        .unwrap();
    emu.advance_upload(&file.file_id, progress);
    file.file_id
}

/// `wait_file_ready` on its own thread.
fn wait_in_background(
    client: &Client,
    file_id: &str,
    timeout: Duration,
) -> JoinHandle<trueconf_bot::Result<FileInfo>> {
    let client = client.clone();
    let file_id = file_id.to_owned();
    std::thread::spawn(move || client.wait_file_ready(&file_id, timeout))
}

/// Waits (bounded) until a wait for a file has subscribed and looked at
/// the file again, and the client has the answers: it then waits for
/// progress reports with no request in flight.
fn wait_until_waiting_for_progress(emu: &Emulator, client: &Client) {
    wait_for_answer(emu, "subscribeFileProgress");
    wait_for_answers(emu, "getFileInfo", 2);
    wait_until_nothing_in_flight(client);
}

/// Waits (bounded) until the client has every answer it asked for.
fn wait_until_nothing_in_flight(client: &Client) {
    rel::wait_until(
        "the answers reaching the client",
        Duration::from_secs(10),
        || client.health().requests_in_flight == 0,
    );
}

/// A reconnecting client whose `wait_file_ready` (60 s) on a file of `len`
/// bytes, still uploading with `progress` on the server, has subscribed
/// and waits for progress reports.
struct WaitingForProgress {
    client: Client,
    events: Events,
    file_id: String,
    wait: JoinHandle<trueconf_bot::Result<FileInfo>>,
    started: Instant,
    timeout: Duration,
}

impl WaitingForProgress {
    fn start(emu: &Emulator, len: usize, progress: u64) -> WaitingForProgress {
        let file_id = uploading_file(emu, len, progress);
        let client = connect_reconnecting(emu);
        let events = client.events();
        let timeout = Duration::from_secs(60);
        let started = Instant::now();
        let wait = wait_in_background(&client, &file_id, timeout);
        wait_until_waiting_for_progress(emu, &client);
        WaitingForProgress {
            client,
            events,
            file_id,
            wait,
            started,
            timeout,
        }
    }

    /// Asserts the wait is still on, reports progress up to `len` bytes,
    /// and asserts the wait ends with the file ready, well in time; the
    /// client and its events stay for further checks.
    fn assert_ready_once_the_upload_goes_on(self, emu: &Emulator, len: usize) -> (Client, Events) {
        assert!(
            !self.wait.is_finished(),
            "the wait ended before the upload did"
        );
        emu.advance_upload(&self.file_id, 1000);
        emu.advance_upload(&self.file_id, len as u64);
        assert_ready_in_time(self.wait, len, self.started, self.timeout);
        (self.client, self.events)
    }
}

/// Joins a wait that must end with the file ready (`len` bytes) well
/// within its `timeout`, counted from `started`.
fn assert_ready_in_time(
    wait: JoinHandle<trueconf_bot::Result<FileInfo>>,
    len: usize,
    started: Instant,
    timeout: Duration,
) -> FileInfo {
    let info = wait.join().unwrap().expect("the file is ready");
    let elapsed = started.elapsed();
    assert_eq!(info.ready_state, FileReadyState::Ready);
    assert_eq!(info.size, len as u64);
    assert!(
        elapsed < timeout / 2,
        "the wait took {elapsed:?} of its {timeout:?}"
    );
    info
}

/// Asserts the wait subscribed twice, on two connections, and unsubscribed
/// once, on the connection that holds the subscription; returns both.
fn assert_subscribed_again(emu: &Emulator) -> Vec<u64> {
    wait_for_answer(emu, "unsubscribeFileProgress");
    let subscribed = connections_of(emu, "subscribeFileProgress");
    assert_eq!(subscribed.len(), 2, "subscribed on {subscribed:?}");
    assert_ne!(
        subscribed[0], subscribed[1],
        "subscribed again on the new connection"
    );
    assert_eq!(
        connections_of(emu, "unsubscribeFileProgress"),
        vec![subscribed[1]]
    );
    subscribed
}

/// The subscriptions of a connection end with it: after a reconnection
/// the wait subscribes again on the new connection and asks for the file
/// once more, so an upload that finished while the client was away (its
/// last progress report lost) ends the wait at once, not at its timeout.
#[test]
fn a_wait_across_a_reconnection_subscribes_again_and_sees_the_upload_that_ended_meanwhile() {
    let emu = emulator();
    let len = 64 * KIB;
    // Subscribed, and the second look found the file still uploading: the
    // wait now waits for progress reports.
    let w = WaitingForProgress::start(&emu, len, 1000);

    // The connection drops and stays down while the upload finishes.
    emu.faults().refuse_next(u64::MAX);
    emu.faults().drop_connections();
    rel::expect_disconnected(&w.events);
    emu.advance_upload(&w.file_id, len as u64);
    emu.faults().refuse_next(0);
    rel::expect_reconnected(&w.events);

    let info = assert_ready_in_time(w.wait, len, w.started, w.timeout);
    assert!(info.download_url.is_some());
    assert_subscribed_again(&emu);
    let mut got = Vec::new();
    w.client.download(&w.file_id, &mut got).unwrap();
    assert_eq!(got.len(), len);
}

/// After a reconnection the wait goes on with the progress reports of the
/// new connection's subscription, until the upload ends.
#[test]
fn a_wait_across_a_reconnection_follows_the_progress_on_the_new_connection() {
    let emu = emulator();
    let len = 64 * KIB;
    let w = WaitingForProgress::start(&emu, len, 0);

    emu.faults().drop_connections();
    rel::expect_disconnected(&w.events);
    rel::expect_reconnected(&w.events);
    wait_for_answers(&emu, "subscribeFileProgress", 2);
    let (_client, events) = w.assert_ready_once_the_upload_goes_on(&emu, len);
    assert_subscribed_again(&emu);
    // The reports of the new connection reached the application too.
    rel::expect_event(
        &events,
        "the last progress",
        rel::WAIT,
        |e| matches!(e, Event::UploadProgress(p) if p.progress == len as u64),
    );
}

/// An upload that makes no progress until the client is back on a new
/// connection: every report comes after the reconnection, once the wait
/// has looked at the file again there (still uploading). The wait must
/// still end as soon as the upload does. Only a subscription made on the
/// new connection brings those reports (the emulator, like a server, ends
/// a connection's subscriptions with it), so a wait that did not subscribe
/// again would sit out its whole timeout.
#[test]
fn a_wait_across_a_reconnection_ends_with_an_upload_that_ends_after_it() {
    let emu = emulator();
    let len = 64 * KIB;
    let w = WaitingForProgress::start(&emu, len, 0);

    emu.faults().drop_connections();
    rel::expect_disconnected(&w.events);
    rel::expect_reconnected(&w.events);
    // Back on the new connection, the wait looked at the file once more
    // (the two looks before were on the first connection) and has nothing
    // in flight: from here only progress reports can end it.
    wait_for_answers(&emu, "getFileInfo", 3);
    wait_until_nothing_in_flight(&w.client);
    w.assert_ready_once_the_upload_goes_on(&emu, len);
}

/// A connection lost while `subscribeFileProgress` is in flight does not
/// end the wait: it subscribes on the next connection and goes on.
#[test]
fn a_subscription_cut_off_by_a_dropped_connection_is_made_again_on_the_next() {
    let emu = emulator();
    let len = 64 * KIB;
    let file_id = uploading_file(&emu, len, 0);
    // The answer to `auth` on the next connection is held back too.
    let client = rel::bot_builder(&emu)
        .auth_timeout(Duration::from_secs(60))
        .connect()
        .unwrap();
    let events = client.events();
    let timeout = Duration::from_secs(60);
    // Every answer is held back until the client is on its next
    // connection: the subscription's answer never leaves the first one.
    emu.faults().delay_responses(Duration::from_secs(3));
    let wait = wait_in_background(&client, &file_id, timeout);
    let first = emu.wait_frames(Duration::from_secs(10), |frames| {
        frames
            .iter()
            .any(|f| f.direction == Direction::In && f.text.contains("subscribeFileProgress"))
    });
    assert!(first, "no subscribeFileProgress within 10 s");
    emu.faults().drop_connections();
    rel::expect_disconnected(&events);
    rel::expect_reconnected(&events);
    emu.faults().delay_responses(Duration::ZERO);
    wait_for_answers(&emu, "subscribeFileProgress", 1);
    wait_for_answers(&emu, "getFileInfo", 2);
    assert!(!wait.is_finished(), "the wait ended before the upload did");
    emu.advance_upload(&file_id, len as u64);

    let info = wait.join().unwrap().expect("the file is ready");
    assert_eq!(info.ready_state, FileReadyState::Ready);
    let subscribed = assert_subscribed_again(&emu);
    // The first subscription was never answered: the wait went on after
    // its ConnectionLost.
    let frames: Vec<(u64, Direction, Value)> = emu
        .frames()
        .into_iter()
        .filter_map(|f| {
            Some((
                f.connection,
                f.direction,
                serde_json::from_str(&f.text).ok()?,
            ))
        })
        .collect();
    let first_id = frames
        .iter()
        .find(|(_, d, v)| *d == Direction::In && v["method"] == "subscribeFileProgress")
        .map(|(_, _, v)| v["id"].clone())
        .unwrap();
    assert!(
        !frames.iter().any(|(c, d, v)| *c == subscribed[0]
            && *d == Direction::Out
            && v["type"] == 2
            && v["id"] == first_id),
        "the first subscription was answered: {frames:#?}"
    );
}

#[test]
fn not_available_is_a_typed_error_and_writes_nothing() {
    let emu = emulator();
    let chat = chat(&emu);
    let file = emu
        .user("alice")
        .send_file(&chat, "old.txt", b"gone")
        .unwrap();
    assert!(emu.expire_file(&file.file_id));
    let client = connect(emu.url());
    let mut out = Vec::new();
    let e = client.download(&file.file_id, &mut out).unwrap_err();
    assert_eq!(
        file_error(e),
        FileError::NotAvailable {
            file_id: file.file_id.clone()
        }
    );
    assert!(out.is_empty());
    let dir = temp_dir("gone");
    assert!(client.download_to_path(&file.file_id, &dir).is_err());
    assert!(entries(&dir).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_file_is_308() {
    let emu = emulator();
    let client = connect(emu.url());
    let e = client
        .download("0123456789abcdef0123456789abcdef01234567", &mut Vec::new())
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiErrorCode::FileNotFound), "{e:?}");
}

#[test]
fn a_wrong_task_id_is_refused_with_407() {
    let emu = emulator();
    let client = connect(emu.url());
    let e = client
        .upload(
            "no-such-task",
            UploadPart::new(&b"abc"[..], 3, "a.txt"),
            None,
        )
        .unwrap_err();
    match file_error(e) {
        FileError::Refused {
            status,
            code,
            description,
            ..
        } => {
            assert_eq!((status, code), (400, ApiErrorCode::UploadTaskNotFound));
            assert!(!description.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn size_mismatches_are_caught() {
    let emu = emulator();
    let chat = chat(&emu);
    let client = connect(emu.url());
    // The server's task says 5 bytes, the upload brings 6: 408.
    let task = client.create_upload_task(5).unwrap();
    let e = client
        .upload(
            &task.upload_task_id,
            UploadPart::new(&b"123456"[..], 6, "a.txt"),
            None,
        )
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiErrorCode::InvalidFile), "{e:?}");
    // A source that ends before its announced length fails locally.
    let short = data(10, 1);
    let e = client
        .file_upload(&chat)
        .reader(&short[..], 20, "short.bin")
        .send()
        .unwrap_err();
    assert_eq!(
        file_error(e),
        FileError::SizeMismatch {
            what: "the upload's source",
            expected: 20,
            actual: 10
        }
    );
    assert!(sent(&emu, "sendFile").is_empty());
}

#[test]
fn an_upload_larger_than_its_task_is_cut_off_early() {
    /// Zeros, counting how many were read.
    struct Counted(Arc<Mutex<u64>>);
    impl Read for Counted {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(0);
            *self.0.lock().unwrap() += buf.len() as u64;
            Ok(buf.len())
        }
    }
    let emu = emulator();
    let client = connect(emu.url());
    let task = client.create_upload_task(10).unwrap();
    let read = Arc::new(Mutex::new(0));
    let huge = 256 * MIB as u64;
    let e = client
        .upload(
            &task.upload_task_id,
            UploadPart::new(Counted(read.clone()), huge, "big.bin"),
            None,
        )
        .unwrap_err();
    // Refused (408), or the connection ended under the upload: either
    // way the server stopped reading long before the end.
    let read = *read.lock().unwrap();
    assert!(read < huge / 4, "{read} bytes read: {e:?}");
    assert!(
        e.api_code() == Some(ApiErrorCode::InvalidFile)
            || matches!(e, Error::Connect(_) | Error::Io(_)),
        "{e:?}"
    );
}

#[test]
fn upload_limits_are_checked_before_anything_is_sent() {
    let emu = emulator_with(Emulator::builder().upload_limits(json!({
        "maxSize": 1000,
        "extensions": {"mode": "block", "list": ["exe", ".BAT"]}
    })));
    let chat = chat(&emu);
    let client = connect(emu.url());
    let limits = client.get_file_upload_limits().unwrap();
    assert_eq!(limits.max_size, Some(1000));
    assert_eq!(client.upload_limits(), Some(limits));
    emu.clear_frames();

    let e = client
        .file_upload(&chat)
        .reader(&b"MZ"[..], 2, "setup.EXE")
        .send()
        .unwrap_err();
    match file_error(e) {
        FileError::ExtensionRefused {
            name, extension, ..
        } => {
            assert_eq!(
                (name.as_str(), extension.as_deref()),
                ("setup.EXE", Some("exe"))
            );
        }
        other => panic!("{other:?}"),
    }
    let big = data(1001, 2);
    let e = client
        .file_upload(&chat)
        .reader(&big[..], 1001, "big.txt")
        .send()
        .unwrap_err();
    assert_eq!(
        file_error(e),
        FileError::TooLarge {
            name: "big.txt".into(),
            size: 1001,
            max: 1000
        }
    );
    assert!(sent(&emu, "uploadFile").is_empty(), "nothing was sent");
    // The renamed file goes through.
    client
        .file_upload(&chat)
        .reader(&b"MZ"[..], 2, "setup.EXE")
        .file_name("setup.txt")
        .send()
        .unwrap();

    // New limits pushed by the server apply at once.
    let events = client.events();
    emu.set_upload_limits(Some(
        json!({"maxSize": null, "extensions": {"mode": "allow", "list": ["png"]}}),
    ));
    loop {
        match events.recv_timeout(Duration::from_secs(10)).unwrap() {
            Some(Event::UploadLimits(l)) if l.max_size.is_none() => break,
            Some(_) => continue,
            None => panic!("no upload limits event"),
        }
    }
    let e = client
        .file_upload(&chat)
        .reader(&big[..], 1001, "notes.txt")
        .send()
        .unwrap_err();
    assert!(matches!(file_error(e), FileError::ExtensionRefused { .. }));
    client
        .file_upload(&chat)
        .reader(&big[..], 1001, "image.png")
        .send()
        .unwrap();
}

#[test]
fn server_names_never_escape_the_directory() {
    let emu = emulator();
    let chat = chat(&emu);
    let client = connect(emu.url());
    let alice = emu.user("alice");
    let out = temp_dir("names");
    let cases = [
        ("../../escape.txt", "escape.txt"),
        ("/etc/cron.d/evil", "evil"),
        ("..\\..\\win.ini", "win.ini"),
        ("..", "file"),
        ("nul", "_nul"),
    ];
    for (i, (name, want)) in cases.into_iter().enumerate() {
        let bytes = data(100 + i, i as u64);
        let file = alice.send_file(&chat, name, &bytes).unwrap();
        assert_eq!(client.get_file_info(&file.file_id).unwrap().name, name);
        let at = client.download_to_path(&file.file_id, &out).unwrap();
        assert_eq!(at, out.join(want), "{name:?}");
        assert_eq!(std::fs::read(&at).unwrap(), bytes);
    }
    let mut want: Vec<&str> = cases.iter().map(|c| c.1).collect();
    want.sort();
    assert_eq!(entries(&out), want);
    assert!(!out.parent().unwrap().join("escape.txt").exists());
    std::fs::remove_dir_all(&out).unwrap();
}

/// A TCP relay in front of a server: records everything clients send.
struct Relay {
    url: String,
    sent: Arc<Mutex<Vec<u8>>>,
}

fn relay(target: std::net::SocketAddr) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(Mutex::new(Vec::new()));
    let recorded = sent.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(target) else {
                return;
            };
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let recorded = recorded.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 64 * 1024];
                loop {
                    let n = match c_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    recorded.lock().unwrap().extend_from_slice(&buf[..n]);
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_write.shutdown(std::net::Shutdown::Write);
            });
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    Relay { url, sent }
}

impl Relay {
    /// The HTTP request heads sent so far that start with `start`, each
    /// with the first 300 bytes after it.
    fn requests(&self, start: &str) -> Vec<String> {
        let sent = self.sent.lock().unwrap();
        let text = String::from_utf8_lossy(&sent);
        text.match_indices(start)
            .map(|(at, _)| text[at..].chars().take(2000).collect::<String>())
            .filter_map(|r| {
                let end = r.find("\r\n\r\n")?;
                Some(r.chars().take(end + 4 + 300).collect())
            })
            .collect()
    }
}

#[test]
fn uploads_carry_a_content_length_not_chunks_and_downloads_follow_the_configured_server() {
    let emu = emulator();
    let chat = chat(&emu);
    let relay = relay(emu.local_addr());
    // The client knows the server only through the relay: the download
    // URLs (which name the emulator's own address) are rewritten to it.
    let client = connect(&relay.url);
    let bytes = data(3 * MIB + 5, 9);
    let sent_file = client
        .file_upload(&chat)
        .reader(&bytes[..], bytes.len() as u64, "wire.bin")
        .send()
        .unwrap();
    let posts = relay.requests("POST /bridge/api/client/v1/files ");
    assert_eq!(posts.len(), 1);
    let head = posts[0]
        .split("\r\n\r\n")
        .next()
        .unwrap()
        .to_ascii_lowercase();
    assert!(!head.contains("transfer-encoding"), "{head}");
    let length: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .expect("content-length")
        .trim()
        .parse()
        .unwrap();
    assert!(length > bytes.len() as u64 && length < bytes.len() as u64 + 1024);
    assert!(head.contains("upload-task-id: "));
    assert!(head.contains("content-type: multipart/form-data; boundary="));
    assert!(
        posts[0].contains("Content-Disposition: form-data; name=\"file\"; filename=\"wire.bin\"")
    );

    let file_id = sent_file.file_id.unwrap();
    let url = client
        .get_file_info(&file_id)
        .unwrap()
        .download_url
        .unwrap();
    assert!(url.starts_with(emu.url()), "{url}");
    let mut got = Vec::new();
    client.download(&file_id, &mut got).unwrap();
    assert!(got == bytes);
    assert_eq!(relay.requests("GET /bridge/api/client/v1/files?").len(), 1);

    // Kept as given, the URL goes straight to the emulator.
    let direct = Client::builder(&relay.url)
        .credentials("bot", "bot-pw")
        .keep_download_urls(true)
        .connect()
        .unwrap();
    let mut got = Vec::new();
    direct.download(&file_id, &mut got).unwrap();
    assert!(got == bytes);
    assert_eq!(relay.requests("GET /bridge/api/client/v1/files?").len(), 1);
}

/// A download URL served once with a raw response.
fn raw_http(response: Vec<u8>) -> String {
    let (addr, _) = support::http::one_shot(response);
    format!("http://{addr}/bridge/api/client/v1/files?file_id=f&token=secret")
}

/// A scripted server whose file `f` of `size` bytes is at `url`.
fn file_server(size: u64, url: String) -> (Client, Script) {
    let server = Script::serve(vec![script(move |peer| {
        peer.accept_auth("bot@srv");
        let req = peer.recv();
        assert_eq!(req["method"], "getFileInfo");
        peer.reply(
            &req,
            json!({"name": "f.bin", "size": size, "mimeType": "application/octet-stream",
                   "downloadUrl": url, "readyState": 2, "previews": [], "infoHash": "f"}),
        );
        let _ = peer.recv_message();
    })]);
    let client = server.client().keep_download_urls(true).connect().unwrap();
    (client, server)
}

#[test]
fn downloads_of_the_wrong_length_are_refused_and_leave_no_file() {
    // The byte count reported in the error; `None`: more than the file has.
    let cases: [(&[u8], Option<u64>); 4] = [
        // Announces fewer bytes than the file has.
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            Some(5),
        ),
        // Announces the right length, then the connection ends early.
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
            Some(5),
        ),
        // No length, more bytes than the file has.
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world!",
            None,
        ),
        // Chunked and complete, but shorter than the file: the server's
        // answer, not a cut connection.
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            Some(5),
        ),
    ];
    for (n, (response, actual)) in cases.into_iter().enumerate() {
        let (client, server) = file_server(10, raw_http(response.to_vec()));
        let dir = temp_dir("short");
        let e = client.download_to_path("f", &dir).unwrap_err();
        match file_error(e) {
            // The connection ended early: cut short, not another size.
            FileError::CutShort {
                received, expected, ..
            } if n == 1 => {
                assert_eq!((received, expected), (5, 10));
            }
            FileError::SizeMismatch {
                expected,
                actual: a,
                ..
            } if n != 1 => {
                assert_eq!(expected, 10);
                match actual {
                    Some(n) => assert_eq!(a, n),
                    None => assert!(a > 10),
                }
            }
            other => panic!("{other:?}"),
        }
        assert!(entries(&dir).is_empty(), "no partial file is left");
        std::fs::remove_dir_all(&dir).unwrap();
        client.close();
        server.finish();
    }
    // A refusal body is typed, and the URL's token never shows.
    let body = br#"{"error": 308, "error_description": "File not found"}"#;
    let mut response = format!(
        "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    let (client, server) = file_server(10, raw_http(response));
    let e = client.download("f", &mut Vec::new()).unwrap_err();
    assert!(!format!("{e} {e:?}").contains("secret"));
    assert_eq!(e.api_code(), Some(ApiErrorCode::FileNotFound));
    client.close();
    server.finish();
}

#[test]
fn a_download_redirected_elsewhere_is_refused_and_not_followed() {
    let (elsewhere, asked) = support::http::one_shot(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nNOT-YOURS!".to_vec(),
    );
    let redirect = support::http::redirect(&format!("http://{elsewhere}/f"));
    let (client, server) = file_server(10, raw_http(redirect));
    let mut got = Vec::new();
    let e = client.download("f", &mut got).unwrap_err();
    assert!(e.to_string().contains("302"), "{e}");
    assert!(got.is_empty() && !asked.load(std::sync::atomic::Ordering::SeqCst));
    client.close();
    server.finish();
}

#[test]
fn a_download_whose_body_stalls_is_an_http_timeout() {
    let (addr, hold) =
        support::http::then_silent(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello".to_vec());
    let url = format!("http://{addr}/bridge/api/client/v1/files?file_id=f&token=secret");
    let (client, server) = file_server(10, url);
    let limit = Duration::from_millis(500);
    let e = client
        .with_timeout(limit)
        .download("f", &mut Vec::new())
        .unwrap_err();
    assert!(
        matches!(e, Error::Timeout { kind: TimeoutKind::Http, after } if after == limit),
        "{e:?}"
    );
    drop(hold);
    client.close();
    server.finish();
}

#[test]
fn files_move_over_tls_with_the_clients_trust_settings() {
    let emu = emulator_with(Emulator::builder().tls_generated());
    let chat = chat(&emu);
    let client = Client::builder(emu.url())
        .credentials("bot", "bot-pw")
        .ca_cert_pem(emu.ca_pem().expect("generated CA"))
        .reconnect(ReconnectPolicy::disabled())
        .connect()
        .unwrap();
    let bytes = data(200 * KIB, 5);
    let sent_file = client
        .file_upload(&chat)
        .reader(&bytes[..], bytes.len() as u64, "secure.bin")
        .send()
        .unwrap();
    let file_id = sent_file.file_id.unwrap();
    assert!(client
        .get_file_info(&file_id)
        .unwrap()
        .download_url
        .unwrap()
        .starts_with("https://"));
    let mut got = Vec::new();
    client.download(&file_id, &mut got).unwrap();
    assert!(got == bytes);
}

/// A child process killed when the test ends, passing or not.
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
