//! The `trueconf-bot` command-line tool, run as a process against an
//! emulator started in the test: each command's stdout JSON and exit status.
#![cfg(feature = "cli")]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use trueconf_bot::emulator::{Direction, Emulator};

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_trueconf-bot");

fn emulator() -> Emulator {
    Emulator::builder()
        .user("bot", "bot-pw", "Bot")
        .user("alice", "alice-pw", "Alice")
        .start()
        .expect("the emulator starts")
}

/// The tool with the bot's credentials in the environment, and nothing
/// inherited from the environment of the test run.
fn tool(emu: &Emulator) -> Command {
    let mut cmd = bare();
    cmd.env("TRUECONF_SERVER", emu.url())
        .env("TRUECONF_USER", "bot")
        .env("TRUECONF_PASSWORD", "bot-pw");
    cmd
}

fn bare() -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "TRUECONF_SERVER",
        "TRUECONF_USER",
        "TRUECONF_PASSWORD",
        "TRUECONF_TOKEN",
        "TRUECONF_INSECURE",
        "TRUECONF_CA_CERT",
        "TRUECONF_TIMEOUT",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Every stdout line as JSON.
    fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?} in {self:?}")))
            .collect()
    }

    /// Asserts the run failed with `code`, printed nothing on stdout, and
    /// said each of `says` on stderr.
    fn assert_failed(&self, code: i32, says: &[&str]) {
        assert_eq!(self.code, code, "{self:?}");
        assert!(self.stdout.is_empty(), "{self:?}");
        for text in says {
            assert!(self.stderr.contains(text), "no {text:?} in {self:?}");
        }
    }

    /// The one stdout line, as JSON, of a successful run.
    fn json(&self) -> Value {
        assert_eq!(self.code, 0, "{self:?}");
        let mut lines = self.lines();
        assert_eq!(lines.len(), 1, "{self:?}");
        lines.remove(0)
    }
}

fn run(mut cmd: Command, args: &[&str]) -> Run {
    Run::of(cmd.args(args).output().expect("the tool runs"))
}

fn run_with_stdin(mut cmd: Command, args: &[&str], stdin: &str) -> Run {
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    Run::of(child.wait_with_output().expect("the tool ends"))
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// A chat between alice and the bot, opened by alice.
fn chat_with_alice(emu: &Emulator) -> String {
    emu.user("alice").create_p2p_chat("bot").expect("chat")
}

fn message(emu: &Emulator, id: &str) -> Value {
    emu.user("alice")
        .call("getMessageById", json!({ "messageId": id }))
        .expect("the message exists")
}

#[test]
fn send_prints_chat_message_and_timestamp_and_the_message_arrives() {
    let emu = emulator();
    let chat = chat_with_alice(&emu);
    let out = run(tool(&emu), &["send", &chat, "hello from a script"]).json();
    let keys: Vec<&String> = out.as_object().expect("an object").keys().collect();
    assert_eq!(keys.len(), 3, "{out}");
    assert_eq!(str_of(&out, "chatId"), chat);
    assert!(out["timestamp"].as_u64().is_some_and(|t| t > 0), "{out}");
    let sent = message(&emu, str_of(&out, "messageId"));
    assert_eq!(sent["content"]["text"], "hello from a script");
    assert_eq!(sent["content"]["parseMode"], "text");
    assert_eq!(sent["author"]["id"], emu.user_id("bot"));
}

#[test]
fn send_reads_stdin_with_a_parse_mode_and_a_reply() {
    let emu = emulator();
    let chat = chat_with_alice(&emu);
    let question = emu
        .user("alice")
        .send_message(&chat, "ping?")
        .expect("sent");
    let args = [
        "send",
        &chat,
        "-",
        "--parse-mode",
        "html",
        "--reply-to",
        &question,
    ];
    let out = run_with_stdin(tool(&emu), &args, "<b>pong</b>\n").json();
    let sent = message(&emu, str_of(&out, "messageId"));
    assert_eq!(
        sent["content"]["text"], "<b>pong</b>",
        "one trailing newline dropped"
    );
    assert_eq!(sent["content"]["parseMode"], "html");
    assert_eq!(sent["replyMessageId"], question.as_str());
    // Nothing on stdin (a command before it in the pipe failed): nothing
    // is sent.
    let before = emu.frames().len();
    let out = run_with_stdin(tool(&emu), &["send", &chat, "-"], "");
    out.assert_failed(2, &["empty"]);
    assert!(
        !emu.frames()[before..]
            .iter()
            .any(|r| r.text.contains("sendMessage")),
        "an empty message went out"
    );
}

#[test]
fn chats_chat_history_and_participants_print_json_lines() {
    let emu = emulator();
    let alice = emu.user("alice");
    let group = alice.create_group_chat("Team").expect("group");
    alice.add_participant(&group, "bot").expect("bot added");
    let p2p = chat_with_alice(&emu);
    let first = alice.send_message(&group, "one").expect("sent");
    let second = alice.send_message(&group, "two").expect("sent");
    let third = alice.send_message(&group, "three").expect("sent");

    let chats = run(tool(&emu), &["chats"]);
    assert_eq!(chats.code, 0, "{chats:?}");
    let mut ids: Vec<String> = chats
        .lines()
        .iter()
        .map(|c| str_of(c, "chatId").to_owned())
        .collect();
    ids.sort();
    let mut expected = vec![group.clone(), p2p];
    expected.sort();
    assert_eq!(ids, expected);

    let chat = run(tool(&emu), &["chat", &group]).json();
    assert_eq!(
        (chat["title"].as_str(), chat["chatType"].as_u64()),
        (Some("Team"), Some(2))
    );

    let history = run(tool(&emu), &["history", &group, "--count", "2"]);
    assert_eq!(history.code, 0, "{history:?}");
    let lines = history.lines();
    let got: Vec<&str> = lines.iter().map(|m| str_of(m, "messageId")).collect();
    assert_eq!(got, [third.as_str(), second.as_str()], "newest first");
    let older = run(tool(&emu), &["history", &group, "--from", &second]);
    let lines = older.lines();
    let got: Vec<&str> = lines.iter().map(|m| str_of(m, "messageId")).collect();
    assert!(
        got.contains(&first.as_str()) && !got.contains(&third.as_str()),
        "{got:?}"
    );

    let people = run(tool(&emu), &["participants", &group]);
    assert_eq!(people.code, 0, "{people:?}");
    let mut roles: Vec<(String, String)> = people
        .lines()
        .iter()
        .map(|p| (str_of(p, "userId").to_owned(), str_of(p, "role").to_owned()))
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            (emu.user_id("alice"), "owner".to_owned()),
            (emu.user_id("bot"), "user".to_owned())
        ]
    );
}

#[test]
fn p2p_group_and_channel_print_the_new_chat_id() {
    let emu = emulator();
    let alice = emu.user("alice");
    let p2p = run(tool(&emu), &["p2p", &emu.user_id("alice")]).json();
    assert_eq!(p2p.as_object().map(|o| o.len()), Some(1), "{p2p}");
    // The same chat alice finds with the bot.
    assert_eq!(str_of(&p2p, "chatId"), chat_with_alice(&emu));
    for (command, kind) in [("group", 2), ("channel", 6)] {
        let out = run(tool(&emu), &[command, "Release notes"]).json();
        let chat = run(tool(&emu), &["chat", str_of(&out, "chatId")]).json();
        assert_eq!(chat["chatType"], kind, "{command}: {chat}");
        assert_eq!(chat["title"], "Release notes");
    }
    assert!(alice
        .call("getChats", json!({"count": 10, "page": 1}))
        .is_ok());
}

#[test]
fn call_sends_any_method_and_prints_the_response_payload() {
    let emu = emulator();
    let name = run(
        tool(&emu),
        &[
            "call",
            "getUserDisplayName",
            &json!({"userId": emu.user_id("alice")}).to_string(),
        ],
    )
    .json();
    assert_eq!(name, json!({"displayName": "Alice"}));
    // Without a payload: {}.
    let fav = run(tool(&emu), &["call", "createFavoritesChat"]).json();
    assert!(fav["chatId"].is_string(), "{fav}");
    // The payload from stdin.
    let chat = chat_with_alice(&emu);
    let payload = json!({"chatId": chat, "replyMessageId": null,
                         "content": {"text": "choose", "parseMode": "text",
                                     "buttons": [[{"type": "command", "label": "A", "command": "a"}]]}});
    let sent = run_with_stdin(
        tool(&emu),
        &["call", "sendMessage", "-"],
        &payload.to_string(),
    )
    .json();
    let stored = message(&emu, str_of(&sent, "messageId"));
    assert_eq!(stored["content"]["buttons"][0][0]["command"], "a");
}

#[test]
fn a_server_error_exits_1_and_names_the_code_and_its_meaning() {
    let emu = emulator();
    for args in [
        vec!["chat", "no-such-chat"],
        vec!["call", "getChatByID", r#"{"chatId":"no-such-chat"}"#],
    ] {
        let out = run(tool(&emu), &args);
        out.assert_failed(1, &["304", "chat not found"]);
    }
}

#[test]
fn a_bad_password_or_an_unreachable_server_exits_3() {
    let emu = emulator();
    let out = run(tool(&emu), &["--password", "wrong", "chats"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("invalid_grant"), "{out:?}");
    assert!(
        !out.stderr.contains("wrong"),
        "the password is never shown: {out:?}"
    );

    // A port nobody listens on (privileged: no test server binds it).
    let out = run(tool(&emu), &["chats", "--server", "http://127.0.0.1:1"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("cannot connect"), "{out:?}");
}

#[test]
fn usage_errors_exit_2_before_connecting() {
    let emu = emulator();
    let chat = chat_with_alice(&emu);
    let cases: [&[&str]; 7] = [
        &["send", &chat],                    // TEXT missing
        &["no-such-command"],                // unknown command
        &["call", "getChats", "{not json"],  // bad payload
        &["history", &chat, "--count", "0"], // out of range
        &["send", &chat, "x", "--parse-mode", "bbcode"],
        &["chats", "--token", "t", "--user", "bot"], // both logins explicitly
        &["chats", "--ca-cert", "/no/such/ca.pem"],
    ];
    for args in cases {
        let out = run(tool(&emu), args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stdout.is_empty() && !out.stderr.is_empty(),
            "{args:?}: {out:?}"
        );
    }
    let out = run(bare(), &["chats"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("TRUECONF_SERVER"), "{out:?}");
    // Help is not an error.
    assert_eq!(run(bare(), &["--help"]).code, 0);
    // Nothing reached the server.
    assert!(
        emu.frames().iter().all(|f| !f.text.contains("bbcode")),
        "a usage error sends nothing"
    );
}

#[test]
fn a_token_and_options_before_the_command_work_too() {
    let emu = emulator();
    let token = oauth_token(&emu, "bot", "bot-pw");
    let out = run(
        bare(),
        &[
            "--server",
            emu.url(),
            "--token",
            &token,
            "call",
            "createFavoritesChat",
        ],
    );
    assert!(out.json()["chatId"].is_string());
    // A token from the environment; an explicit --user and --password win.
    let mut cmd = bare();
    cmd.env("TRUECONF_SERVER", emu.url())
        .env("TRUECONF_TOKEN", "not-a-token");
    let out = run(cmd, &["--user", "bot", "--password", "bot-pw", "chats"]);
    assert_eq!(out.code, 0, "{out:?}");
    // A bad token is an authentication failure.
    let mut cmd = bare();
    cmd.env("TRUECONF_SERVER", emu.url())
        .env("TRUECONF_TOKEN", "not-a-token");
    let out = run(cmd, &["chats"]);
    assert_eq!(out.code, 3, "{out:?}");
}

fn oauth_token(emu: &Emulator, user: &str, password: &str) -> String {
    let body = json!({"client_id": "chat_bot", "grant_type": "password",
                      "username": user, "password": password});
    let mut response = ureq::post(format!("{}/bridge/api/client/v1/oauth/token", emu.url()))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .expect("a token");
    let text = response.body_mut().read_to_string().expect("a body");
    let value: Value = serde_json::from_str(&text).expect("JSON");
    str_of(&value, "access_token").to_owned()
}

#[test]
fn a_request_timeout_is_a_connection_failure() {
    let emu = emulator();
    emu.faults().delay_responses(Duration::from_millis(600));
    let out = run(tool(&emu), &["--timeout", "0.1", "chats"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("timed out"), "{out:?}");
}

#[test]
fn connection_errors_show_no_secret_of_the_url() {
    for server in [
        "http://127.0.0.1:1/?token=query-secret",
        "http://bot:url-secret@127.0.0.1:1",
    ] {
        let mut cmd = bare();
        cmd.env("TRUECONF_TOKEN", "t");
        let out = run(cmd, &["--server", server, "chats"]);
        assert!(out.code == 2 || out.code == 3, "{out:?}");
        assert!(out.stderr.contains("127.0.0.1"), "{out:?}");
        assert!(
            !out.stderr.contains("query-secret") && !out.stderr.contains("url-secret"),
            "{out:?}"
        );
    }
}

#[test]
fn tls_needs_the_ca_or_insecure() {
    let emu = Emulator::builder()
        .user("bot", "bot-pw", "Bot")
        .tls_generated()
        .start()
        .expect("the emulator starts");
    let dir = TempDir::new("tls");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, emu.ca_pem().expect("a CA")).expect("CA written");
    let out = run(tool(&emu), &["chats"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.contains("TLS") || out.stderr.contains("certificate"),
        "{out:?}"
    );
    let ca = ca.to_string_lossy().into_owned();
    assert_eq!(run(tool(&emu), &["chats", "--ca-cert", &ca]).code, 0);
    assert_eq!(run(tool(&emu), &["--insecure", "chats"]).code, 0);
    // The environment variable takes the usual spellings of yes and no.
    for (value, code) in [("1", 0), ("yes", 0), ("true", 0), ("0", 3), ("false", 3)] {
        let mut cmd = tool(&emu);
        cmd.env("TRUECONF_INSECURE", value);
        assert_eq!(run(cmd, &["chats"]).code, code, "TRUECONF_INSECURE={value}");
    }
}

#[test]
fn send_file_and_download_round_trip_a_file() {
    let emu = emulator();
    let chat = chat_with_alice(&emu);
    let dir = TempDir::new("files");
    let original = dir.path().join("report.csv");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&original, &bytes).expect("written");
    let preview = dir.path().join("preview.png");
    std::fs::write(&preview, b"\x89PNG not really").expect("written");

    let sent = run(
        tool(&emu),
        &[
            "send-file",
            &chat,
            &original.to_string_lossy(),
            "--caption",
            "Q3 numbers",
            "--preview",
            &preview.to_string_lossy(),
        ],
    )
    .json();
    assert_eq!(str_of(&sent, "chatId"), chat);
    let file_id = str_of(&sent, "fileId").to_owned();
    let info = emu
        .user("alice")
        .call("getFileInfo", json!({ "fileId": file_id }))
        .expect("alice sees the file");
    assert_eq!(
        (info["name"].as_str(), info["size"].as_u64()),
        (Some("report.csv"), Some(200_000))
    );
    assert_eq!(info["previews"].as_array().map(Vec::len), Some(1), "{info}");
    let caption = message(&emu, str_of(&sent, "captionMessageId"));
    assert_eq!(caption["content"]["text"], "Q3 numbers");

    // Into a directory, under the server's name; again, without replacing it.
    let into = TempDir::new("downloads");
    let dir_arg = into.path().to_string_lossy().into_owned();
    for expected in ["report.csv", "report (1).csv"] {
        let got = run(tool(&emu), &["download", &file_id, "-o", &dir_arg]).json();
        assert_eq!(got["size"], 200_000);
        let path = PathBuf::from(str_of(&got, "path"));
        assert_eq!(path, into.path().join(expected));
        assert_eq!(std::fs::read(&path).expect("downloaded"), bytes);
    }
    // Into a file named on the command line, replacing what is there.
    let named = into.path().join("copy.bin");
    std::fs::write(&named, b"older").expect("written");
    let got = run(
        tool(&emu),
        &["download", &file_id, "-o", &named.to_string_lossy()],
    )
    .json();
    assert_eq!(PathBuf::from(str_of(&got, "path")), named);
    assert_eq!(std::fs::read(&named).expect("downloaded"), bytes);
    // Through a symbolic link: the file it names is replaced, the link stays.
    let link = into.path().join("link.bin");
    let linked = into.path().join("linked.bin");
    std::fs::write(&linked, b"older").expect("written");
    std::os::unix::fs::symlink(&linked, &link).expect("linked");
    run(
        tool(&emu),
        &["download", &file_id, "-o", &link.to_string_lossy()],
    )
    .json();
    assert_eq!(std::fs::read(&linked).expect("downloaded"), bytes);
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    // Into the current directory by default.
    let mut cmd = tool(&emu);
    cmd.current_dir(dir.path());
    let got = run(cmd, &["download", &file_id]).json();
    assert_eq!(
        std::fs::read(dir.path().join(str_of(&got, "path"))).expect("downloaded"),
        bytes
    );
    // Not a terminal: no progress bar on stderr.
    let out = run(tool(&emu), &["download", &file_id, "-o", &dir_arg]);
    assert!(out.stderr.is_empty(), "{out:?}");
    // To stdout with `-o -`: the bytes and nothing else.
    let out = tool(&emu)
        .args(["download", &file_id, "-o", "-"])
        .output()
        .expect("the tool runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout == bytes, "{} bytes on stdout", out.stdout.len());
    // `/dev/stdout` where stdout is a file is refused, and the file keeps
    // what the shell wrote there (renaming over it would replace it).
    let kept = into.path().join("stdout.txt");
    std::fs::write(&kept, b"precious\n").expect("written");
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&kept)
        .expect("opened");
    let out = tool(&emu)
        .args(["download", &file_id, "-o", "/dev/stdout"])
        .stdout(file)
        .output()
        .expect("the tool runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(std::fs::read(&kept).expect("kept"), b"precious\n");
}

#[test]
fn file_commands_fail_with_the_right_status() {
    let emu = emulator();
    let chat = chat_with_alice(&emu);
    let out = run(tool(&emu), &["download", "no-such-file"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("308"), "{out:?}");
    let out = run(tool(&emu), &["send-file", &chat, "/no/such/file.txt"]);
    assert_eq!(out.code, 2, "{out:?}");
    let out = run(tool(&emu), &["download", "x", "-o", "/no/such/dir/file"]);
    assert_eq!(out.code, 2, "{out:?}");
    // Not a regular file: refused before anything is fetched.
    let out = run(tool(&emu), &["download", "x", "-o", "/dev/null"]);
    out.assert_failed(2, &["not a regular file"]);
    // A path ending in / is a directory, which must be there.
    let dir = TempDir::new("slash");
    let missing = format!("{}/", dir.path().join("downloads").display());
    let out = run(tool(&emu), &["download", "x", "-o", &missing]);
    out.assert_failed(2, &["no such directory"]);
    assert!(!dir.path().join("downloads").exists());
}

#[test]
fn a_failed_download_leaves_the_named_file_as_it_was() {
    let emu = emulator();
    let dir = TempDir::new("kept");
    let kept = dir.path().join("important.txt");
    std::fs::write(&kept, b"precious").expect("written");
    let out = run(
        tool(&emu),
        &["download", "no-such-file", "-o", &kept.to_string_lossy()],
    );
    out.assert_failed(1, &["308"]);
    assert_eq!(std::fs::read(&kept).expect("still there"), b"precious");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("listed").count(),
        1,
        "no temporary file is left behind"
    );
}

/// Reads the child's stderr until a line contains `text`.
/// `listen` for `count` events (20 s at most), its output piped.
fn listening(emu: &Emulator, count: u32) -> Child {
    tool(emu)
        .args([
            "listen",
            "--count",
            &count.to_string(),
            "--idle-timeout",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("listen starts")
}

fn wait_for_stderr(child: &mut Child, text: &str) -> BufReader<std::process::ChildStderr> {
    let mut reader = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).expect("stderr readable");
        assert!(n > 0, "the tool ended before saying {text:?}");
        if line.contains(text) {
            return reader;
        }
    }
}

#[test]
fn listen_prints_each_event_as_one_json_line() {
    let emu = emulator();
    let alice = emu.user("alice");
    let chat = chat_with_alice(&emu);
    let question = run(
        tool(&emu),
        &[
            "call",
            "sendMessage",
            &json!({
        "chatId": chat, "replyMessageId": null,
        "content": {"text": "ok?", "parseMode": "text",
                    "buttons": [[{"type": "command", "label": "Yes", "command": "yes"}]]}})
            .to_string(),
        ],
    )
    .json();
    let mut child = listening(&emu, 2);
    let _stderr = wait_for_stderr(&mut child, "waiting for events");
    let said = alice.send_message(&chat, "hi bot").expect("sent");
    alice
        .press_button(str_of(&question, "messageId"), "yes")
        .expect("pressed");
    let out = Run::of(child.wait_with_output().expect("listen ends"));
    assert_eq!(out.code, 0, "{out:?}");
    let events = out.lines();
    assert_eq!(events.len(), 2, "{out:?}");
    assert_eq!(events[0]["event"], "new_message");
    assert_eq!(events[0]["messageId"], said.as_str());
    assert_eq!(events[0]["content"]["text"], "hi bot");
    assert_eq!(events[1]["event"], "command");
    assert_eq!(events[1]["commandPayload"]["command"], "yes");
}

#[test]
fn listen_stops_after_the_idle_timeout() {
    let emu = emulator();
    let out = run(tool(&emu), &["listen", "--idle-timeout", "0.2"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
}

#[test]
fn listen_prints_connection_events_without_counting_them() {
    let emu = emulator();
    let chat = chat_with_alice(&emu);
    let mut child = listening(&emu, 1);
    let mut stderr = wait_for_stderr(&mut child, "waiting for events");
    emu.faults().drop_connections();
    // Sent once the tool has logged in again: it is the one event counted.
    let back = emu.wait_frames(Duration::from_secs(20), |frames| {
        frames
            .iter()
            .filter(|r| r.direction == Direction::Out && r.text.contains("\"userId\""))
            .count()
            >= 2
    });
    assert!(back, "the tool never logged in again");
    emu.user("alice")
        .send_message(&chat, "back?")
        .expect("sent");
    let out = Run::of(child.wait_with_output().expect("listen ends"));
    assert_eq!(out.code, 0, "{out:?}");
    let kinds: Vec<Value> = out.lines().iter().map(|e| e["event"].clone()).collect();
    assert_eq!(
        kinds,
        ["disconnected", "reconnected", "new_message"],
        "{out:?}"
    );
    let mut said = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut said).expect("stderr");
    assert!(said.contains("connection lost"), "{said}");
}

#[test]
fn listen_that_stays_disconnected_fails_after_the_idle_timeout() {
    let emu = emulator();
    let mut child = tool(&emu)
        .args(["listen", "--idle-timeout", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("listen starts");
    let mut stderr = wait_for_stderr(&mut child, "waiting for events");
    emu.faults().refuse_next(1_000);
    emu.faults().drop_connections();
    let out = Run::of(child.wait_with_output().expect("listen ends"));
    assert_eq!(out.code, 3, "{out:?}");
    let mut said = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut said).expect("stderr");
    assert!(said.contains("still disconnected"), "{said}");
}

/// Stops the child when the test ends, passing or not: SIGTERM, as a user
/// stops it (so that it cleans up), and SIGKILL if that does not end it.
struct Running(Child);

impl Running {
    /// Sends `signal` (`-INT`, `-TERM`, ...) and waits up to 10 s for the
    /// exit status.
    fn signal(&mut self, signal: &str) -> Option<std::process::ExitStatus> {
        let sent = Command::new("kill")
            .args([signal, &self.0.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while sent && Instant::now() < deadline {
            match self.0.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(_) => break,
            }
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.signal("-TERM").is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `trueconf-bot emulator ARGS` in the background and reads its
/// first stdout line (JSON); the process is stopped when the handle drops.
fn start_emulator_command(args: &[&str]) -> (Running, Value) {
    start_emulator_command_with(bare(), args)
}

/// [`start_emulator_command`] with `cmd` (`bare()` plus settings).
fn start_emulator_command_with(mut cmd: Command, args: &[&str]) -> (Running, Value) {
    let child = cmd
        .arg("emulator")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the emulator starts");
    let mut running = Running(child);
    let mut first = String::new();
    BufReader::new(running.0.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a first line");
    assert!(!first.is_empty(), "the emulator ended without a first line");
    let listening: Value = serde_json::from_str(&first).expect("JSON");
    (running, listening)
}

/// Runs the tool, which must end by itself within 30 s (killed otherwise).
fn run_to_exit(mut cmd: Command, args: &[&str]) -> Run {
    let mut child = cmd
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("the tool's status").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = Run::of(child.wait_with_output().expect("the tool ends"));
            panic!("{args:?} did not end by itself: {out:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::of(child.wait_with_output().expect("the tool ends"))
}

/// The tool logged in as `user` at `url`.
fn tool_at(url: &str, user: &str, password: &str) -> Command {
    let mut cmd = bare();
    cmd.env("TRUECONF_SERVER", url)
        .env("TRUECONF_USER", user)
        .env("TRUECONF_PASSWORD", password);
    cmd
}

#[test]
fn the_emulator_command_prints_its_url_first_and_serves_bots() {
    let (_running, listening) = start_emulator_command(&[
        "--bind",
        "127.0.0.1:0",
        "--user",
        "bot:pw",
        "--user",
        "alice:apw",
    ]);
    let url = str_of(&listening, "listening").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let ws = str_of(&listening, "websocket");
    assert_eq!(
        ws,
        format!("ws://{}/websocket/chat_bot/", &url["http://".len()..])
    );
    assert!(listening.get("caCert").is_none(), "{listening}");

    let chat = run(tool_at(&url, "bot", "pw"), &["p2p", "alice@emulator.local"]).json();
    let sent = run(
        tool_at(&url, "alice", "apw"),
        &["send", str_of(&chat, "chatId"), "hi"],
    )
    .json();
    assert!(sent["messageId"].is_string());
}

#[test]
fn the_emulator_command_stops_on_a_signal_and_removes_the_files_sent_to_it() {
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let tmp = TempDir::new(&format!("emulator-stop{signal}"));
        let mut cmd = bare();
        cmd.env("TMPDIR", tmp.path());
        let (mut running, listening) =
            start_emulator_command_with(cmd, &["--bind", "127.0.0.1:0", "--user", "bot:pw"]);
        let url = str_of(&listening, "listening").to_owned();
        let file = tmp.path().join("report.csv");
        std::fs::write(&file, b"a,b\n1,2\n").expect("written");
        let chat = run(tool_at(&url, "bot", "pw"), &["group", "Reports"]).json();
        run(
            tool_at(&url, "bot", "pw"),
            &[
                "send-file",
                str_of(&chat, "chatId"),
                &file.to_string_lossy(),
            ],
        )
        .json();
        std::fs::remove_file(&file).expect("removed");
        let stored = |dir: &Path| -> Vec<PathBuf> {
            std::fs::read_dir(dir)
                .expect("listed")
                .map(|e| e.expect("entry").path())
                .collect()
        };
        let kept = stored(tmp.path());
        assert_eq!(kept.len(), 1, "the emulator's files directory: {kept:?}");
        assert!(
            !stored(&kept[0]).is_empty(),
            "the file is stored in {kept:?}"
        );

        let status = running.signal(signal).expect("the emulator ends");
        assert_eq!(status.code(), Some(code), "{signal}");
        assert_eq!(stored(tmp.path()), Vec::<PathBuf>::new(), "{signal}");
    }
}

#[test]
fn the_emulator_command_serves_tls_with_a_generated_ca_it_writes() {
    let dir = TempDir::new("emulator-tls");
    let ca = dir.path().join("ca.pem");
    let ca_arg = ca.to_string_lossy().into_owned();
    let (_running, listening) = start_emulator_command(&[
        "--bind",
        "127.0.0.1:0",
        "--user",
        "bot:pw",
        "--user",
        "alice:apw",
        "--tls",
        "--ca-out",
        &ca_arg,
    ]);
    let url = str_of(&listening, "listening").to_owned();
    let port = url
        .strip_prefix("https://localhost:")
        .unwrap_or_else(|| panic!("an https URL: {url}"));
    assert_eq!(
        str_of(&listening, "websocket"),
        format!("wss://localhost:{port}/websocket/chat_bot/")
    );
    assert_eq!(str_of(&listening, "caCert"), ca_arg);
    // The CA file is complete once the first line is out.
    let pem = std::fs::read_to_string(&ca).expect("the CA file is written");
    assert!(
        pem.starts_with("-----BEGIN CERTIFICATE-----") && pem.trim_end().ends_with("-----"),
        "{pem}"
    );

    // Trusting the written CA: commands work over https and wss.
    let chat = run(
        tool_at(&url, "bot", "pw"),
        &["--ca-cert", &ca_arg, "p2p", "alice@emulator.local"],
    )
    .json();
    let mut cmd = tool_at(&url, "alice", "apw");
    cmd.env("TRUECONF_CA_CERT", &ca);
    let sent = run(cmd, &["send", str_of(&chat, "chatId"), "over TLS"]).json();
    assert!(sent["messageId"].is_string(), "{sent}");

    // Without it the certificate is not trusted: a TLS error, exit 3.
    let out = run(tool_at(&url, "bot", "pw"), &["chats"]);
    out.assert_failed(3, &["TLS error", "not trusted"]);
}

#[test]
fn the_emulator_command_serves_tls_with_a_given_certificate_and_key() {
    let dir = TempDir::new("emulator-pem");
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).expect("cert written");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("key written");
    let (cert_arg, key_arg) = (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
    );
    let (_running, listening) = start_emulator_command(&[
        "--bind",
        "127.0.0.1:0",
        "--user",
        "bot:pw",
        "--tls-cert",
        &cert_arg,
        "--tls-key",
        &key_arg,
    ]);
    let url = str_of(&listening, "listening").to_owned();
    assert!(url.starts_with("https://localhost:"), "{url}");
    assert!(listening.get("caCert").is_none(), "{listening}");
    let out = run(
        tool_at(&url, "bot", "pw"),
        &["--ca-cert", &cert_arg, "call", "createFavoritesChat"],
    );
    assert!(out.json()["chatId"].is_string(), "{out:?}");
    let out = run(tool_at(&url, "bot", "pw"), &["chats"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("TLS error"), "{out:?}");
}

#[test]
fn the_emulator_command_refuses_unusable_tls_options() {
    let dir = TempDir::new("emulator-tls-usage");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").expect("written");
    let junk = junk.to_string_lossy().into_owned();
    let missing = dir
        .path()
        .join("missing.pem")
        .to_string_lossy()
        .into_owned();
    let nowhere = dir
        .path()
        .join("no-such-dir/ca.pem")
        .to_string_lossy()
        .into_owned();
    let cases: [(&[&str], &str); 6] = [
        (&["--ca-out", "ca.pem"], "--tls"),
        (&["--tls-cert", &junk], "--tls-key"),
        (&["--tls", "--tls-cert", &junk, "--tls-key", &junk], "--tls"),
        (&["--tls-cert", &missing, "--tls-key", &junk], &missing),
        (
            &["--tls-cert", &junk, "--tls-key", &junk],
            "TLS certificate PEM",
        ),
        (&["--tls", "--ca-out", &nowhere], &nowhere),
    ];
    for (args, says) in cases {
        let mut all = vec!["emulator", "--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let out = run_to_exit(bare(), &all);
        out.assert_failed(2, &[says]);
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "trueconf-cli-test-{what}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file of `size` bytes alice sent the bot; its id.
fn big_file(emu: &Emulator, size: usize) -> String {
    let chat = chat_with_alice(emu);
    emu.user("alice")
        .send_file(&chat, "big.bin", &vec![7u8; size])
        .expect("sent")
        .file_id
}

/// Starts `download FILE_ID -o DIR/big.bin`, sends `signal` once the
/// download is under way (its temporary file is there), and returns how
/// the tool ended, how long after the signal, and what is left in `dir`.
fn interrupt_download(
    emu: &Emulator,
    file_id: &str,
    dir: &TempDir,
    signal: &str,
) -> (Run, Duration, Vec<std::ffi::OsString>) {
    let target = dir.path().join("big.bin");
    let child = tool(emu)
        .args(["download", file_id, "-o", &target.to_string_lossy()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(dir.path())
        .expect("listed")
        .next()
        .is_none()
    {
        assert!(Instant::now() < deadline, "the download never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let out = Run::of(child.wait_with_output().expect("the tool ends"));
    let took = signalled.elapsed();
    let left = std::fs::read_dir(dir.path())
        .expect("listed")
        .map(|e| e.expect("entry").file_name())
        .collect();
    (out, took, left)
}

#[test]
fn an_interrupted_download_stops_and_leaves_nothing_behind() {
    let emu = emulator();
    let file_id = big_file(&emu, 4 << 20);
    // 64 KiB every 100 ms: about 6 s for the whole file.
    emu.faults().pace_downloads(Duration::from_millis(100));
    for (signal, status) in [("-INT", 130), ("-TERM", 143)] {
        let dir = TempDir::new(&format!("interrupted{signal}"));
        let (out, _, left) = interrupt_download(&emu, &file_id, &dir, signal);
        assert_eq!(out.code, status, "{out:?}");
        assert!(out.stdout.is_empty(), "{out:?}");
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

#[test]
fn a_command_that_ends_normally_closes_its_connection_cleanly() {
    let server = support::peer::Script::serve(vec![support::peer::script(|peer| {
        peer.accept_auth("bot@srv");
        let request = peer.recv();
        assert_eq!(request["method"], "getChats", "{request}");
        peer.reply(&request, json!([]));
        match peer.recv_message() {
            tungstenite::Message::Close(Some(frame)) => {
                assert_eq!(
                    frame.code,
                    tungstenite::protocol::frame::coding::CloseCode::Normal
                );
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
    })]);
    let mut cmd = bare();
    cmd.env("TRUECONF_SERVER", &server.url)
        .env("TRUECONF_TOKEN", "tok");
    let out = run(cmd, &["chats"]);
    assert_eq!(out.code, 0, "{out:?}");
    server.finish();
}

#[test]
fn an_interrupt_while_a_download_waits_on_a_silent_server_still_ends_it() {
    let emu = emulator();
    let file_id = big_file(&emu, 1 << 20);
    // One 64 KiB chunk, then nothing for 6 s: the next read waits, longer
    // than the tool's 3 s of grace after a signal.
    emu.faults().pace_downloads(Duration::from_secs(6));
    let dir = TempDir::new("stuck");
    let (out, took, left) = interrupt_download(&emu, &file_id, &dir, "-INT");
    assert_eq!(out.code, 130, "{out:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(left.is_empty(), "left behind: {left:?}");
}
