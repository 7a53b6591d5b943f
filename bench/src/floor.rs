//! `baton-floor`: what this machine's loopback TCP allows for the fan-out `baton-load` measures,
//! with no Baton in the way — no WebSocket framing, no JSON, no hub. It starts itself a second
//! time as the sending process, connects `--sockets` plain TCP sockets to it, and triggers
//! `--fanouts` fan-outs: each writes one `--bytes`-byte message carrying its send time to every
//! socket, from one task per socket woken through a `Notify` (the shape of Baton's socket tasks).
//! The receiving side reads each socket in its own task, as `baton-load` does, and prints the
//! delay percentiles. Baton's typing fan-out cannot beat these figures on the same machine.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

#[derive(Parser)]
#[command(about = "The machine's own floor for a loopback TCP fan-out, to read baton-load's figures against")]
struct Args {
    /// Receiving sockets (baton-load's supervisors).
    #[arg(long, default_value_t = 200)]
    sockets: usize,
    /// Fan-outs to send.
    #[arg(long, default_value_t = 660)]
    fanouts: usize,
    /// Milliseconds between fan-outs, fractions allowed (baton-load at 800 keystrokes/s: 1.25).
    #[arg(long, default_value_t = 15.0, value_parser = positive_ms)]
    interval_ms: f64,
    /// Bytes per message (a draft frame is about 150; at least 20, the send time's digits).
    #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u16).range(20..))]
    bytes: u16,
    /// Also print the figures as one JSON line (for `baton-load`), with both processes' CPU time.
    #[arg(long)]
    json: bool,
    /// Internal: run as the sending process.
    #[arg(long, hide = true)]
    sender: bool,
}

fn positive_ms(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(ms) if ms > 0.0 && ms.is_finite() => Ok(ms),
        _ => Err(format!("{text} is not a positive number of milliseconds")),
    }
}

fn now_ns() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_nanos()).unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.sender { send(&args).await } else { receive(&args).await }
}

/// The sending process: accepts a trigger socket and `sockets` receivers, then writes one
/// message to every receiver for each byte read from the trigger.
async fn send(args: &Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?.port());
    let (mut trigger, _) = listener.accept().await?;
    trigger.set_nodelay(true)?;
    // Each socket's queue (a task that falls behind writes every message it missed) and its wake-up.
    type Slot = Arc<(Mutex<Vec<Arc<Vec<u8>>>>, Notify)>;
    let mut slots: Vec<Slot> = Vec::new();
    for _ in 0..args.sockets {
        let (mut socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let slot: Slot = Arc::new((Mutex::new(Vec::new()), Notify::new()));
        slots.push(slot.clone());
        tokio::spawn(async move {
            loop {
                slot.1.notified().await;
                let queued = std::mem::take(&mut *slot.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                for message in queued {
                    if socket.write_all(&message).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
    println!("ready");
    let mut byte = [0u8; 1];
    while trigger.read(&mut byte).await? == 1 {
        let message = Arc::new(format!("{:0>width$}", now_ns(), width = usize::from(args.bytes)).into_bytes());
        for slot in &slots {
            slot.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(message.clone());
            slot.1.notify_one();
        }
    }
    Ok(())
}

/// The receiving process: starts the sender, triggers the fan-outs and prints the delays.
async fn receive(args: &Args) -> anyhow::Result<()> {
    let mut sender = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--sender", "--sockets", &args.sockets.to_string(), "--bytes", &args.bytes.to_string()])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = sender.stdout.take().context("the sender's stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let port = lines.next_line().await?.context("the sender did not start")?;
    let address = format!("127.0.0.1:{port}");
    let mut trigger = TcpStream::connect(&address).await?;
    trigger.set_nodelay(true)?;
    let samples = Arc::new(Mutex::new(Vec::<u64>::new()));
    let mut readers = Vec::new();
    for _ in 0..args.sockets {
        let mut socket = TcpStream::connect(&address).await?;
        let (samples, bytes) = (samples.clone(), usize::from(args.bytes));
        readers.push(tokio::spawn(async move {
            let mut message = vec![0u8; bytes];
            while socket.read_exact(&mut message).await.is_ok() {
                let sent = std::str::from_utf8(&message).ok().and_then(|text| text.parse::<u128>().ok());
                if let Some(sent) = sent {
                    let delay = u64::try_from(now_ns().saturating_sub(sent)).unwrap_or(u64::MAX);
                    samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(delay);
                }
            }
        }));
    }
    anyhow::ensure!(lines.next_line().await?.as_deref() == Some("ready"), "the sender did not accept the sockets");
    let cpu_before = (sender_ticks(&sender), baton_bench::cpu_ticks("self")?);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(args.interval_ms / 1000.0));
    for _ in 0..args.fanouts {
        tick.tick().await;
        trigger.write_all(b"x").await?;
    }
    // The last fan-out's deliveries are in flight for a few milliseconds, or much longer when the
    // fan-outs came faster than the machine delivers them: wait until none arrives for 500 ms
    // (at most a minute).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut seen = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len();
        if now == seen || std::time::Instant::now() >= deadline {
            break;
        }
        seen = now;
    }
    let cpu = (
        sender_ticks(&sender).saturating_sub(cpu_before.0),
        baton_bench::cpu_ticks("self")?.saturating_sub(cpu_before.1),
    );
    let mut delays = std::mem::take(&mut *samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    delays.sort_unstable();
    let percentile = |p: f64| baton_bench::percentile_ms(&delays, p);
    println!(
        "loopback fan-out floor: {} fan-outs to {} sockets, {} deliveries; latency p50 {:.3} ms, p99 {:.3} ms, \
         p99.9 {:.3} ms, max {:.3} ms",
        args.fanouts,
        args.sockets,
        delays.len(),
        percentile(0.50),
        percentile(0.99),
        percentile(0.999),
        percentile(1.0)
    );
    if args.json {
        let figures = serde_json::json!({
            "deliveries": delays.len(),
            "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99),
            "p999_ms": percentile(0.999),
            "max_ms": percentile(1.0),
            // Clock ticks are 10 ms.
            "sender_cpu_ms": cpu.0 * 10,
            "receiver_cpu_ms": cpu.1 * 10,
        });
        println!("{figures}");
    }
    for reader in readers {
        reader.abort();
    }
    Ok(())
}

/// The sending process's CPU time so far, in clock ticks (0 if it cannot be read).
fn sender_ticks(sender: &tokio::process::Child) -> u64 {
    sender.id().and_then(|pid| baton_bench::cpu_ticks(&pid.to_string()).ok()).unwrap_or(0)
}
