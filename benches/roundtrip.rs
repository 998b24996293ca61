//! Round-trip throughput of the client against a raw tungstenite baseline,
//! both talking to the same minimal answering server on loopback, measured
//! in one process run. Run with `cargo bench --bench roundtrip`.

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trueconf_bot::Client;
use tungstenite::{Message, WebSocket};

/// Answers every request with `{"type":2,"id":N,"payload":{}}`; answers
/// `auth` with a user id. One thread per connection, blocking.
fn answering_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            std::thread::spawn(move || serve(tcp));
        }
    });
    url
}

fn serve(tcp: TcpStream) {
    tcp.set_nodelay(true).unwrap();
    let Ok(mut ws) = tungstenite::accept(tcp) else {
        return;
    };
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => {
                let text = t.as_str();
                let id = frame_id(text);
                let reply = if text.contains("\"method\":\"auth\"") {
                    format!("{{\"type\":2,\"id\":{id},\"payload\":{{\"userId\":\"bench@srv\"}}}}")
                } else if text.starts_with("{\"type\":2") {
                    continue;
                } else {
                    format!("{{\"type\":2,\"id\":{id},\"payload\":{{}}}}")
                };
                if ws.write(Message::text(reply)).is_err() {
                    return;
                }
                // Flush only when no more input is already buffered.
                if ws.flush().is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

fn frame_id(text: &str) -> u64 {
    let at = text.find("\"id\":").map(|i| i + 5).unwrap_or(0);
    text[at..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0, |n, b| n * 10 + u64::from(b - b'0'))
}

fn raw_client(url: &str) -> WebSocket<TcpStream> {
    let addr = url.trim_start_matches("http://");
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    let (ws, _) = tungstenite::client(format!("ws://{addr}/websocket/chat_bot/"), tcp).unwrap();
    ws
}

const PAYLOAD: &str = r#"{"chatId":"4a1f88f1070d2f43d385cde9ff61964bc6b74477","content":{"text":"Hello, world!","parseMode":"text"}}"#;

fn raw_blocking(url: &str, n: u64) -> f64 {
    let mut ws = raw_client(url);
    let start = Instant::now();
    for id in 1..=n {
        let frame =
            format!("{{\"type\":1,\"id\":{id},\"method\":\"sendMessage\",\"payload\":{PAYLOAD}}}");
        ws.send(Message::text(frame)).unwrap();
        loop {
            if let Message::Text(_) = ws.read().unwrap() {
                break;
            }
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn raw_pipelined(url: &str, n: u64, window: u64) -> f64 {
    let mut ws = raw_client(url);
    let start = Instant::now();
    let (mut sent, mut got) = (0u64, 0u64);
    while got < n {
        while sent < n && sent - got < window {
            sent += 1;
            let frame = format!(
                "{{\"type\":1,\"id\":{sent},\"method\":\"sendMessage\",\"payload\":{PAYLOAD}}}"
            );
            ws.write(Message::text(frame)).unwrap();
        }
        ws.flush().unwrap();
        if let Message::Text(_) = ws.read().unwrap() {
            got += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn client(url: &str) -> Client {
    Client::builder(url).token("bench").connect().unwrap()
}

fn payload() -> serde_json::Value {
    serde_json::from_str(PAYLOAD).unwrap()
}

fn client_blocking(c: &Client, n: u64) -> (f64, Vec<Duration>) {
    let p = payload();
    let mut lat = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        c.call("sendMessage", p.clone()).unwrap();
        lat.push(t.elapsed());
    }
    (n as f64 / start.elapsed().as_secs_f64(), lat)
}

fn client_threads(c: &Client, threads: u64, n: u64) -> f64 {
    let c = Arc::new(c.clone());
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                let p = payload();
                for _ in 0..n / threads {
                    c.call("sendMessage", p.clone()).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn client_pipelined(c: &Client, n: u64, window: usize) -> f64 {
    let p = payload();
    let start = Instant::now();
    let mut q = std::collections::VecDeque::with_capacity(window);
    for _ in 0..n {
        if q.len() == window {
            let pending: trueconf_bot::Pending<serde_json::Value> = q.pop_front().unwrap();
            pending.wait().unwrap();
        }
        q.push_back(c.call_pending("sendMessage", p.clone()).unwrap());
    }
    for pending in q {
        pending.wait().unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn pct(lat: &mut [Duration], p: f64) -> Duration {
    lat.sort();
    lat[((lat.len() as f64 - 1.0) * p) as usize]
}

fn main() {
    let n: u64 = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let url = answering_server();
    let raw = raw_blocking(&url, n);
    let raw16 = raw_pipelined(&url, n * 4, 16);
    let raw256 = raw_pipelined(&url, n * 4, 256);
    let c = client(&url);
    let (one, mut lat) = client_blocking(&c, n);
    let t4 = client_threads(&c, 4, n * 2);
    let t16 = client_threads(&c, 16, n * 4);
    let p16 = client_pipelined(&c, n * 4, 16);
    let p256 = client_pipelined(&c, n * 4, 256);
    println!("| row | calls/s | ratio |");
    println!("|---|---:|---:|");
    println!("| raw tungstenite, blocking, 1 thread | {raw:.0} | 1.00x raw |");
    println!(
        "| raw tungstenite, pipelined, window 16 | {raw16:.0} | {:.2}x raw |",
        raw16 / raw
    );
    println!(
        "| raw tungstenite, pipelined, window 256 | {raw256:.0} | {:.2}x raw |",
        raw256 / raw
    );
    println!(
        "| client, blocking, 1 thread (p50 {:?}, p99 {:?}) | {one:.0} | {:.2}x raw |",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        one / raw
    );
    println!("| client, 4 threads | {t4:.0} | {:.2}x raw |", t4 / raw);
    println!("| client, 16 threads | {t16:.0} | {:.2}x raw |", t16 / raw);
    println!(
        "| client, Pending window 16 | {p16:.0} | {:.2}x raw window 16 |",
        p16 / raw16
    );
    println!(
        "| client, Pending window 256 | {p256:.0} | {:.2}x raw window 256 |",
        p256 / raw256
    );
}
