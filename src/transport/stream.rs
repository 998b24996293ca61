//! The byte stream under a WebSocket: plain TCP, or TLS as client or server.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A TCP stream, possibly wrapped in TLS.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP (`ws://`, `http://`).
    Plain(Tcp, Intake),
    /// TLS as the client (`wss://`).
    TlsClient(Box<rustls::StreamOwned<rustls::ClientConnection, Tcp>>),
    /// TLS as the server (the emulator's `wss://`).
    #[cfg(feature = "emulator")]
    TlsServer(Box<rustls::StreamOwned<rustls::ServerConnection, Tcp>>),
}

/// A TCP socket, with an optional deadline for blocking use (a handshake):
/// while it has one, every read or write first sets the socket's timeout
/// to the time left, and fails with `TimedOut` once none is left. So the
/// deadline bounds all the reads and writes together, not each one.
#[derive(Debug)]
pub struct Tcp {
    /// The socket.
    socket: TcpStream,
    /// When reads and writes stop (`None`: never).
    deadline: Option<Instant>,
}

impl Tcp {
    /// `socket` with no deadline (the emulator's sockets).
    #[cfg(any(test, feature = "emulator"))]
    pub fn new(socket: TcpStream) -> Tcp {
        Tcp {
            socket,
            deadline: None,
        }
    }

    /// `socket` with reads and writes until `deadline`.
    pub fn until(socket: TcpStream, deadline: Instant) -> Tcp {
        Tcp {
            socket,
            deadline: Some(deadline),
        }
    }

    /// Drops the deadline, and the socket's timeouts with it.
    pub fn clear_deadline(&mut self) -> io::Result<()> {
        self.deadline = None;
        self.socket.set_read_timeout(None)?;
        self.socket.set_write_timeout(None)
    }

    /// The time left until the deadline (`None`: no deadline); `TimedOut`
    /// once none is left.
    fn time_left(&self) -> io::Result<Option<Duration>> {
        let Some(deadline) = self.deadline else {
            return Ok(None);
        };
        match deadline.saturating_duration_since(Instant::now()) {
            left if left.is_zero() => Err(io::ErrorKind::TimedOut.into()),
            left => Ok(Some(left)),
        }
    }
}

impl Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(left) = self.time_left()? {
            self.socket.set_read_timeout(Some(left))?;
        }
        self.socket.read(buf)
    }
}

impl Tcp {
    /// Arms the write timeout with the time left, if there is a deadline.
    fn arm_write(&mut self) -> io::Result<()> {
        if let Some(left) = self.time_left()? {
            self.socket.set_write_timeout(Some(left))?;
        }
        Ok(())
    }
}

impl Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm_write()?;
        self.socket.write(buf)
    }

    /// One `writev`: rustls hands its queued records over this way.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.arm_write()?;
        self.socket.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.socket.flush()
    }
}

/// How a plain stream reads: straight from the socket, or (for readers
/// on edge-triggered epoll, see [`Stream::assume_drained_after_short_reads`])
/// through a read-ahead buffer, taking a short read to mean "drained".
///
/// **Read-ahead.** tungstenite reads into what is left of its input
/// buffer. Payloads handed on keep their part of that buffer alive, so the
/// part left is often a few hundred bytes: every read filled it, and a
/// burst of responses took several `recv`s. Read-ahead asks the socket for
/// a whole [`READ_AHEAD`] at once and hands tungstenite what it asks for
/// from there.
///
/// **Short reads.** On a non-blocking socket watched by edge-triggered
/// epoll, a read that returned less than asked for emptied the socket's
/// receive queue: the next read would return `WouldBlock`, and any data
/// that arrives later raises a new edge. So once what it read is handed
/// on, the next read returns `WouldBlock` without the system call (one
/// `recv` fewer per round trip).
///
/// (TCP urgent data would also end a read early with more queued; the
/// protocol never sends it.)
///
/// Except at the end of the stream: a peer's FIN that arrived together
/// with its last data ends a short read too, and raises no edge of its
/// own. Whoever sees epoll report the peer's side closed calls
/// [`Stream::read_to_the_end`], and reads reach the end of the stream.
#[derive(Debug, Default)]
pub struct Intake {
    /// Short reads mean "drained".
    short_means_drained: bool,
    /// The last read from the socket was short: once `ahead` is handed on,
    /// the next read reports `WouldBlock`.
    drained: bool,
    /// The read-ahead buffer (empty: reads go straight to the socket).
    ahead: Vec<u8>,
    /// `ahead[start..end]` is read but not handed on yet.
    start: usize,
    end: usize,
}

/// How much a reader on edge-triggered epoll asks the socket for at once.
pub const READ_AHEAD: usize = 16 << 10;

impl Intake {
    fn read(&mut self, tcp: &mut Tcp, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.start == self.end {
            if std::mem::take(&mut self.drained) {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            if buf.len() >= self.ahead.len() {
                let n = tcp.read(buf)?;
                self.drained = self.short_means_drained && n > 0 && n < buf.len();
                return Ok(n);
            }
            let n = tcp.read(&mut self.ahead)?;
            self.drained = self.short_means_drained && n > 0 && n < self.ahead.len();
            self.start = 0;
            self.end = n;
        }
        let n = buf.len().min(self.end - self.start);
        buf[..n].copy_from_slice(&self.ahead[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

impl Stream {
    /// A plain TCP stream with no deadline (the emulator's sockets).
    #[cfg(any(test, feature = "emulator"))]
    pub fn plain(tcp: TcpStream) -> Stream {
        Stream::Plain(Tcp::new(tcp), Intake::default())
    }

    /// A plain TCP stream whose reads and writes stop at the deadline of
    /// `tcp` (see [`Tcp`]).
    pub fn plain_until(tcp: Tcp) -> Stream {
        Stream::Plain(tcp, Intake::default())
    }

    /// For a non-blocking socket whose readers wait on edge-triggered epoll
    /// before reading again: reads go through a read-ahead buffer of
    /// `read_ahead` bytes, and a short read means "drained" (see
    /// [`Intake`]). Plain streams only (a TLS record can end a short read
    /// with more records behind it, and rustls buffers its own reads).
    pub fn assume_drained_after_short_reads(&mut self, read_ahead: usize) {
        if let Stream::Plain(_, intake) = self {
            intake.short_means_drained = true;
            if intake.ahead.len() < read_ahead {
                // Bytes read ahead already (none, where this is called
                // before the first read) stay in front.
                let mut ahead = vec![0; read_ahead];
                let pending = intake.end - intake.start;
                ahead[..pending].copy_from_slice(&intake.ahead[intake.start..intake.end]);
                intake.ahead = ahead;
                intake.start = 0;
                intake.end = pending;
            }
        }
    }

    /// Forgets a short read: the next read asks the socket (once what was
    /// read ahead is handed on). A reader that starts anew (after waiting
    /// on epoll, or on another thread) calls this, since the `WouldBlock` a
    /// short read promises is only true for the reader that goes on to wait
    /// for the next edge: another reader may have consumed that edge
    /// already.
    pub fn forget_short_read(&mut self) {
        if let Stream::Plain(_, intake) = self {
            intake.drained = false;
        }
    }

    /// Stops assuming that short reads drained the socket (see
    /// [`Intake`]): every read goes to the socket, so a read after the
    /// last data returns the end of the stream. For when epoll reported the
    /// peer's side closed.
    pub fn read_to_the_end(&mut self) {
        if let Stream::Plain(_, intake) = self {
            intake.short_means_drained = false;
            intake.drained = false;
        }
    }

    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s, _) => &s.socket,
            Stream::TlsClient(s) => &s.sock.socket,
            #[cfg(feature = "emulator")]
            Stream::TlsServer(s) => &s.sock.socket,
        }
    }

    /// Drops the socket's deadline, and its timeouts with it (see [`Tcp`]).
    pub fn clear_deadline(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s, _) => s.clear_deadline(),
            Stream::TlsClient(s) => s.sock.clear_deadline(),
            #[cfg(feature = "emulator")]
            Stream::TlsServer(s) => s.sock.clear_deadline(),
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
    sock: &mut Tcp,
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
    sock: &mut Tcp,
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
    sock: &mut Tcp,
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
    sock: &mut Tcp,
) -> io::Result<()> {
    conn.writer().flush()?;
    tls_push(conn, sock)?;
    sock.flush()
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s, intake) => intake.read(s, buf),
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

    fn pair() -> (TcpStream, Stream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (tcp, _) = listener.accept().unwrap();
        (peer, Stream::plain(tcp))
    }

    /// Waits (bounded) until `n` bytes are queued on the stream's socket.
    fn queued(stream: &Stream, n: usize) {
        let mut buf = vec![0u8; n];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while stream.tcp().peek(&mut buf).unwrap() < n {
            assert!(
                std::time::Instant::now() < deadline,
                "{n} bytes never arrived"
            );
        }
    }

    #[test]
    fn vectored_writes_go_out_in_one_call_and_keep_the_deadline() {
        let (mut peer, stream) = pair();
        let Stream::Plain(mut tcp, _) = stream else {
            unreachable!()
        };
        let bufs = [io::IoSlice::new(b"first "), io::IoSlice::new(b"second")];
        assert_eq!(
            tcp.write_vectored(&bufs).unwrap(),
            12,
            "both slices at once"
        );
        let mut got = [0u8; 12];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"first second");
        tcp.deadline = Some(Instant::now());
        let e = tcp.write_vectored(&bufs).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn a_short_read_reports_would_block_once_when_enabled() {
        let (mut peer, mut stream) = pair();
        let mut buf = [0u8; 64];

        // Disabled (blocking use, the handshake): a short read changes nothing.
        peer.write_all(b"abc").unwrap();
        assert_eq!(stream.read(&mut buf).unwrap(), 3);
        peer.write_all(b"de").unwrap();
        assert_eq!(stream.read(&mut buf).unwrap(), 2);

        stream.assume_drained_after_short_reads(64);
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
        queued(&stream, 64);
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

    #[test]
    fn small_reads_are_served_from_one_read_ahead() {
        let (mut peer, mut stream) = pair();
        stream.assume_drained_after_short_reads(64);
        peer.write_all(b"0123456789").unwrap();
        queued(&stream, 10);
        let mut small = [0u8; 4];
        assert_eq!(stream.read(&mut small).unwrap(), 4);
        assert_eq!(&small, b"0123");
        // Bytes that arrive now stay in the socket: the rest of the first
        // read comes from the read-ahead, then its short read says
        // "drained".
        peer.write_all(b"abc").unwrap();
        queued(&stream, 3);
        assert_eq!(stream.read(&mut small).unwrap(), 4);
        assert_eq!(&small, b"4567");
        assert_eq!(stream.read(&mut small).unwrap(), 2);
        assert_eq!(&small[..2], b"89");
        let e = stream.read(&mut small).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(stream.read(&mut small).unwrap(), 3);
        assert_eq!(&small[..3], b"abc");
        let e = stream.read(&mut small).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);

        // A reader starting anew still gets what was read ahead first.
        peer.write_all(b"XYZ").unwrap();
        queued(&stream, 3);
        assert_eq!(stream.read(&mut small[..1]).unwrap(), 1);
        peer.write_all(b"!").unwrap();
        queued(&stream, 1);
        stream.forget_short_read();
        assert_eq!(stream.read(&mut small).unwrap(), 2);
        assert_eq!(&small[..2], b"YZ");
        assert_eq!(stream.read(&mut small).unwrap(), 1);
        assert_eq!(&small[..1], b"!");
        let e = stream.read(&mut small).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);

        // Enabling read-ahead later keeps nothing back (and a larger buffer
        // keeps what the smaller one read ahead).
        peer.write_all(b"pqrs").unwrap();
        queued(&stream, 4);
        assert_eq!(stream.read(&mut small[..1]).unwrap(), 1);
        stream.assume_drained_after_short_reads(128);
        assert_eq!(stream.read(&mut small).unwrap(), 3);
        assert_eq!(&small[..3], b"qrs");
        let e = stream.read(&mut small).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);

        // The end of the stream after what was read ahead.
        peer.write_all(b"end").unwrap();
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        queued(&stream, 3);
        assert_eq!(stream.read(&mut small[..1]).unwrap(), 1);
        stream.read_to_the_end();
        assert_eq!(stream.read(&mut small).unwrap(), 2);
        assert_eq!(stream.read(&mut small).unwrap(), 0, "the end of the stream");
    }
}
