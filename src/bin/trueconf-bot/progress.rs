//! A progress bar on stderr, drawn only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the bar is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);
const WIDTH: u64 = 30;

/// A transfer's progress bar. Does nothing when stderr is not a terminal,
/// so scripts and logs never see it.
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: u64,
    drawn_at: Option<Instant>,
    enabled: bool,
}

impl Progress {
    /// A bar labelled with e.g. the file name.
    pub fn new(label: &str) -> Progress {
        Progress {
            label: label.to_owned(),
            total: 0,
            drawn_at: None,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// Reports `done` of `total` bytes transferred (redrawn at most every
    /// 100 ms, and at the end).
    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled {
            return;
        }
        self.total = total;
        let now = Instant::now();
        if self.drawn_at.is_some_and(|at| now - at < REDRAW) && done < self.total {
            return;
        }
        self.drawn_at = Some(now);
        let _ = write!(std::io::stderr().lock(), "\r{}", self.line(done));
    }

    /// Ends the bar's line.
    pub fn finish(&mut self) {
        if self.enabled && self.drawn_at.is_some() {
            let _ = writeln!(std::io::stderr().lock());
        }
        self.enabled = false;
    }

    fn line(&self, done: u64) -> String {
        let total = self.total.max(1);
        let done_c = done.min(total);
        let filled = (done_c * WIDTH / total) as usize;
        format!(
            "{} [{}{}] {:>3}% {} / {}",
            self.label,
            "=".repeat(filled),
            " ".repeat(WIDTH as usize - filled),
            done_c * 100 / total,
            human(done),
            human(self.total)
        )
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Bytes for people: `512 B`, `1.5 KiB`, `27.0 MiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_reads_well() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(27 << 20), "27.0 MiB");
        let bar = Progress {
            label: "a.txt".into(),
            total: 200,
            drawn_at: None,
            enabled: false,
        };
        assert_eq!(
            bar.line(100),
            format!(
                "a.txt [{}{}]  50% 100 B / 200 B",
                "=".repeat(15),
                " ".repeat(15)
            )
        );
    }
}
