//! A one-shot HTTP server answering with raw bytes.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// Answers the first request (its head, and the body its `Content-Length`
/// announces) with `response`, then closes. The flag is raised once a
/// request came.
pub fn one_shot(response: Vec<u8>) -> (SocketAddr, Arc<AtomicBool>) {
    serve(response, None)
}

/// Answers the first request with `response` (the start of one, say), then
/// goes silent with the connection open until the returned sender drops.
pub fn then_silent(response: Vec<u8>) -> (SocketAddr, mpsc::Sender<()>) {
    let (hold, until) = mpsc::channel();
    let (addr, _) = serve(response, Some(until));
    (addr, hold)
}

/// Answers the first request with `response`, then holds the connection
/// open until `hold` ends, if given.
fn serve(response: Vec<u8>, hold: Option<mpsc::Receiver<()>>) -> (SocketAddr, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let asked = Arc::new(AtomicBool::new(false));
    let flag = asked.clone();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && tcp.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let _ = tcp.read_exact(&mut vec![0u8; length]);
        flag.store(true, Ordering::SeqCst);
        let _ = tcp.write_all(&response);
        if let Some(hold) = hold {
            let _ = hold.recv();
        }
    });
    (addr, asked)
}

/// A redirect to `location`.
pub fn redirect(location: &str) -> Vec<u8> {
    format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n").into_bytes()
}
