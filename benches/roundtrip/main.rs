//! The client against a raw tungstenite baseline, both talking to the same
//! minimal answering server on loopback, measured in one process run.
//!
//! ```text
//! cargo bench --bench roundtrip
//! BENCH_N=20000 BENCH_ROUNDS=3 BENCH_ONLY=blocking,threads cargo bench --bench roundtrip
//! ```
//!
//! Every row is measured `BENCH_ROUNDS` times, the client right after its
//! raw baseline; the table shows medians, and the ratio is the median of the
//! per-round ratios (the machine is noisy; ratios in one run are what
//! holds). Rows (`BENCH_ONLY` keys in brackets):
//!
//! 1. one caller thread, blocking round trips: calls/s, p50, p99 [blocking];
//! 2. 4 and 16 caller threads sharing one client [threads];
//! 3. one thread pipelining with `Pending`, windows 16 and 256 [pipelined];
//! 4. event intake: events/s decoded, acknowledged and handed to the
//!    application through `Events::recv` [events];
//! 5. connect + authenticate time [connect];
//! 6. upload and download of 1 GiB: measured by the files benchmark
//!    (`cargo bench --features emulator --bench files`, through the
//!    emulator), which this table points to [files];
//! 7. idle client memory over the process baseline, measured in a child
//!    process so the server's memory does not count [memory].
//!
//! `BENCH_PROFILE=blocking|threads4|threads16|pending16|pending256|events|
//! connect|raw-blocking|raw-pending256` runs one row alone (`BENCH_N`
//! operations), for `perf record`. `BENCH_CONNECTS` (50) is the number of
//! connects per round of row 5, `BENCH_IDLE` (100) the number of idle
//! clients of row 7, and `BENCH_IDLE_DUMP=1` prints the child's largest
//! mappings. The CPU column is `utime + stime` of the whole process (the
//! server's threads included) per operation: unlike rates, it does not
//! depend on how much of the machine other processes take.

mod server;

use std::collections::VecDeque;
use std::process::Command;
use std::time::{Duration, Instant};
use trueconf_bot::{Client, Event};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One line of the table.
struct Row {
    name: String,
    client: String,
    raw: String,
    ratio: String,
    cpu: String,
    target: String,
}

impl Row {
    fn new(name: impl Into<String>, client: String, raw: String, ratio: String) -> Row {
        Row {
            name: name.into(),
            client,
            raw,
            ratio,
            cpu: String::new(),
            target: String::new(),
        }
    }

    fn cpu(mut self, cpu: String) -> Row {
        self.cpu = cpu;
        self
    }

    fn target(mut self, what: &str, met: bool) -> Row {
        self.target = format!("{what}: {}", if met { "met" } else { "**missed**" });
        self
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn pct(lat: &mut [Duration], p: f64) -> Duration {
    lat.sort();
    lat[((lat.len() as f64 - 1.0) * p) as usize]
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn per_s(rate: f64) -> String {
    format!("{rate:.0}/s")
}

/// CPU time of this process so far (all threads, the server's included),
/// in seconds: `utime + stime` of `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 of the file; `after` starts at field 3.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

/// CPU time of the calling thread so far, in nanoseconds (the first field
/// of `/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Runs `f` (which returns operations per second over `ops` operations)
/// and returns (rate, CPU µs per operation).
fn measured(ops: u64, f: impl FnOnce() -> f64) -> (f64, f64) {
    let cpu = cpu_seconds();
    let rate = f();
    (rate, (cpu_seconds() - cpu) * 1e6 / ops as f64)
}

/// Per-round (client, raw) measurements of one row.
#[derive(Default)]
struct Pairs {
    client: Vec<f64>,
    raw: Vec<f64>,
    client_cpu: Vec<f64>,
    raw_cpu: Vec<f64>,
}

impl Pairs {
    fn push(&mut self, client: f64, raw: f64) {
        self.client.push(client);
        self.raw.push(raw);
    }

    fn push_cpu(&mut self, client: (f64, f64), raw: (f64, f64)) {
        self.push(client.0, raw.0);
        self.client_cpu.push(client.1);
        self.raw_cpu.push(raw.1);
    }

    /// "CPU µs per op, client / raw" (whole process, server included).
    fn cpu(&self) -> String {
        if self.client_cpu.is_empty() {
            return String::new();
        }
        format!(
            "{:.1} / {:.1}",
            median(self.client_cpu.clone()),
            median(self.raw_cpu.clone())
        )
    }

    fn ratio(&self) -> f64 {
        median(
            self.client
                .iter()
                .zip(&self.raw)
                .map(|(c, r)| c / r)
                .collect(),
        )
    }

    fn client(&self) -> f64 {
        median(self.client.clone())
    }

    fn raw(&self) -> f64 {
        median(self.raw.clone())
    }
}

fn client(url: &str) -> Client {
    Client::builder(url).token("bench").connect().unwrap()
}

fn client_blocking(c: &Client, n: u64) -> (f64, Vec<Duration>) {
    let mut lat = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        c.send_message(server::CHAT_ID, server::TEXT).unwrap();
        lat.push(t.elapsed());
    }
    (n as f64 / start.elapsed().as_secs_f64(), lat)
}

fn client_threads(c: &Client, threads: u64, n: u64) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..n / threads {
                    c.send_message(server::CHAT_ID, server::TEXT).unwrap();
                }
            });
        }
    });
    (n / threads * threads) as f64 / start.elapsed().as_secs_f64()
}

fn client_pipelined(c: &Client, n: u64, window: usize) -> f64 {
    let start = Instant::now();
    let mut q = VecDeque::with_capacity(window);
    for _ in 0..n {
        if q.len() == window {
            let pending: trueconf_bot::Pending<_> = q.pop_front().unwrap();
            pending.wait().unwrap();
        }
        q.push_back(
            c.send_message_pending(server::CHAT_ID, server::TEXT)
                .unwrap(),
        );
    }
    for pending in q {
        pending.wait().unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn client_events(c: &Client, n: u64, window: u64) -> f64 {
    let events = c.events();
    let start = Instant::now();
    c.call(
        "benchEvents",
        serde_json::json!({"count": n, "window": window}),
    )
    .unwrap();
    let mut got = 0u64;
    loop {
        match events.recv().unwrap() {
            Event::NewMessage(m) => {
                std::hint::black_box(m);
                got += 1;
            }
            Event::Raw { method, .. } if method == "benchDone" => break,
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(got, n);
    n as f64 / start.elapsed().as_secs_f64()
}

fn client_connect(url: &str) -> Duration {
    let start = Instant::now();
    let c = client(url);
    let took = start.elapsed();
    c.close();
    took
}

fn main() {
    if std::env::var("BENCH_ROLE").as_deref() == Ok("idle") {
        idle_child();
        return;
    }
    let n = env_u64("BENCH_N", 20_000);
    let rounds = env_u64("BENCH_ROUNDS", 5).max(1);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let want = |key: &str| only.is_empty() || only.split(',').any(|k| k.trim() == key);
    let url = server::start();
    let c = client(&url);
    if let Ok(what) = std::env::var("BENCH_PROFILE") {
        // One client row alone, for `perf record`; also prints the CPU
        // time of the calling thread per operation, steadier than the rate.
        let cpu = thread_cpu_ns();
        let rate = match what.as_str() {
            "blocking" => client_blocking(&c, n).0,
            "raw-blocking" => server::blocking(&url, n).0,
            "raw-pending256" => server::pipelined(&url, n, 256),
            "threads4" => client_threads(&c, 4, n),
            "threads16" => client_threads(&c, 16, n),
            "pending16" => client_pipelined(&c, n, 16),
            "pending256" => client_pipelined(&c, n, 256),
            "events" => client_events(&c, n, 1024),
            "connect" => {
                let start = Instant::now();
                for _ in 0..n {
                    client_connect(&url);
                }
                n as f64 / start.elapsed().as_secs_f64()
            }
            other => panic!("unknown BENCH_PROFILE {other}"),
        };
        let per_op = (thread_cpu_ns() - cpu) / n.max(1);
        println!("{what}: {rate:.0}/s, calling thread {per_op} ns CPU per operation");
        return;
    }
    let mut rows = Vec::new();

    if want("blocking") {
        let mut pairs = Pairs::default();
        let (mut lat, mut raw_lat) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let raw = measured(n, || {
                let (rate, l) = server::blocking(&url, n);
                raw_lat.extend(l);
                rate
            });
            let one = measured(n, || {
                let (rate, l) = client_blocking(&c, n);
                lat.extend(l);
                rate
            });
            pairs.push_cpu(one, raw);
        }
        let ratio = pairs.ratio();
        rows.push(
            Row::new(
                "1. one caller, blocking calls",
                per_s(pairs.client()),
                per_s(pairs.raw()),
                format!("{ratio:.2}x raw blocking"),
            )
            .cpu(pairs.cpu())
            .target("≥ 0.8x", ratio >= 0.8),
        );
        rows.push(Row::new(
            "1. one caller, latency p50 / p99",
            format!("{} / {}", us(pct(&mut lat, 0.5)), us(pct(&mut lat, 0.99))),
            format!(
                "{} / {}",
                us(pct(&mut raw_lat, 0.5)),
                us(pct(&mut raw_lat, 0.99))
            ),
            String::new(),
        ));
    }

    if want("threads") {
        for threads in [4u64, 16] {
            let mut pairs = Pairs::default();
            for _ in 0..rounds {
                let raw = measured(n, || server::blocking(&url, n).0);
                let calls = n * threads.min(8) / 2;
                let rate = measured(calls, || client_threads(&c, threads, calls));
                pairs.push_cpu(rate, raw);
            }
            let ratio = pairs.ratio();
            let row = Row::new(
                format!("2. {threads} caller threads, one client"),
                per_s(pairs.client()),
                per_s(pairs.raw()),
                format!("{ratio:.2}x raw blocking"),
            )
            .cpu(pairs.cpu());
            rows.push(if threads == 16 {
                row.target("≥ 3x", ratio >= 3.0)
            } else {
                row
            });
        }
    }

    if want("pipelined") {
        for window in [16u64, 256] {
            let (mut pairs, mut plain) = (Pairs::default(), Pairs::default());
            for _ in 0..rounds {
                let raw = measured(n * 4, || server::pipelined(&url, n * 4, window));
                let rate = measured(n * 4, || client_pipelined(&c, n * 4, window as usize));
                let flushed = server::pipelined_plain(&url, n * 4, window);
                pairs.push_cpu(rate, raw);
                plain.push(rate.0, flushed);
            }
            let ratio = pairs.ratio();
            let row = Row::new(
                format!("3. Pending from one thread, window {window}"),
                per_s(pairs.client()),
                format!(
                    "{} corked (one write per batch); {} flushing each request",
                    per_s(pairs.raw()),
                    per_s(plain.raw())
                ),
                format!("{ratio:.2}x corked, {:.2}x flushing", plain.ratio()),
            )
            .cpu(pairs.cpu());
            rows.push(if window == 256 {
                row.target("≥ 0.5x", ratio >= 0.5)
            } else {
                row
            });
        }
    }

    if want("events") {
        let count = n * 5;
        let window = 1024;
        let mut pairs = Pairs::default();
        for _ in 0..rounds {
            let raw = measured(count, || server::events(&url, count, window));
            let rate = measured(count, || client_events(&c, count, window));
            pairs.push_cpu(rate, raw);
        }
        let rate = pairs.client();
        rows.push(
            Row::new(
                "4. event intake (decoded, acked, handed over)",
                per_s(rate),
                format!("{} (raw: read + ack, no JSON)", per_s(pairs.raw())),
                format!("{:.2}x raw", pairs.ratio()),
            )
            .cpu(pairs.cpu())
            .target("≥ 200000/s", rate >= 200_000.0),
        );
    }

    if want("connect") {
        let per_round = env_u64("BENCH_CONNECTS", 50);
        let (mut client_t, mut raw_t) = (Vec::new(), Vec::new());
        let mut pairs = Pairs::default();
        for _ in 0..rounds {
            let (mut cr, mut rr) = (Vec::new(), Vec::new());
            for _ in 0..per_round {
                rr.push(server::connect_auth(&url));
                cr.push(client_connect(&url));
            }
            let (cm, rm) = (pct(&mut cr, 0.5), pct(&mut rr, 0.5));
            // As a rate, so that the ratio reads like the others.
            pairs.push(1.0 / cm.as_secs_f64(), 1.0 / rm.as_secs_f64());
            client_t.extend(cr);
            raw_t.extend(rr);
        }
        rows.push(Row::new(
            "5. connect + authenticate, p50 / p99",
            format!(
                "{} / {}",
                us(pct(&mut client_t, 0.5)),
                us(pct(&mut client_t, 0.99))
            ),
            format!(
                "{} / {} (TCP + upgrade + auth frame)",
                us(pct(&mut raw_t, 0.5)),
                us(pct(&mut raw_t, 0.99))
            ),
            format!("{:.2}x raw speed", pairs.ratio()),
        ));
    }

    if want("files") {
        rows.push(Row::new(
            "6. upload + download 1 GiB",
            "`cargo bench --features emulator --bench files`".into(),
            String::new(),
            String::new(),
        ));
    }

    if want("memory") {
        let count = env_u64("BENCH_IDLE", 100);
        let out = Command::new(std::env::current_exe().unwrap())
            .env("BENCH_ROLE", "idle")
            .env("BENCH_URL", &url)
            .env("BENCH_IDLE", count.to_string())
            .stderr(std::process::Stdio::inherit())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let nums: Vec<f64> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(nums.len(), 4, "idle child said: {text} {:?}", out.stderr);
        let (rss, hwm, threads, raw_rss) = (nums[0], nums[1], nums[2], nums[3]);
        rows.push(
            Row::new(
                format!("7. idle client memory (RSS, {count} clients)"),
                format!(
                    "{:.0} KiB per client (peak {:.0} KiB), {:.0} thread(s) each",
                    rss, hwm, threads
                ),
                format!("{raw_rss:.0} KiB per raw socket"),
                String::new(),
            )
            .target("< 2 MiB", rss < 2048.0),
        );
    }

    c.close();
    println!("BENCH_N={n} BENCH_ROUNDS={rounds}; medians of the rounds\n");
    println!("| measurement | client | raw tungstenite, same run | ratio | CPU µs/op client / raw | target |");
    println!("|---|---:|---:|---:|---:|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.name, r.client, r.raw, r.ratio, r.cpu, r.target
        );
    }
}

/// `VmRSS` and `VmHWM` of this process, in KiB, and its thread count.
fn status() -> (f64, f64, f64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("VmHWM:"), field("Threads:"))
}

/// The child of row 7: idle clients over the process baseline, then raw
/// sockets for comparison. Prints four numbers: KiB RSS per client, KiB
/// peak RSS per client, threads per client, KiB RSS per raw socket.
fn idle_child() {
    let url = std::env::var("BENCH_URL").unwrap();
    let count = env_u64("BENCH_IDLE", 100);
    // One-time initialisation (TLS roots, loggers, ...) is not per client.
    client(&url).close();
    std::thread::sleep(Duration::from_millis(100));
    let (rss0, hwm0, threads0) = status();
    let clients: Vec<Client> = (0..count).map(|_| client(&url)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let (rss1, hwm1, threads1) = status();
    if std::env::var("BENCH_IDLE_DUMP").is_ok() {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
        let mut maps = Vec::new();
        let mut name = String::new();
        for line in smaps.lines() {
            if let Some(kb) = line.strip_prefix("Rss:") {
                let kb: u64 = kb.trim().trim_end_matches(" kB").parse().unwrap_or(0);
                maps.push((kb, name.clone()));
            } else if line.contains('-') && !line.starts_with(|c: char| c.is_ascii_uppercase()) {
                name = line.to_string();
            }
        }
        maps.sort();
        for (kb, name) in maps.iter().rev().take(12) {
            eprintln!("{kb:>8} kB {name}");
        }
        eprintln!("mappings: {}", maps.len());
    }
    let sockets: Vec<_> = (0..count).map(|_| server::raw_client(&url)).collect();
    std::thread::sleep(Duration::from_millis(100));
    let (rss2, _, _) = status();
    let k = count as f64;
    println!(
        "{} {} {} {}",
        (rss1 - rss0) / k,
        (hwm1 - hwm0) / k,
        (threads1 - threads0) / k,
        (rss2 - rss1) / k
    );
    drop(sockets);
    for c in &clients {
        c.close();
    }
}
