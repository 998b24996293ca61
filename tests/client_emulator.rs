//! The client against the emulator over real sockets: OAuth, auth, a
//! conversation, and TLS trust decisions.
#![cfg(feature = "emulator")]

mod support;

use std::time::Duration;
use trueconf_bot::emulator::Emulator;
use trueconf_bot::protocol::methods::SendMessage;
use trueconf_bot::protocol::{Content, OAuthError, ParseMode};
use trueconf_bot::{ApiErrorCode, Client, Error, Event};

const WAIT: Duration = Duration::from_secs(10);

fn emulator(tls: bool) -> Emulator {
    let mut b = Emulator::builder()
        .user("bot", "bot-pw", "Bot")
        .user("alice", "alice-pw", "Alice");
    if tls {
        b = b.tls_generated();
    }
    b.start().expect("emulator starts")
}

fn next_message(client: &Client) -> trueconf_bot::protocol::Envelope {
    loop {
        match client.events().recv_timeout(WAIT).unwrap() {
            Some(Event::NewMessage(m)) => return m,
            Some(_) => continue,
            None => panic!("no message within {WAIT:?}"),
        }
    }
}

#[test]
fn password_login_conversation_and_typed_events() {
    let emu = emulator(false);
    let bot = Client::builder(emu.url())
        .credentials("bot", "bot-pw")
        .connect()
        .unwrap();
    assert!(
        bot.user_id().starts_with(&emu.user_id("bot")),
        "{}",
        bot.user_id()
    );
    // Its own id, with or without the instance suffix, in any case.
    assert!(bot.user_id().contains('/'), "{}", bot.user_id());
    assert!(bot.is_me(&bot.user_id()) && bot.is_me(&emu.user_id("bot")));
    assert!(bot.is_me(&emu.user_id("bot").to_uppercase()));
    assert!(!bot.is_me(&emu.user_id("alice")) && !bot.is_me(""));

    let alice = emu.user("alice");
    let chat = alice.create_p2p_chat("bot").unwrap();
    alice.send_message(&chat, "ping").unwrap();
    let incoming = next_message(&bot);
    assert_eq!(incoming.chat_id, chat);
    assert_eq!(incoming.author.id, emu.user_id("alice"));
    match &incoming.content {
        Content::Text(t) => assert_eq!(t.text, "ping"),
        other => panic!("{other:?}"),
    }

    let reply = SendMessage::new(&chat, "<b>pong</b>")
        .parse_mode(ParseMode::Html)
        .reply_to(&incoming.message_id);
    let sent = bot.request(&reply).unwrap();
    let stored = bot.get_message_by_id(&sent.message_id).unwrap();
    assert_eq!(
        stored.reply_message_id.as_deref(),
        Some(incoming.message_id.as_str())
    );
    let history: Vec<_> = bot
        .history(&chat, 1)
        .map(|m| m.unwrap().message_id)
        .collect();
    assert_eq!(
        history,
        vec![sent.message_id.clone(), incoming.message_id.clone()]
    );

    // The chat's lastMessage comes without a chatId (spec 5.4) and gets
    // the chat's.
    let info = bot.get_chat_by_id(&chat).unwrap();
    let last = info.last_message.expect("lastMessage");
    assert_eq!(
        (last.message_id.as_str(), last.chat_id.as_str()),
        (sent.message_id.as_str(), chat.as_str())
    );

    match bot.get_chat_by_id("no-such-chat") {
        Err(Error::Api { code, .. }) => assert_eq!(code, ApiErrorCode::ChatNotFound),
        other => panic!("{other:?}"),
    }
    bot.close();
}

#[test]
fn a_wrong_password_is_a_typed_oauth_error() {
    let emu = emulator(false);
    let refused = Client::builder(emu.url())
        .credentials("bot", "nope")
        .connect()
        .unwrap_err();
    match &refused {
        Error::OAuth { error, .. } => assert_eq!(error, "invalid_grant"),
        other => panic!("{other:?}"),
    }
    assert_eq!(refused.oauth_error(), Some(OAuthError::InvalidGrant));
    assert_eq!(Error::Closed.oauth_error(), None);
}

#[test]
fn a_garbage_token_is_refused_with_201() {
    let emu = emulator(false);
    match Client::builder(emu.url()).token("garbage").connect() {
        Err(Error::Api { code, method }) => {
            assert_eq!(
                (code, method.as_str()),
                (ApiErrorCode::InvalidCredentials, "auth")
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tls_with_the_private_ca_trusted() {
    let emu = emulator(true);
    assert!(emu.url().starts_with("https://"));
    let ca = emu.ca_pem().expect("generated CA");
    let bot = Client::builder(emu.url())
        .ca_cert_pem(ca)
        .credentials("bot", "bot-pw")
        .connect()
        .unwrap();
    let chat = bot.create_group_chat("secure").unwrap().chat_id;
    bot.send_message(&chat, "over TLS").unwrap();
    bot.close();
}

#[test]
fn a_ca_file_may_be_a_pipe_but_never_blocks_or_runs_on() {
    let emu = emulator(true);
    let ca = emu.ca_pem().expect("generated CA").to_owned();
    let trusted = |path: &str| {
        Client::builder(emu.url())
            .ca_cert_file(path)
            .credentials("bot", "bot-pw")
            .connect()
            .map(|bot| bot.close())
    };
    // A pipe from another process, as `--ca-cert <(cat ca.pem)` gives.
    let pem = std::env::temp_dir().join(format!("tcb-ca-{}.pem", std::process::id()));
    std::fs::write(&pem, &ca).unwrap();
    let mut cat = std::process::Command::new("cat")
        .arg(&pem)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("cat runs");
    let pipe = cat.stdout.take().expect("a pipe");
    let piped = format!("/dev/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&pipe));
    trusted(&piped).expect("trusted through the pipe");
    drop(pipe);
    cat.wait().unwrap();
    std::fs::remove_file(pem).unwrap();
    // A FIFO whose writer comes after the client has opened it.
    let fifo = support::fifo("ca-late");
    let late = {
        let (fifo, ca) = (fifo.clone(), ca.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            std::fs::write(fifo, ca)
        })
    };
    trusted(&fifo.to_string_lossy()).expect("trusted through the FIFO");
    late.join().unwrap().unwrap();
    std::fs::remove_file(fifo).unwrap();

    // Refused, each on a thread so that a hang fails the test: a FIFO
    // nobody writes to, one whose writer never ends, a device, and a file
    // too large.
    let silent = support::fifo("ca-silent");
    let endless = support::fifo("ca-endless");
    let (done, until_done) = std::sync::mpsc::channel::<()>();
    let holder = {
        let endless = endless.clone();
        std::thread::spawn(move || {
            let mut held = std::fs::OpenOptions::new().write(true).open(endless)?;
            std::io::Write::write_all(&mut held, b"-----BEGIN CERTIFICATE-----\n")?;
            // Held open, silent, until the client has given up.
            let _ = until_done.recv_timeout(Duration::from_secs(30));
            Ok::<_, std::io::Error>(())
        })
    };
    let big = std::env::temp_dir().join(format!("tcb-big-ca-{}", std::process::id()));
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(17 << 20))
        .unwrap();
    let late_pipe = "the pipe stayed silent for 10 s without ending";
    let refusals: Vec<_> = [
        (silent.clone(), late_pipe),
        (endless.clone(), late_pipe),
        ("/dev/zero".into(), "not a regular file or a pipe"),
        (big.clone(), "larger than 16 MiB"),
    ]
    .into_iter()
    .map(|(path, says)| {
        let (tx, rx) = std::sync::mpsc::channel();
        let (url, at) = (emu.url().to_owned(), path.clone());
        std::thread::spawn(move || {
            let result = Client::builder(url).ca_cert_file(&at).token("t").connect();
            let _ = tx.send(result.err().map(|e| e.to_string()));
        });
        (path, says, rx)
    })
    .collect();
    for (path, says, rx) in refusals {
        let message = rx.recv_timeout(Duration::from_secs(20)).expect("no hang");
        let message = message.expect("an error");
        assert!(
            message.starts_with("configuration error: cannot read") && message.ends_with(says),
            "{}: {message}",
            path.display()
        );
    }
    drop(done);
    holder.join().unwrap().unwrap();
    for path in [silent, endless, big] {
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn tls_unknown_ca_is_rejected_clearly() {
    let emu = emulator(true);
    match Client::builder(emu.url())
        .credentials("bot", "bot-pw")
        .connect()
    {
        Err(Error::Tls(msg)) => assert!(msg.contains("not trusted"), "{msg}"),
        other => panic!("expected a TLS error, got {other:?}"),
    }
    // The same refusal on the WebSocket path, with a token (no HTTP first).
    match Client::builder(emu.url()).token("t").connect() {
        Err(Error::Tls(msg)) => assert!(msg.contains("not trusted"), "{msg}"),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[test]
fn tls_accept_any_only_when_asked() {
    let emu = emulator(true);
    let bot = Client::builder(emu.url())
        .danger_accept_invalid_certs(true)
        .credentials("bot", "bot-pw")
        .connect()
        .unwrap();
    assert!(!bot.user_id().is_empty());
    bot.close();
}

#[test]
fn a_bad_ca_file_is_a_configuration_error() {
    // No certificate at all, and a certificate block with no certificate
    // inside (once skipped, then reported as an untrusted server).
    let garbled = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    for (pem, says) in [
        ("not a pem", "no CERTIFICATE block found"),
        (garbled, "certificate 1 cannot be used"),
    ] {
        match Client::builder("https://127.0.0.1:1")
            .ca_cert_pem(pem)
            .token("t")
            .connect()
        {
            Err(e @ Error::Config(_)) => {
                let shown = e.to_string();
                assert!(shown.contains(says), "{shown}");
                assert_eq!(shown.matches("configuration error").count(), 1, "{shown}");
            }
            other => panic!("{pem}: {other:?}"),
        }
    }
}

#[test]
fn paging_walks_every_chat_participant_and_message() {
    let emu = emulator(false);
    let bot = Client::builder(emu.url())
        .credentials("bot", "bot-pw")
        .connect()
        .unwrap();
    let mut created: Vec<String> = (0..5)
        .map(|i| bot.create_group_chat(format!("room {i}")).unwrap().chat_id)
        .collect();
    let mut listed: Vec<String> = bot.chats(2).map(|c| c.unwrap().chat_id).collect();
    created.sort();
    listed.sort();
    assert_eq!(listed, created);

    let room = &created[0];
    bot.add_chat_participant(room, emu.user_id("alice"))
        .unwrap();
    let people: Vec<String> = bot
        .participants(room, 1)
        .map(|p| p.unwrap().user_id)
        .collect();
    assert_eq!(people.len(), 2, "{people:?}");

    let sent: Vec<String> = (0..7)
        .map(|i| bot.send_message(room, format!("m{i}")).unwrap().message_id)
        .collect();
    let walked: Vec<String> = bot
        .history(room, 3)
        .map(|m| m.unwrap())
        .filter(|m| matches!(m.content, Content::Text(_)))
        .map(|m| m.message_id)
        .collect();
    let newest_first: Vec<String> = sent.into_iter().rev().collect();
    assert_eq!(walked, newest_first);
    bot.close();
}

#[test]
fn tls_carries_heavy_traffic_both_ways() {
    const N: usize = 1_500;
    let emu = emulator(true);
    let bot = Client::builder(emu.url())
        .ca_cert_pem(emu.ca_pem().unwrap())
        .credentials("bot", "bot-pw")
        .connect()
        .unwrap();
    let chat = bot.create_group_chat("busy").unwrap().chat_id;
    bot.add_chat_participant(&chat, emu.user_id("alice"))
        .unwrap();
    let alice = emu.user("alice");
    let writer = {
        let chat = chat.clone();
        std::thread::spawn(move || {
            let long = "x".repeat(3_000);
            for i in 0..N {
                alice.send_message(&chat, &format!("{i} {long}")).unwrap();
            }
        })
    };
    let mut seen = 0;
    while seen < N {
        let m = next_message(&bot);
        if let Content::Text(t) = &m.content {
            let n: usize = t.text.split(' ').next().unwrap().parse().unwrap();
            assert_eq!(n, seen, "in order, once each");
            seen += 1;
            bot.send_message(&chat, "y".repeat(3_000)).unwrap();
        }
    }
    writer.join().unwrap();
    bot.close();
}

#[test]
fn tls_events_are_taken_and_acknowledged_while_writes_are_blocked() {
    let emu = emulator(true);
    let bot = Client::builder(emu.url())
        .ca_cert_pem(emu.ca_pem().unwrap())
        .credentials("bot", "bot-pw")
        .request_timeout(Duration::from_secs(60))
        .keepalive(None)
        .connect()
        .unwrap();
    let events = bot.events();
    let alice = emu.user("alice");
    let chat = alice.create_p2p_chat("bot").unwrap();
    // The server stops reading; 20 MiB of requests fill every buffer on
    // the way, so the client's writes block.
    emu.faults().stall(true);
    let pad = "x".repeat(512 << 10);
    let held: Vec<_> = (0..40)
        .map(|_| {
            bot.call_pending(
                "getUserDisplayName",
                serde_json::json!({"userId": emu.user_id("alice"), "pad": pad}),
            )
            .unwrap()
        })
        .collect();
    // Events still come (a stalled server still writes), and their acks
    // queue behind the blocked requests: the link must not fail.
    const SENT: usize = 50;
    for n in 0..SENT {
        alice.send_message(&chat, &format!("m{n}")).unwrap();
    }
    let mut seen = 0;
    while seen < SENT {
        match events.recv_timeout(WAIT).unwrap() {
            Some(Event::NewMessage(_)) => seen += 1,
            Some(Event::Disconnected { reason }) => panic!("the link failed: {reason}"),
            Some(_) => {}
            None => panic!("only {seen} of {SENT} messages within {WAIT:?}"),
        }
    }
    // Once the server reads again, every request is answered.
    emu.faults().stall(false);
    for call in held {
        match call.wait() {
            Ok(_) | Err(Error::Api { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(bot.health().reconnects, 0);
}
