//! The byte stream under a WebSocket: plain TCP, or TLS as client or server.

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// A TCP stream, possibly wrapped in TLS.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP (`ws://`, `http://`).
    Plain(TcpStream, ShortReads),
    /// TLS as the client (`wss://`).
    TlsClient(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    /// TLS as the server (the emulator's `wss://`).
    #[cfg(feature = "emulator")]
    TlsServer(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

/// What a plain stream makes of a read that returned less than asked for.
///
/// On a non-blocking socket watched by edge-triggered epoll, such a read
/// emptied the socket's receive queue: the next read would return
/// `WouldBlock`, and any data that arrives later raises a new edge. With
/// [`Stream::assume_drained_after_short_reads`], that next read returns
/// `WouldBlock` without the system call (one `recv` fewer per round trip).
///
/// (TCP urgent data would also end a read early with more queued; the
/// protocol never sends it.)
///
/// Except at the end of the stream: a peer's FIN that arrived together
/// with its last data ends a short read too, and raises no edge of its
/// own. Whoever sees epoll report the peer's side closed calls
/// [`Stream::read_to_the_end`], and reads reach the end of the stream.
#[derive(Debug, Default)]
pub struct ShortReads {
    /// Short reads mean "drained".
    enabled: bool,
    /// The last read was short: the next one reports `WouldBlock`.
    drained: bool,
}

impl Stream {
    /// A plain TCP stream.
    pub fn plain(tcp: TcpStream) -> Stream {
        Stream::Plain(tcp, ShortReads::default())
    }

    /// For a non-blocking socket whose readers wait on edge-triggered epoll
    /// before reading again: see [`ShortReads`]. Plain streams only (a TLS
    /// record can end a short read with more records behind it).
    pub fn assume_drained_after_short_reads(&mut self) {
        if let Stream::Plain(_, short) = self {
            short.enabled = true;
        }
    }

    /// Forgets a short read: the next read asks the socket. A reader that
    /// starts anew (after waiting on epoll, or on another thread) calls
    /// this, since the `WouldBlock` a short read promises is only true for
    /// the reader that goes on to wait for the next edge: another reader
    /// may have consumed that edge already.
    pub fn forget_short_read(&mut self) {
        if let Stream::Plain(_, short) = self {
            short.drained = false;
        }
    }

    /// Stops assuming that short reads drained the socket (see
    /// [`ShortReads`]): every read goes to the socket, so a read after the
    /// last data returns the end of the stream. For when epoll reported the
    /// peer's side closed.
    pub fn read_to_the_end(&mut self) {
        if let Stream::Plain(_, short) = self {
            short.enabled = false;
            short.drained = false;
        }
    }

    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s, _) => s,
            Stream::TlsClient(s) => &s.sock,
            #[cfg(feature = "emulator")]
            Stream::TlsServer(s) => &s.sock,
        }
    }
}

/// Reads plaintext from a TLS connection on a non-blocking socket.
///
/// rustls' own `StreamOwned::read` first flushes pending TLS output and
/// returns `WouldBlock` without reading when the socket's send buffer is
/// full; two peers both blocked on writes would then stop reading each other
/// for good. This read always pulls incoming records, and only tries to
/// flush output on the side.
fn tls_read<S: rustls::SideData>(
    conn: &mut rustls::ConnectionCommon<S>,
    sock: &mut TcpStream,
    buf: &mut [u8],
) -> io::Result<usize> {
    loop {
        match conn.reader().read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            done => return done,
        }
        let got = conn.read_tls(sock);
        if let Ok(n) = got {
            conn.process_new_packets()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            // Replies rustls queued while processing (alerts, key updates);
            // a write that fails shows at the next write or flush.
            let _ = tls_push(conn, sock);
            if n == 0 {
                // End of the stream: the reader reports a clean close or
                // an unexpected EOF.
                return conn.reader().read(buf);
            }
            continue;
        }
        let _ = tls_push(conn, sock);
        return got;
    }
}

/// Writes TLS records out without ever reading (rustls' `StreamOwned`
/// write path reads incoming records when its write would block, and then
/// reports `Ok(0)` once its send buffer is full).
fn tls_push<S: rustls::SideData>(
    conn: &mut rustls::ConnectionCommon<S>,
    sock: &mut TcpStream,
) -> io::Result<()> {
    while conn.wants_write() {
        match conn.write_tls(sock) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Buffers plaintext in rustls (up to its limit) and pushes records out;
/// `WouldBlock` rather than `Ok(0)` when the buffer is full.
fn tls_write<S: rustls::SideData>(
    conn: &mut rustls::ConnectionCommon<S>,
    sock: &mut TcpStream,
    buf: &[u8],
) -> io::Result<usize> {
    match tls_push(conn, sock) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    let n = conn.writer().write(buf)?;
    if n == 0 && !buf.is_empty() {
        return Err(io::ErrorKind::WouldBlock.into());
    }
    // The bytes were taken: a push that fails shows at the next write or
    // flush.
    let _ = tls_push(conn, sock);
    Ok(n)
}

/// Pushes every buffered record out; `WouldBlock` while the socket's send
/// buffer is full (the I/O thread flushes again once it turns writable).
fn tls_flush<S: rustls::SideData>(
    conn: &mut rustls::ConnectionCommon<S>,
    sock: &mut TcpStream,
) -> io::Result<()> {
    conn.writer().flush()?;
    tls_push(conn, sock)?;
    sock.flush()
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s, short) => {
                if std::mem::take(&mut short.drained) {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                let n = s.read(buf)?;
                short.drained = short.enabled && n > 0 && n < buf.len();
                Ok(n)
            }
            Stream::TlsClient(s) => {
                let s = &mut **s;
                tls_read(&mut s.conn, &mut s.sock, buf)
            }
            #[cfg(feature = "emulator")]
            Stream::TlsServer(s) => {
                let s = &mut **s;
                tls_read(&mut s.conn, &mut s.sock, buf)
            }
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s, _) => s.write(buf),
            Stream::TlsClient(s) => {
                let s = &mut **s;
                tls_write(&mut s.conn, &mut s.sock, buf)
            }
            #[cfg(feature = "emulator")]
            Stream::TlsServer(s) => {
                let s = &mut **s;
                tls_write(&mut s.conn, &mut s.sock, buf)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s, _) => s.flush(),
            Stream::TlsClient(s) => {
                let s = &mut **s;
                tls_flush(&mut s.conn, &mut s.sock)
            }
            #[cfg(feature = "emulator")]
            Stream::TlsServer(s) => {
                let s = &mut **s;
                tls_flush(&mut s.conn, &mut s.sock)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_short_read_reports_would_block_once_when_enabled() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (tcp, _) = listener.accept().unwrap();
        let mut stream = Stream::plain(tcp);
        let mut buf = [0u8; 64];

        // Disabled (blocking use, the handshake): a short read changes nothing.
        peer.write_all(b"abc").unwrap();
        assert_eq!(stream.read(&mut buf).unwrap(), 3);
        peer.write_all(b"de").unwrap();
        assert_eq!(stream.read(&mut buf).unwrap(), 2);

        stream.assume_drained_after_short_reads();
        peer.write_all(b"fgh").unwrap();
        assert_eq!(stream.read(&mut buf).unwrap(), 3);
        // Data that arrives after the short read is not lost: the next read
        // says "drained" (epoll would report the new data), the one after
        // reads it.
        peer.write_all(b"ij").unwrap();
        let e = stream.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(stream.read(&mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"ij");
        // A reader starting anew asks the socket.
        peer.write_all(b"xyz").unwrap();
        stream.forget_short_read();
        assert_eq!(stream.read(&mut buf).unwrap(), 3);
        let e = stream.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "short again");
        // A read that fills the buffer is not short.
        peer.write_all(&[7u8; 64]).unwrap();
        // Blocking peeks until all 64 bytes are queued (bounded).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while stream.tcp().peek(&mut buf).unwrap() < 64 {
            assert!(
                std::time::Instant::now() < deadline,
                "64 bytes never arrived"
            );
        }
        assert_eq!(stream.read(&mut buf).unwrap(), 64);
        peer.write_all(b"k").unwrap();
        assert_eq!(stream.read(&mut buf).unwrap(), 1);
        let e = stream.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        // The last data and the FIN: the short read would say "drained" and
        // hide the end (no edge follows it). Told that the peer's side is
        // closed, the stream reads on to the end.
        peer.write_all(b"end").unwrap();
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(stream.read(&mut buf).unwrap(), 3);
        stream.read_to_the_end();
        assert_eq!(stream.read(&mut buf).unwrap(), 0, "the end of the stream");
    }
}
