//! A scripted WebSocket peer: accepts one client on loopback and lets a test
//! read and write exact frames.

#![allow(dead_code, clippy::type_complexity, clippy::result_large_err)]

use serde_json::{json, Value};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use tungstenite::{Message, WebSocket};

/// A connected scripted server side.
pub struct Peer {
    pub ws: WebSocket<TcpStream>,
}

impl Peer {
    /// The next text frame as JSON (pings are skipped). Panics after 10 s.
    pub fn recv(&mut self) -> Value {
        loop {
            match self.ws.read().expect("peer read") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("json frame"),
                Message::Close(_) => panic!("client closed while the script expected a frame"),
                _ => continue,
            }
        }
    }

    /// The next frame of any kind.
    pub fn recv_message(&mut self) -> Message {
        loop {
            match self.ws.read().expect("peer read") {
                Message::Ping(_) | Message::Pong(_) => continue,
                other => return other,
            }
        }
    }

    /// Sends a JSON frame.
    pub fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::text(frame.to_string()))
            .expect("peer send");
    }

    /// Sends a raw text frame.
    pub fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::text(text.to_string()))
            .expect("peer send");
    }

    /// Expects the `auth` request and accepts it as `user_id`; returns the
    /// request frame.
    pub fn accept_auth(&mut self, user_id: &str) -> Value {
        let auth = self.recv();
        assert_eq!(auth["method"], "auth", "first frame must be auth: {auth}");
        self.send(json!({"type": 2, "id": auth["id"], "payload": {"userId": user_id, "connectionId": "c-1"}}));
        auth
    }

    /// Answers request `req` with `payload`.
    pub fn reply(&mut self, req: &Value, payload: Value) {
        self.send(json!({"type": 2, "id": req["id"], "payload": payload}));
    }
}

/// One connection's script.
pub type PeerScript = Box<dyn FnOnce(&mut Peer) + Send>;

/// A listener that runs one script per accepted connection, in order.
pub struct Script {
    pub url: String,
    handle: Option<JoinHandle<()>>,
    failed: mpsc::Receiver<String>,
    /// Signals that a connection after the scripts hangs (see
    /// [`Script::serve_then_hang`]).
    hung: mpsc::Receiver<()>,
}

impl Script {
    /// A client of this server: a token (scripts accept any), and no
    /// reconnection, so that each script's connection is the only one.
    pub fn client(&self) -> trueconf_bot::ClientBuilder {
        trueconf_bot::Client::builder(&self.url)
            .token("tok")
            .reconnect(trueconf_bot::ReconnectPolicy::disabled())
    }

    /// Serves `scripts.len()` connections, each with its script.
    pub fn serve(scripts: Vec<PeerScript>) -> Script {
        Script::start(scripts, false)
    }

    /// Like [`serve`](Self::serve), but then accepts one more connection
    /// and never answers it (its WebSocket upgrade hangs) until the client
    /// closes it; [`wait_hung`](Self::wait_hung) waits for it.
    pub fn serve_then_hang(scripts: Vec<PeerScript>) -> Script {
        Script::start(scripts, true)
    }

    /// Waits until the connection after the scripts hangs.
    pub fn wait_hung(&self) {
        self.hung
            .recv_timeout(Duration::from_secs(10))
            .expect("a connection to hang");
    }

    fn start(scripts: Vec<PeerScript>, hang: bool) -> Script {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let (hung_tx, hung) = mpsc::channel();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, failed) = mpsc::channel();
        let handle = std::thread::spawn(move || {
            for script in scripts {
                let (tcp, _) = listener.accept().unwrap();
                tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                tcp.set_nodelay(true).unwrap();
                let ws = tungstenite::accept_hdr(tcp, check_upgrade).unwrap();
                let mut peer = Peer { ws };
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| script(&mut peer)));
                if let Err(e) = result {
                    let msg = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    let _ = tx.send(msg);
                    return;
                }
            }
            if hang {
                let (mut tcp, _) = listener.accept().unwrap();
                let _ = hung_tx.send(());
                let mut buf = [0u8; 4096];
                while matches!(std::io::Read::read(&mut tcp, &mut buf), Ok(n) if n > 0) {}
            }
        });
        Script {
            url,
            handle: Some(handle),
            failed,
            hung,
        }
    }

    /// Waits for every script to finish and fails the test if one failed.
    pub fn finish(mut self) {
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
        if let Ok(msg) = self.failed.try_recv() {
            panic!("peer script failed: {msg}");
        }
    }
}

/// Boxes a script closure.
pub fn script(f: impl FnOnce(&mut Peer) + Send + 'static) -> PeerScript {
    Box::new(f)
}

/// Checks the client's upgrade request and echoes its subprotocol.
#[allow(clippy::result_large_err)] // the signature tungstenite's callback requires
fn check_upgrade(
    req: &tungstenite::handshake::server::Request,
    mut resp: tungstenite::handshake::server::Response,
) -> Result<tungstenite::handshake::server::Response, tungstenite::handshake::server::ErrorResponse>
{
    assert_eq!(req.uri().path(), "/websocket/chat_bot/");
    if let Some(p) = req.headers().get("Sec-WebSocket-Protocol") {
        assert_eq!(p, "json.v1");
        resp.headers_mut()
            .insert("Sec-WebSocket-Protocol", p.clone());
    }
    Ok(resp)
}
