//! Baton's log during a run: written to a file (`baton-server.log` in the data directory) rather
//! than over the figures, and read back after each step, its new warnings and errors counted by
//! message, so what the server complained of (slow consumers closed, a database pool waited on)
//! is printed beside the step that caused it.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The server's log file, and how far it has been read.
pub struct ServerLog {
    path: PathBuf,
    read: u64,
}

impl ServerLog {
    /// Creates (or empties) the log file in `data`; returns it and the handle to give the server.
    pub fn create(data: &Path) -> anyhow::Result<(ServerLog, std::process::Stdio)> {
        let path = data.join("baton-server.log");
        let file = std::fs::File::create(&path)?;
        Ok((ServerLog { path, read: 0 }, std::process::Stdio::from(file)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The warnings and errors logged since the last call, counted by message ("" when none).
    pub fn news(&mut self) -> String {
        let Ok(mut file) = std::fs::File::open(&self.path) else { return String::new() };
        let mut text = String::new();
        if file.seek(SeekFrom::Start(self.read)).is_err() || file.read_to_string(&mut text).is_err() {
            return String::new();
        }
        // Only whole lines: the server may be writing the last one.
        let whole = text.rfind('\n').map_or(0, |end| end + 1);
        self.read += whole as u64;
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for line in text[..whole].lines() {
            if let Some(message) = message_of(line) {
                *counts.entry(message).or_default() += 1;
            }
        }
        let mut counted: Vec<(String, usize)> = counts.into_iter().collect();
        counted.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        counted.iter().map(|(message, count)| format!("{count} × {message}")).collect::<Vec<_>>().join("; ")
    }
}

/// A warning's or an error's level, target and message, without its timestamp and its fields
/// (`key=value`), so that repeats count together; `None` for other lines, and for the notice that
/// the web app is not built (the benchmarks need none).
fn message_of(line: &str) -> Option<String> {
    let (_, rest) = line.split_once(' ')?;
    let rest = rest.trim_start();
    if !(rest.starts_with("WARN") || rest.starts_with("ERROR")) || rest.contains("the web app is not built") {
        return None;
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    let kept = words.iter().rposition(|word| !word.contains('=')).map_or(0, |last| last + 1);
    Some(words[..kept].join(" "))
}

#[cfg(test)]
mod tests {
    use super::message_of;

    #[test]
    fn messages_are_counted_without_their_fields() {
        let line = "2026-12-07T17:54:41.001544Z  WARN baton_server::hub::fanout: slow consumer: closing its socket \
                    conn=147 user=2013";
        assert_eq!(
            message_of(line).as_deref(),
            Some("WARN baton_server::hub::fanout: slow consumer: closing its socket")
        );
        assert_eq!(message_of("2026-12-07T17:54:41Z  INFO baton: listening"), None);
    }
}
