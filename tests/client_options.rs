//! Builder options on the wire (the WebSocket path, what `auth` asks for),
//! timeouts that name the limit that fired, pending calls that time out or
//! are dropped, and event iteration that stops.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::peer::{script, Peer, Script};
use trueconf_bot::{Client, Error, Event, ReconnectPolicy, TimeoutKind};

const WAIT: Duration = Duration::from_secs(10);

fn connect(url: &str, request_timeout: Duration) -> Client {
    Client::builder(url)
        .token("tok")
        .reconnect(ReconnectPolicy::disabled())
        .request_timeout(request_timeout)
        .connect()
        .unwrap()
}

/// Answers every request with `{"n": <its payload's n>}` until the client
/// closes, except that the first request is answered only after the
/// second (late, as for a call that gave up on it).
fn answer_the_first_late(peer: &mut Peer) {
    peer.accept_auth("bot@srv");
    let first = peer.recv();
    let second = peer.recv();
    peer.reply(&second, json!({"n": second["payload"]["n"]}));
    peer.reply(&first, json!({"n": first["payload"]["n"]}));
    while let tungstenite::Message::Text(t) = peer.recv_message() {
        let req: Value = serde_json::from_str(t.as_str()).unwrap();
        peer.reply(&req, json!({"n": req["payload"]["n"]}));
    }
}

#[test]
fn the_websocket_path_is_the_one_configured() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(tcp).read_line(&mut line).unwrap();
        tx.send(line).unwrap();
    });
    let refused = Client::builder(url)
        .token("tok")
        .ws_path("/custom/bot")
        .connect_timeout(WAIT)
        .connect();
    assert!(refused.is_err());
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap().trim_end(),
        "GET /custom/bot HTTP/1.1"
    );
}

#[test]
fn a_websocket_path_without_a_leading_slash_is_refused_and_hides_its_secrets() {
    let builder = Client::builder("http://127.0.0.1:9")
        .token("tok")
        .ws_path("chat?access_token=SECRET");
    assert!(!format!("{builder:?}").contains("SECRET"), "{builder:?}");
    match builder.connect() {
        Err(Error::Config(message)) => {
            assert!(message.contains("must start with '/'"), "{message}");
            assert!(!message.contains("SECRET"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn auth_asks_for_unread_messages_and_system_envelopes_only_when_told() {
    let (tx, rx) = mpsc::channel();
    let server = Script::serve(vec![
        script({
            let tx = tx.clone();
            move |peer| tx.send(peer.accept_auth("bot@srv")).unwrap()
        }),
        script(move |peer| tx.send(peer.accept_auth("bot@srv")).unwrap()),
    ]);
    let plain = connect(&server.url, WAIT);
    let told = Client::builder(&server.url)
        .token("tok")
        .receive_unread(true)
        .receive_system_envelopes(false)
        .reconnect(ReconnectPolicy::disabled())
        .connect()
        .unwrap();
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap()["payload"],
        json!({"token": "tok", "tokenType": "JWE"})
    );
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap()["payload"],
        json!({"token": "tok", "tokenType": "JWE", "receiveUnread": true,
               "receiveSystemMessageEnvelopes": false})
    );
    plain.close();
    told.close();
    server.finish();
}

#[test]
fn a_pending_call_waits_its_own_timeout_and_its_late_answer_is_ignored() {
    let server = Script::serve(vec![script(answer_the_first_late)]);
    let c = connect(&server.url, WAIT);
    let first = c.call_pending("slow", json!({"n": 1})).unwrap();
    let started = Instant::now();
    match first.wait_timeout(Duration::from_millis(100)) {
        Err(Error::Timeout { kind, after }) => {
            assert_eq!(
                (kind, after),
                (TimeoutKind::Request, Duration::from_millis(100))
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(100));
    carries_on_past_the_late_answer(c, server);
}

/// With the first call given up: nothing is left in flight, the second
/// call gets its own answer, then the first one's late answer comes and
/// goes nowhere, and the connection carries on.
fn carries_on_past_the_late_answer(c: Client, server: Script) {
    assert_eq!(c.health().requests_in_flight, 0);
    assert_eq!(c.call("fast", json!({"n": 2})).unwrap(), json!({"n": 2}));
    assert_eq!(c.call("after", json!({"n": 3})).unwrap(), json!({"n": 3}));
    c.close();
    server.finish();
}

#[test]
fn a_dropped_pending_call_leaves_nothing_behind() {
    let server = Script::serve(vec![script(answer_the_first_late)]);
    let c = connect(&server.url, WAIT);
    drop(c.call_pending("dropped", json!({"n": 1})).unwrap());
    carries_on_past_the_late_answer(c, server);
}

/// Waits (up to [`WAIT`]) for `pending` to turn ready by itself, nobody
/// waiting on it.
fn until_ready<T>(pending: &trueconf_bot::Pending<T>) {
    let started = Instant::now();
    while !pending.is_ready() {
        assert!(started.elapsed() < WAIT, "never ready");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_pending_call_turns_ready_when_its_answer_arrives_without_a_wait() {
    let (got_tx, got) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let server = Script::serve(vec![script(move |peer| {
        peer.accept_auth("bot@srv");
        let req = peer.recv();
        got_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        peer.reply(&req, json!({"ok": true}));
        while peer.ws.read().is_ok() {}
    })]);
    let c = connect(&server.url, WAIT);
    let pending = c.call_pending("later", json!({})).unwrap();
    got.recv_timeout(WAIT)
        .expect("the request reached the server");
    assert!(!pending.is_ready());
    go.send(()).unwrap();
    until_ready(&pending);
    assert_eq!(
        pending.wait_timeout(Duration::ZERO).unwrap(),
        json!({"ok": true})
    );
    c.close();
    server.finish();
}

#[test]
fn a_pending_call_never_answered_turns_ready_when_its_time_is_up() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        let _unanswered = peer.recv();
        while peer.ws.read().is_ok() {}
    })]);
    let timeout = Duration::from_millis(200);
    let c = connect(&server.url, timeout);
    let started = Instant::now();
    let pending = c.call_pending("never", json!({})).unwrap();
    until_ready(&pending);
    assert!(started.elapsed() >= timeout);
    match pending.wait() {
        Err(Error::Timeout { kind, after }) => {
            assert_eq!((kind, after), (TimeoutKind::Request, timeout))
        }
        other => panic!("{other:?}"),
    }
    c.close();
    server.finish();
}

#[test]
fn an_answer_that_arrived_in_time_is_returned_even_if_taken_late() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        let req = peer.recv();
        peer.reply(&req, json!({"ok": true}));
        while peer.ws.read().is_ok() {}
    })]);
    let timeout = Duration::from_millis(200);
    let c = connect(&server.url, timeout);
    let started = Instant::now();
    let pending = c.call_pending("quick", json!({})).unwrap();
    // The answer is in (nobody waits on it: the I/O thread read it)...
    while c.health().requests_in_flight != 0 {
        assert!(started.elapsed() < WAIT, "no answer");
        std::thread::yield_now();
    }
    // ...and the call's time is up when it is taken.
    while started.elapsed() <= timeout {
        std::thread::sleep(timeout / 4);
    }
    assert_eq!(pending.wait().unwrap(), json!({"ok": true}));
    c.close();
    server.finish();
}

#[test]
fn timeout_iter_yields_what_comes_and_stops_when_idle_or_closed() {
    let server = Script::serve(vec![script(|peer| {
        peer.accept_auth("bot@srv");
        for id in 1..=3 {
            peer.send(json!({"type": 1, "id": id, "method": "someEvent", "payload": {"k": id}}));
        }
        while peer.ws.read().is_ok() {}
    })]);
    let c = connect(&server.url, WAIT);
    let events = c.events();
    let seen: Vec<Value> = events
        .timeout_iter(Duration::from_secs(2))
        .map(|e| match e {
            Event::Raw { payload, .. } => payload,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        seen,
        vec![json!({"k": 1}), json!({"k": 2}), json!({"k": 3})]
    );
    // A long idle time still ends at close.
    let waiter = std::thread::spawn(move || events.timeout_iter(Duration::from_secs(600)).count());
    c.close();
    assert_eq!(waiter.join().unwrap(), 0);
    server.finish();
}

/// A server that accepts connections and never answers (they stay open
/// until the listener's thread is gone with the test process).
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for tcp in listener.incoming().flatten() {
            open.push(tcp);
        }
    });
    url
}

/// Connects with `builder` to a silent server: it must fail, soon, with
/// a timeout of `kind` after 300 ms.
fn assert_times_out(builder: trueconf_bot::ClientBuilder, kind: TimeoutKind) {
    let started = Instant::now();
    let e = builder.connect().unwrap_err();
    assert!(
        matches!(e, Error::Timeout { kind: k, after } if k == kind && after == Duration::from_millis(300)),
        "{e:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_token_request_left_unanswered_is_an_auth_timeout() {
    let builder = Client::builder(silent_server())
        .credentials("bot@srv", "pw")
        .auth_timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_secs(5));
    assert_times_out(builder, TimeoutKind::Auth);
}

#[test]
fn a_websocket_upgrade_left_unanswered_is_a_connect_timeout() {
    let builder = Client::builder(silent_server())
        .token("tok")
        .connect_timeout(Duration::from_millis(300))
        .auth_timeout(Duration::from_secs(5));
    assert_times_out(builder, TimeoutKind::Connect);
}

/// A server that reads what the client sends first, answers `head`, then
/// sends `drip` every 200 ms (for 12 s at most): each of the client's reads
/// gets data well within its connect timeout, the answer never completes.
fn trickling_server(head: &'static [u8], drip: &'static [u8]) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let _ = tcp.read(&mut [0u8; 4096]);
        let _ = tcp.write_all(head);
        for _ in 0..60 {
            std::thread::sleep(Duration::from_millis(200));
            if tcp.write_all(drip).is_err() {
                return;
            }
        }
    });
    addr
}

/// Connects to `url` with a connect timeout of 1 s: it must fail with that
/// timeout, and well before 2 s (the connect runs on its own thread, so
/// that a connect that does not return fails the test rather than hanging
/// it).
fn assert_connect_times_out_after_1s(url: String) {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let r = Client::builder(url)
            .token("tok")
            .reconnect(ReconnectPolicy::disabled())
            .connect_timeout(Duration::from_secs(1))
            .auth_timeout(Duration::from_secs(5))
            .connect();
        let _ = tx.send(r.map(drop));
    });
    let r = rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| panic!("connect still blocked after {:?}", started.elapsed()));
    assert!(
        matches!(r, Err(Error::Timeout { kind: TimeoutKind::Connect, after }) if after == Duration::from_secs(1)),
        "{r:?}"
    );
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

#[test]
fn the_retry_without_the_subprotocol_shares_the_connect_limit() {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        // The first upgrade is accepted 800 ms late, without echoing the
        // subprotocol: the client tries again without offering it.
        let (mut tcp, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let n = tcp.read(&mut request).unwrap();
        let request = String::from_utf8_lossy(&request[..n]).into_owned();
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a key");
        let accept = tungstenite::handshake::derive_accept_key(key.trim().as_bytes());
        std::thread::sleep(Duration::from_millis(800));
        let _ = write!(
            tcp,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        // The second is answered a line at a time.
        let (mut tcp, _) = listener.accept().unwrap();
        let _ = tcp.read(&mut [0u8; 4096]);
        let _ = tcp.write_all(b"HTTP/1.1 101 Switching Protocols\r\n");
        for _ in 0..60 {
            std::thread::sleep(Duration::from_millis(200));
            if tcp.write_all(b"X-Pad: a\r\n").is_err() {
                return;
            }
        }
    });
    // 1 s for both tries, not 1 s for each (1.8 s).
    assert_connect_times_out_after_1s(format!("http://{addr}"));
}

#[test]
fn a_websocket_upgrade_answered_a_line_at_a_time_is_a_connect_timeout() {
    let addr = trickling_server(b"HTTP/1.1 101 Switching Protocols\r\n", b"X-Pad: a\r\n");
    assert_connect_times_out_after_1s(format!("http://{addr}"));
}

#[test]
fn a_tls_handshake_answered_a_byte_at_a_time_is_a_connect_timeout() {
    // A TLS handshake record header announcing 16 KiB, then its body a
    // byte at a time.
    let addr = trickling_server(&[0x16, 0x03, 0x03, 0x40, 0x00], &[0]);
    assert_connect_times_out_after_1s(format!("https://{addr}"));
}
