//! Each example runs to completion against its embedded emulator and shows
//! the conversation it is about. `cargo test` builds the examples before
//! running tests; a targeted run (`--test examples`) that did not build them
//! fails and says how to build them.
#![cfg(feature = "emulator")]

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/examples/<name>`, next to this test's `deps` folder.
fn example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("examples").join(name);
    path.exists().then_some(path)
}

/// Runs an example offline and returns its stdout.
fn run(name: &str) -> String {
    let Some(path) = example(name) else {
        panic!(
            "example {name} is not built: run `cargo test --all-features` (it builds the examples)"
        );
    };
    let mut cmd = Command::new(path);
    for var in [
        "TRUECONF_SERVER",
        "TRUECONF_USER",
        "TRUECONF_PASSWORD",
        "TRUECONF_TOKEN",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().expect("the example runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name}: {stdout}\n{stderr}");
    assert!(stderr.contains("offline demo"), "{name}: {stderr}");
    stdout
}

#[test]
fn echo_bot_echoes_alice() {
    let out = run("echo_bot");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "alice: Hello, bot!",
            "  bot: Hello, bot!",
            "alice: Can you hear me?",
            "  bot: Can you hear me?"
        ]
    );
}

#[test]
fn buttons_asks_and_answers_the_press() {
    let out = run("buttons");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"alice: I'm hungry"), "{out}");
    assert!(
        lines.contains(&"alice: [presses the `pizza` button]"),
        "{out}"
    );
    assert_eq!(
        lines.last(),
        Some(&"  bot: One pizza coming up (size: large)!"),
        "{out}"
    );
}

#[test]
fn broadcast_reaches_everyone() {
    let out = run("broadcast");
    assert!(out.contains("(to 3 of 3 chats"), "{out}");
    for who in ["alice", "bob", "carol"] {
        assert!(
            out.contains(&format!("{who:>5} received: The office is closed")),
            "{out}"
        );
    }
}

#[test]
fn history_export_prints_the_chat_oldest_first() {
    let out = run("history_export");
    let messages: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["content"]["text"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        texts,
        [
            "Hi! Can you keep a record of this?",
            "Sure, I keep everything.",
            "Meeting at 10 on Tuesday",
            "Noted: meeting at 10 on Tuesday."
        ]
    );
    let boxes: Vec<u64> = messages
        .iter()
        .filter_map(|m| m["box"]["id"].as_u64())
        .collect();
    assert_eq!(boxes, [0, 1, 2, 3]);
}

#[test]
fn file_bot_answers_a_file_with_a_file() {
    let out = run("file_bot");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "alice: [file notes.txt, 51 bytes]",
            "  bot: [file notes-report.txt] notes.txt: 51 bytes, 3 lines, 10 words",
            "alice receives: [file notes-report.txt, 39 bytes]",
            "alice receives: Here is your report"
        ]
    );
}
