//! The C ABI from C: tests/ffi/smoke.c, compiled with the system C compiler
//! against the static library cargo built for this test run, talks to the
//! embedded emulator while this test plays the human on the other side.
//! The same program runs under valgrind when valgrind is installed.
#![cfg(all(feature = "ffi", feature = "emulator", target_os = "linux"))]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use trueconf_bot::emulator::{Direction, Emulator};
use trueconf_bot::Client;

/// How long the C program may run before the test kills it (it has its own
/// 30 s limit per wait, so this only fires on a hang).
const WATCHDOG: Duration = Duration::from_secs(240);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The static library of this very build: next to the test binary in
/// target/<profile>/deps (or uplifted one level up by `cargo build`).
fn static_library() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("deps dir");
    [deps, deps.parent().unwrap_or(deps)]
        .iter()
        .map(|dir| dir.join("libtrueconf_bot.a"))
        .find(|p| p.exists())
        .expect("libtrueconf_bot.a next to the test binary (crate-type staticlib)")
}

/// Compiles a C file of the crate against the static library.
fn compile(source: &str) -> PathBuf {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ffi-smoke");
    std::fs::create_dir_all(&out_dir).expect("create the output dir");
    let stem = Path::new(source).file_stem().unwrap().to_string_lossy();
    let binary = out_dir.join(format!("{stem}-{}", std::process::id()));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let output = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O0", "-I"])
        .arg(root().join("include"))
        .arg(root().join(source))
        .arg(static_library())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&binary)
        .output()
        .unwrap_or_else(|e| panic!("run the C compiler {cc:?}: {e}"));
    assert!(
        output.status.success(),
        "compiling {source} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    binary
}

/// smoke.c, compiled once per test process.
fn smoke_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| compile("tests/ffi/smoke.c"))
}

fn emulator() -> Emulator {
    Emulator::builder()
        .user("bot", "bot-pw", "C Bot")
        .user("alice", "alice-pw", "Alice")
        .start()
        .expect("start the emulator")
}

/// A fresh work dir holding the file to upload and an empty downloads dir.
fn work_dir(name: &str) -> (PathBuf, Vec<u8>) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ffi-smoke")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("downloads")).expect("create the work dir");
    // 100 KiB of every byte value, not a multiple of any buffer size.
    let bytes: Vec<u8> = (0..100_003u32).map(|i| (i * 7 + i / 251) as u8).collect();
    std::fs::write(dir.join("report.bin"), &bytes).expect("write the upload");
    std::fs::write(dir.join("preview.png"), preview_bytes()).expect("write the preview");
    (dir, bytes)
}

/// The preview image smoke.c sends with a file (only its bytes matter).
fn preview_bytes() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..997u32).map(|i| (i * 13) as u8));
    bytes
}

/// The payloads of the `method` requests the bot sent, oldest first.
fn bot_requests(emu: &Emulator, method: &str) -> Vec<Value> {
    let bot = emu.user_id("bot");
    emu.frames()
        .iter()
        .filter(|f| f.direction == Direction::In)
        .filter(|f| f.user.as_deref().is_some_and(|u| u.starts_with(&bot)))
        .filter_map(|f| serde_json::from_str::<Value>(&f.text).ok())
        .filter(|frame| frame["method"] == method)
        .map(|frame| frame["payload"].clone())
        .collect()
}

/// What the C program printed, by first word.
#[derive(Debug, Default)]
struct Transcript {
    lines: Vec<String>,
}

impl Transcript {
    /// The rest of the first line tagged `tag`, whole.
    fn line(&self, tag: &str) -> &str {
        self.lines
            .iter()
            .find_map(|l| l.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {tag} line in {:#?}", self.lines))
    }

    /// The first line tagged `tag`, split in at most three words.
    fn get(&self, tag: &str) -> Vec<&str> {
        self.line(tag).splitn(3, ' ').collect()
    }
}

/// Runs smoke.c (under `wrapper`, e.g. valgrind) against `emu`, answering
/// as alice when it says SENT. Returns its transcript and exit status.
fn run_smoke(
    emu: &Emulator,
    wrapper: &[String],
    name: &str,
) -> (Transcript, std::process::ExitStatus, String) {
    let (dir, _) = work_dir(name);
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(smoke_binary());
            c
        }
        None => Command::new(smoke_binary()),
    };
    let mut child = command
        .arg(emu.url())
        .args(["bot", "bot-pw"])
        .arg(emu.user_id("alice"))
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the C program");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let child = Arc::new(Mutex::new(child));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = {
        let child = child.clone();
        std::thread::spawn(move || {
            if done_rx.recv_timeout(WATCHDOG).is_err() {
                let _ = child.lock().unwrap().kill();
            }
        })
    };

    let alice = emu.user("alice");
    let mut transcript = Transcript::default();
    let mut chat = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read the C program's output");
        if let Some(id) = line.strip_prefix("CHAT ") {
            chat = Some(id.to_string());
        }
        if let Some(id) = line.strip_prefix("SENT ") {
            // The human answers the bot's message.
            let chat = chat.as_deref().expect("CHAT before SENT");
            alice
                .reply(chat, id, "hi from alice")
                .expect("alice replies");
        }
        transcript.lines.push(line);
    }
    let _ = done_tx.send(());
    watchdog.join().unwrap();
    let status = child
        .lock()
        .unwrap()
        .wait()
        .expect("wait for the C program");
    let stderr = stderr_reader.join().unwrap();
    (transcript, status, stderr)
}

/// Checks, from alice's side of the emulator, what the C bot sent.
fn check_transcript(emu: &Emulator, t: &Transcript) {
    let alice = emu.user("alice");
    let user = t.get("USER")[0];
    assert!(
        user.starts_with(&format!("{}/", emu.user_id("bot"))),
        "{user}"
    );

    let sent = alice
        .call("getMessageById", json!({"messageId": t.get("SENT")[0]}))
        .expect("alice sees the bot's message");
    assert_eq!(sent["content"]["text"], "hello from *C*", "{sent}");
    assert_eq!(sent["content"]["parseMode"], "markdown", "{sent}");

    let event: Value = serde_json::from_str(t.line("EVENT")).expect("event JSON");
    assert_eq!(event["event"], "new_message", "{event}");
    assert_eq!(event["content"]["text"], "hi from alice", "{event}");
    assert_eq!(event["author"]["id"], emu.user_id("alice"), "{event}");

    let replied = t.get("REPLIED");
    let reply = alice
        .call("getMessageById", json!({"messageId": replied[0]}))
        .expect("alice sees the reply");
    assert_eq!(reply["replyMessageId"], replied[1], "{reply}");

    let file = t.get("FILE_SENT");
    let info = alice
        .call("getFileInfo", json!({"fileId": file[1]}))
        .expect("alice sees the file");
    assert_eq!(info["name"], "report.bin", "{info}");
    assert_eq!(info["size"], 100_003, "{info}");
    let downloaded = t.get("DOWNLOADED");
    assert!(
        downloaded[0].ends_with("/downloads/report.bin"),
        "{downloaded:?}"
    );
    assert_eq!(downloaded[1], "100003");

    // The file sent with options: a reply, with the preview and the caption.
    let file_reply = t.get("FILE_REPLY");
    let (message_id, file_id, replied_to) = (file_reply[0], file_reply[1], file_reply[2]);
    let message = alice
        .call("getMessageById", json!({"messageId": message_id}))
        .expect("alice sees the file reply");
    assert_eq!(message["replyMessageId"], replied_to, "{message}");
    assert_eq!(message["content"]["fileId"], file_id, "{message}");
    let info = alice
        .call("getFileInfo", json!({"fileId": file_id}))
        .expect("alice sees the file");
    assert_eq!(info["name"], "report.bin", "{info}");
    let previews = info["previews"].as_array().expect("previews");
    assert_eq!(previews.len(), 1, "{info}");
    assert_eq!(previews[0]["name"], "preview.png", "{info}");
    assert_eq!(previews[0]["mimeType"], "image/png", "{info}");
    assert_eq!(previews[0]["size"], preview_bytes().len(), "{info}");
    let viewer = Client::builder(emu.url())
        .credentials("alice", "alice-pw")
        .connect()
        .expect("alice connects");
    let mut preview = Vec::new();
    viewer
        .download_preview(file_id, &mut preview)
        .expect("the preview downloads");
    assert_eq!(
        preview,
        preview_bytes(),
        "the preview's bytes arrived whole"
    );
    // What the emulator received: the reply id and the caption with its mode.
    let sends = bot_requests(emu, "sendFile");
    let request = sends
        .iter()
        .find(|p| p["replyMessageId"] == replied_to)
        .unwrap_or_else(|| panic!("no sendFile replying to {replied_to} in {sends:#?}"));
    assert_eq!(
        request["content"]["caption"],
        json!({"text": "the *preview*", "parseMode": "markdown"}),
        "{request}"
    );
    // Without options: no preview, no reply, no caption.
    let plain = t.get("FILE_PLAIN")[0];
    let info = alice
        .call("getFileInfo", json!({"fileId": plain}))
        .expect("alice sees the plain file");
    assert_eq!(info["previews"], json!([]), "{info}");
    let request = sends
        .iter()
        .find(|p| p["replyMessageId"].is_null() && p["content"]["caption"].is_null())
        .unwrap_or_else(|| panic!("no plain sendFile in {sends:#?}"));
    assert!(
        request["content"]["temporalFileId"].is_string(),
        "{request}"
    );
    // Four files went out (the plain function's, the reply, no options, the
    // newer layout); every refused call uploaded nothing.
    assert_eq!(sends.len(), 4, "{sends:#?}");
    assert_eq!(bot_requests(emu, "uploadFile").len(), 4);

    let api = t.get("APIERR");
    assert_eq!(api[0], "304", "{api:?}");
    assert!(api[1..].join(" ").contains("sendMessage"), "{api:?}");
    assert_eq!(t.lines.last().map(String::as_str), Some("DONE"));
}

#[test]
fn c_program_chats_uploads_downloads_and_reads_errors() {
    let emu = emulator();
    let (transcript, status, stderr) = run_smoke(&emu, &[], "plain");
    assert!(
        status.success(),
        "smoke.c failed ({status}):\n{stderr}\n{:#?}",
        transcript.lines
    );
    check_transcript(&emu, &transcript);
}

#[test]
fn c_program_leaks_nothing_under_valgrind() {
    let found = Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        println!("note: valgrind is not installed; the leak check is skipped");
        return;
    }
    let emu = emulator();
    let log = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ffi-smoke")
        .join(format!("valgrind-{}.log", std::process::id()));
    let wrapper = vec![
        "valgrind".to_string(),
        "--leak-check=full".into(),
        "--error-exitcode=1".into(),
        format!(
            "--suppressions={}",
            root().join("tests/ffi/valgrind.supp").display()
        ),
        format!("--log-file={}", log.display()),
    ];
    let (transcript, status, stderr) = run_smoke(&emu, &wrapper, "valgrind");
    let report = std::fs::read_to_string(&log).unwrap_or_default();
    let summary: Vec<&str> = report
        .lines()
        .filter(|l| {
            [
                "in use at exit",
                "lost:",
                "reachable:",
                "suppressed:",
                "ERROR SUMMARY",
            ]
            .iter()
            .any(|k| l.contains(k))
        })
        .collect();
    println!("valgrind:\n{}", summary.join("\n"));
    assert!(
        status.success(),
        "smoke.c under valgrind failed ({status}):\n{stderr}\n{report}\n{:#?}",
        transcript.lines
    );
    check_transcript(&emu, &transcript);
    assert!(
        report.contains("ERROR SUMMARY: 0 errors"),
        "valgrind found errors:\n{report}"
    );
    assert!(
        report.contains("definitely lost: 0 bytes") || report.contains("no leaks are possible"),
        "valgrind found leaks:\n{report}"
    );
}

#[test]
fn the_documented_c_example_runs() {
    let emu = emulator();
    let alice = emu.user("alice");
    let chat = alice
        .create_p2p_chat(&emu.user_id("bot"))
        .expect("alice opens a chat with the bot");
    let mut child = Command::new(compile("examples/c/hello.c"))
        .args([emu.url(), "bot", "bot-pw", &chat, "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start hello");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let sent: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let hello = alice
        .call("getMessageById", json!({"messageId": sent["sent"]}))
        .expect("alice sees the hello");
    assert_eq!(hello["content"]["text"], "Hello from **C**", "{hello}");
    alice.send_message(&chat, "ping").expect("alice answers");
    let event: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(event["event"], "new_message", "{event}");
    assert_eq!(event["content"]["text"], "ping", "{event}");
    assert!(lines.next().is_none(), "one event asked for, one printed");
    assert!(child.wait().unwrap().success());
}
