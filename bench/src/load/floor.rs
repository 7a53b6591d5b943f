//! The machine's own floor at each rate: `baton-floor` (beside this binary) run with as many
//! receiving sockets as there are supervisors, one fan-out per keystroke at the same interval
//! and messages as long as Baton's draft frames, its figures read from its `--json` line.

use std::time::Duration;

use anyhow::Context;

use super::typing::Percentiles;

/// What `baton-floor` measured at one rate.
#[derive(Clone, Copy, Debug, Default)]
pub struct FloorFigures {
    pub latency: Percentiles,
    /// CPU time of its sending process (the floor's "server") and its receiving one, in ms.
    pub sender_cpu_ms: f64,
    pub receiver_cpu_ms: f64,
}

impl FloorFigures {
    /// CPU time per 1,000 deliveries, in ms: the sender's, the receiver's.
    pub fn cpu_per_thousand(&self) -> (f64, f64) {
        let deliveries = self.latency.count.max(1) as f64 / 1000.0;
        (self.sender_cpu_ms / deliveries, self.receiver_cpu_ms / deliveries)
    }
}

#[derive(serde::Deserialize)]
struct Printed {
    deliveries: usize,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
    sender_cpu_ms: f64,
    receiver_cpu_ms: f64,
}

/// Runs `baton-floor`: `sockets` receivers, `rate` fan-outs a second for `seconds`, messages of
/// `bytes` bytes.
pub async fn run(sockets: usize, rate: f64, seconds: u64, bytes: usize) -> anyhow::Result<FloorFigures> {
    let floor = std::env::current_exe()?.with_file_name("baton-floor");
    anyhow::ensure!(
        floor.is_file(),
        "no baton-floor beside this binary (build it: cargo build --release -p baton-bench)"
    );
    let fanouts = (rate * seconds as f64).round().max(1.0);
    let interval_ms = 1000.0 / rate.max(0.001);
    let command = tokio::process::Command::new(&floor)
        .args(["--sockets", &sockets.to_string(), "--fanouts", &format!("{fanouts}")])
        .args(["--interval-ms", &format!("{interval_ms:.4}"), "--bytes", &bytes.clamp(20, 65_535).to_string()])
        .arg("--json")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(seconds * 10 + 120), command)
        .await
        .context("baton-floor did not finish")??;
    let text = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "baton-floor failed: {text}");
    let line = text.lines().rev().find(|line| line.starts_with('{')).context("baton-floor printed no figures")?;
    let printed: Printed = serde_json::from_str(line).context("reading baton-floor's figures")?;
    Ok(FloorFigures {
        latency: Percentiles {
            count: printed.deliveries,
            p50: printed.p50_ms,
            p99: printed.p99_ms,
            p999: printed.p999_ms,
            max: printed.max_ms,
        },
        sender_cpu_ms: printed.sender_cpu_ms,
        receiver_cpu_ms: printed.receiver_cpu_ms,
    })
}
