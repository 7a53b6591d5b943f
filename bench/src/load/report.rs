//! What `baton-load` prints: each step's figures as it ends ([`print_claims`], [`print_rate`]),
//! and at the end the summary, two markdown tables with every figure beside its baseline (the
//! peer, the machine's floor, the lone claim) and the ratio the issue sets a goal for.

use std::fmt::Write as _;

use super::floor::FloorFigures;
use super::phase::PhaseFigures;
use super::typing::{ClaimFigures, RateFigures};

/// Milliseconds, with as many decimals as make sense; "–" when missing.
pub fn fmt_ms(ms: f64) -> String {
    if !ms.is_finite() {
        "–".to_owned()
    } else if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// `a / b` with two decimals, or "–" when either is missing.
pub fn fmt_ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 { format!("{:.2}", a / b) } else { "–".to_owned() }
}

/// A count with thousands separators.
pub fn fmt_count(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A ratio against its goal (at most `goal`): "≤ 3 (met)" or "≤ 3 (missed)".
fn goal(ratio: f64, goal: f64) -> String {
    match ratio.is_finite() {
        true if ratio <= goal => format!("≤ {goal} (met)"),
        true => format!("≤ {goal} (missed)"),
        false => format!("≤ {goal}"),
    }
}

fn ratio_of(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

pub fn print_claims(name: &str, what: &str, figures: &ClaimFigures) {
    let latency = figures.latency;
    println!(
        "{name}: {what}: {} acked; ack latency p50 {}, p99 {}, max {}; {} acked without taking the claim, {} refused{}",
        latency.count,
        fmt_ms(latency.p50),
        fmt_ms(latency.p99),
        fmt_ms(latency.max),
        figures.unclaimed,
        figures.refused.len(),
        match figures.refused.first() {
            Some(code) => format!(" (first: {code})"),
            None => String::new(),
        }
    );
}

pub fn print_rate(name: &str, figures: &RateFigures, typists: usize) {
    let latency = figures.latency;
    let wall = figures.wall.as_secs_f64().max(1e-9);
    let (server, generator) = figures.cpu_per_thousand();
    println!(
        "{name}: {}/s ({typists} typists, a keystroke every {:.0} ms each): {} keystrokes, {} deliveries \
         ({:.1} per keystroke); draft latency p50 {}, p99 {}, p99.9 {}, max {}",
        figures.rate,
        typists as f64 / figures.rate * 1000.0,
        fmt_count(figures.keystrokes),
        fmt_count(latency.count as u64),
        figures.fan_out(),
        fmt_ms(latency.p50),
        fmt_ms(latency.p99),
        fmt_ms(latency.p999),
        fmt_ms(latency.max),
    );
    println!(
        "{name}: {}/s CPU over {:.1} s: server {:.0}% of a core, {server:.1} ms per 1,000 deliveries; \
         generator {:.0}%, {generator:.1} ms per 1,000; the whole machine busy {:.2} cores",
        figures.rate,
        wall,
        figures.server_cpu_ms / wall / 10.0,
        figures.generator_cpu_ms / wall / 10.0,
        figures.machine_cores,
    );
    if figures.cut {
        println!(
            "{name}: {}/s: drafts were still arriving a minute after the last keystroke: counted until then",
            figures.rate
        );
    }
    let timeline: Vec<String> = figures.timeline.iter().map(|ms| format!("{ms:.1}")).collect();
    println!("{name}: {}/s max latency in each second (ms): {}", figures.rate, timeline.join(" "));
}

/// The summary: connect, memory and claims (Baton beside the peer), then each rate (Baton beside
/// the floor and the peer).
pub fn summary(
    baton: &PhaseFigures,
    peer: Option<&PhaseFigures>,
    floors: &[Option<FloorFigures>],
    concurrency: usize,
) -> String {
    let mut out = String::new();
    let peer_or = |value: &dyn Fn(&PhaseFigures) -> String| peer.map_or_else(|| "–".to_owned(), value);
    let peer_ratio =
        |value: &dyn Fn(&PhaseFigures) -> f64| peer.map_or(f64::NAN, |peer| ratio_of(value(baton), value(peer)));
    let ratio_text = |ratio: f64| if ratio.is_finite() { format!("{ratio:.2}") } else { "–".to_owned() };

    let _ = writeln!(out, "| Connect, memory, claims | Baton | Peer (Node.js ws) | Baton / peer | Goal |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    let connect = |figures: &PhaseFigures| figures.connect.elapsed.as_secs_f64();
    let ratio = peer_ratio(&connect);
    let _ = writeln!(
        out,
        "| Connect {} sockets, {} at a time | {:.2} s | {} | {} | {} |",
        fmt_count(baton.connect.sockets as u64),
        concurrency,
        connect(baton),
        peer_or(&|peer| format!("{:.2} s", connect(peer))),
        ratio_text(ratio),
        goal(ratio, 1.5),
    );
    if let Some(half) = baton.connect.half {
        let at_half = |figures: &PhaseFigures| figures.connect.half.map_or(f64::NAN, |half| half.elapsed.as_secs_f64());
        let _ = writeln!(
            out,
            "| … time at socket {} (half) | {:.2} s | {} | {} | |",
            fmt_count(half.sockets as u64),
            at_half(baton),
            peer_or(&|peer| format!("{:.2} s", at_half(peer))),
            ratio_text(peer_ratio(&at_half)),
        );
    }
    let presence = |figures: &PhaseFigures| figures.connect.presence as f64 / figures.connect.sockets.max(1) as f64;
    let _ = writeln!(
        out,
        "| Presence frames per socket (all sockets: total) | {:.1} ({}) | {} | {} | |",
        presence(baton),
        fmt_count(baton.connect.presence),
        peer_or(&|peer| format!("{:.1} ({})", presence(peer), fmt_count(peer.connect.presence))),
        ratio_text(peer_ratio(&presence)),
    );
    let half_presence = |figures: &PhaseFigures| {
        figures.connect.half.map_or(f64::NAN, |half| half.presence as f64 / half.sockets.max(1) as f64)
    };
    let _ = writeln!(
        out,
        "| … per socket at half the sockets | {:.1} | {} | {} | |",
        half_presence(baton),
        peer_or(&|peer| format!("{:.1}", half_presence(peer))),
        ratio_text(peer_ratio(&half_presence)),
    );
    let marginal = |figures: &PhaseFigures| figures.memory.marginal();
    let _ = writeln!(
        out,
        "| Server RSS per additional idle socket | {:.1} KiB | {} | {} | |",
        marginal(baton),
        peer_or(&|peer| format!("{:.1} KiB", marginal(peer))),
        ratio_text(peer_ratio(&marginal)),
    );
    if let (Some(lone), Some(burst)) = (&baton.lone, &baton.burst) {
        let _ = writeln!(
            out,
            "| Lone claim ack p50 / p99 ({}) | {} / {} | – | – | |",
            lone.latency.count,
            fmt_ms(lone.latency.p50),
            fmt_ms(lone.latency.p99),
        );
        let _ = writeln!(
            out,
            "| Claim burst ack p50 / p99 / max ({}) | {} / {} / {} | – | – | |",
            burst.latency.count,
            fmt_ms(burst.latency.p50),
            fmt_ms(burst.latency.p99),
            fmt_ms(burst.latency.max),
        );
        let ratio = ratio_of(burst.latency.p99, lone.latency.p99);
        let _ = writeln!(out, "| Burst p99 / lone p99 | {} | | | {} |", ratio_text(ratio), goal(ratio, 5.0));
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "| Rate | Figure | Baton | Floor | Baton / floor | Peer | Baton / peer | Goal |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for (index, rate) in baton.rates.iter().enumerate() {
        let floor = floors.get(index).copied().flatten();
        let peer_rate = peer.and_then(|peer| peer.rates.get(index));
        let label = format!("{}/s", rate.rate);
        let mut row = |figure: &str,
                       of_rate: &dyn Fn(&RateFigures) -> f64,
                       of_floor: &dyn Fn(&FloorFigures) -> f64,
                       show: &dyn Fn(f64) -> String,
                       goal_text: String| {
            let value = of_rate(rate);
            let floor_value = floor.as_ref().map_or(f64::NAN, of_floor);
            let peer_value = peer_rate.map_or(f64::NAN, of_rate);
            let _ = writeln!(
                out,
                "| {label} | {figure} | {} | {} | {} | {} | {} | {goal_text} |",
                show(value),
                if floor_value.is_finite() { show(floor_value) } else { "–".to_owned() },
                fmt_ratio(value, floor_value),
                if peer_value.is_finite() { show(peer_value) } else { "–".to_owned() },
                fmt_ratio(value, peer_value),
            );
        };
        let count = |count: f64| fmt_count(count as u64);
        let cpu = |ms: f64| format!("{ms:.1} ms");
        let is = |at: f64| (rate.rate - at).abs() < 0.5;
        row(
            "deliveries",
            &|rate| rate.latency.count as f64,
            &|floor| floor.latency.count as f64,
            &count,
            String::new(),
        );
        row("p50", &|rate| rate.latency.p50, &|floor| floor.latency.p50, &fmt_ms, String::new());
        let p99_goal = if is(800.0) {
            format!(
                "floor: {}",
                goal(ratio_of(rate.latency.p99, floor.map_or(f64::NAN, |floor| floor.latency.p99)), 3.0)
            )
        } else {
            String::new()
        };
        row("p99", &|rate| rate.latency.p99, &|floor| floor.latency.p99, &fmt_ms, p99_goal);
        let p999_goal = if is(200.0) {
            format!(
                "peer: {}",
                goal(ratio_of(rate.latency.p999, peer_rate.map_or(f64::NAN, |peer| peer.latency.p999)), 1.0)
            )
        } else {
            String::new()
        };
        row("p99.9", &|rate| rate.latency.p999, &|floor| floor.latency.p999, &fmt_ms, p999_goal);
        row("max", &|rate| rate.latency.max, &|floor| floor.latency.max, &fmt_ms, String::new());
        let server_cpu = |rate: &RateFigures| rate.cpu_per_thousand().0;
        let cpu_goal = if is(800.0) {
            format!("peer: {}", goal(ratio_of(server_cpu(rate), peer_rate.map_or(f64::NAN, server_cpu)), 0.5))
        } else {
            String::new()
        };
        row("server CPU per 1,000 deliveries", &server_cpu, &|floor| floor.cpu_per_thousand().0, &cpu, cpu_goal);
        row(
            "generator CPU per 1,000 deliveries",
            &|rate| rate.cpu_per_thousand().1,
            &|floor| floor.cpu_per_thousand().1,
            &cpu,
            String::new(),
        );
    }
    out
}
