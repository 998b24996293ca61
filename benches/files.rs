//! Upload and download throughput through the embedded emulator, and the
//! process's peak memory (VmHWM) against the idle client: the peak must not
//! grow with the file size. Beside each, the raw baseline of the same run:
//! plain `ureq` against the same emulator (a hand-written multipart body
//! around the same bytes; a plain GET into the same sink).
//!
//! Run: `cargo bench --features emulator --bench files`
//! (1 GiB; `TCB_BENCH_SIZE=64M` or any byte count with K/M/G for a quick
//! check).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};
use trueconf_bot::emulator::Emulator;
use trueconf_bot::protocol::methods::UploadFile;
use trueconf_bot::Client;

/// A deterministic stream of `left` pseudo-random bytes, generated as read
/// (never held in memory), with a running checksum of what it produced.
struct Generator {
    state: u64,
    left: u64,
    sum: Checksum,
}

impl Generator {
    fn new(len: u64) -> Generator {
        Generator {
            state: 0x2545_F491_4F6C_DD1D,
            left: len,
            sum: Checksum::default(),
        }
    }
}

impl Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for chunk in buf[..n].chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            let bytes = self.state.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        self.sum.update(&buf[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

/// A cheap order-sensitive checksum over 8-byte words, the same however
/// the stream is split into calls.
#[derive(Default, Clone, Copy)]
struct Checksum {
    sum: u64,
    pending: [u8; 8],
    filled: usize,
}

impl Checksum {
    fn update(&mut self, mut bytes: &[u8]) {
        if self.filled > 0 {
            let take = (8 - self.filled).min(bytes.len());
            self.pending[self.filled..self.filled + take].copy_from_slice(&bytes[..take]);
            self.filled += take;
            bytes = &bytes[take..];
            if self.filled < 8 {
                return;
            }
            self.mix(self.pending);
            self.filled = 0;
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            self.mix(word);
        }
        let rest = words.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// The sum, with the last partial word mixed in.
    fn finish(mut self) -> u64 {
        for i in self.filled..8 {
            self.pending[i] = 0;
        }
        if self.filled > 0 {
            self.mix(self.pending);
        }
        self.sum
    }

    fn mix(&mut self, word: [u8; 8]) {
        self.sum = self.sum.rotate_left(5) ^ u64::from_le_bytes(word);
    }
}

/// Counts and checksums what is written, keeps nothing.
#[derive(Default)]
struct Sink {
    bytes: u64,
    sum: Checksum,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes += buf.len() as u64;
        self.sum.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A `/proc/self/status` field in KiB (0 where there is none).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn size_from_env() -> u64 {
    let Ok(text) = std::env::var("TCB_BENCH_SIZE") else {
        return 1 << 30;
    };
    let text = text.trim().to_ascii_uppercase();
    let (digits, shift) = match text.chars().last() {
        Some('K') => (&text[..text.len() - 1], 10),
        Some('M') => (&text[..text.len() - 1], 20),
        Some('G') => (&text[..text.len() - 1], 30),
        _ => (text.as_str(), 0),
    };
    digits
        .parse::<u64>()
        .expect("TCB_BENCH_SIZE: a byte count like 1G, 64M or 1000")
        << shift
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs a tiny size.
    let quick =
        std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let size = if quick { 1 << 20 } else { size_from_env() };
    let emu = Emulator::builder()
        .user("bot", "bot-pw", "Bot")
        .user("alice", "alice-pw", "Alice")
        .frame_log_capacity(0)
        .start()
        .expect("emulator");
    let chat = emu.user("alice").create_p2p_chat("bot").expect("chat");
    let client = Client::builder(emu.url())
        .credentials("bot", "bot-pw")
        .request_timeout(Duration::from_secs(60))
        .connect()
        .expect("connect");

    // Warm up every path with a small file, then take the idle peak.
    let warm = client
        .file_upload(&chat)
        .reader(Generator::new(64 << 10), 64 << 10, "warm.bin")
        .send()
        .expect("warm-up upload");
    client
        .download(
            warm.file_id.as_deref().expect("fileId"),
            &mut Sink::default(),
        )
        .expect("warm-up download");
    let idle = status_kib("VmHWM:");

    let mut source = Generator::new(size);
    let started = Instant::now();
    let sent = client
        .file_upload(&chat)
        .reader(&mut source, size, "big.bin")
        .send()
        .expect("upload");
    let upload_time = started.elapsed();
    let after_upload = status_kib("VmHWM:");

    let mut sink = Sink::default();
    let started = Instant::now();
    client
        .download(sent.file_id.as_deref().expect("fileId"), &mut sink)
        .expect("download");
    let download_time = started.elapsed();
    let after_download = status_kib("VmHWM:");
    assert_eq!(sink.bytes, size, "downloaded byte count");
    assert_eq!(
        sink.sum.finish(),
        source.sum.finish(),
        "downloaded bytes differ from uploaded"
    );

    let file_id = sent.file_id.as_deref().expect("fileId");
    let (raw_upload_time, raw_download_time) = raw_baselines(&emu, &client, file_id, size);

    let rate = |t: Duration| size as f64 / 1e6 / t.as_secs_f64();
    println!("files benchmark: {size} bytes through the emulator (loopback, same process)\n");
    println!("| step | time | throughput | raw ureq, same run | ratio | peak memory (VmHWM) | over idle |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| idle (connected, warmed up) | | | | | {:.1} MiB | |",
        mib(idle)
    );
    for (step, t, raw, peak) in [
        (
            "upload (send_file)",
            upload_time,
            raw_upload_time,
            after_upload,
        ),
        (
            "download (to a sink)",
            download_time,
            raw_download_time,
            after_download,
        ),
    ] {
        println!(
            "| {step} | {:.2} s | {:.0} MB/s | {:.0} MB/s | {:.2}x | {:.1} MiB | +{:.1} MiB |",
            t.as_secs_f64(),
            rate(t),
            rate(raw),
            raw.as_secs_f64() / t.as_secs_f64(),
            mib(peak),
            mib(peak.saturating_sub(idle))
        );
    }
}

/// The raw baselines: `size` generated bytes posted by plain `ureq` in a
/// hand-written multipart body to an upload task of the same emulator, and
/// the file `file_id` fetched by a plain GET into a sink. Returns both
/// times.
fn raw_baselines(
    emu: &Emulator,
    client: &Client,
    file_id: &str,
    size: u64,
) -> (Duration, Duration) {
    let task = client
        .request(&UploadFile::new(size).file_name("raw.bin"))
        .expect("upload task");
    let boundary = "raw-baseline-7c1f0e";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"raw.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let total = head.len() as u64 + size + tail.len() as u64;
    let mut source = Generator::new(size);
    let started = Instant::now();
    let mut body = io::Cursor::new(head.into_bytes())
        .chain(&mut source)
        .chain(io::Cursor::new(tail.into_bytes()));
    let response = ureq::post(format!("{}/bridge/api/client/v1/files", emu.url()))
        .header("Upload-Task-Id", &task.upload_task_id)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("Content-Length", total.to_string())
        .send(ureq::SendBody::from_reader(&mut body))
        .expect("raw upload");
    let upload = started.elapsed();
    assert!(
        response.status().is_success(),
        "raw upload: {}",
        response.status()
    );

    let url = client
        .get_file_info(file_id)
        .expect("file info")
        .download_url
        .expect("downloadUrl");
    let mut sink = Sink::default();
    let started = Instant::now();
    let mut response = ureq::get(&url).call().expect("raw download");
    io::copy(&mut response.body_mut().as_reader(), &mut sink).expect("raw download body");
    let download = started.elapsed();
    assert_eq!(sink.bytes, size, "raw download byte count");
    (upload, download)
}
