//! The socket's two directions over one upgraded connection.
//!
//! - [`Writer`] frames what the server sends itself (RFC 6455 §5.2; a server's frames are not
//!   masked) and writes everything queued with one vectored write: the headers and the shared,
//!   already serialized frames go to the kernel as they are, with no copy and no write buffer
//!   kept per socket. A lone frame is written at once. Its state lives in the writer, not in the
//!   write's future, so a write interrupted (the socket must close) resumes where it stopped.
//! - [`ReadSide`] is what tungstenite reads client frames from. tungstenite also writes on its own
//!   (a pong, the echo of a client's close frame): those bytes are kept in [`Control`] and the
//!   socket task hands them to the writer, in turn with everything else.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf};

use crate::hub::{Connection, Frame};

pub type Io = TokioIo<Upgraded>;

/// At most this many slices per write (two per frame); Linux takes up to 1024.
const MAX_SLICES: usize = 64;

const OPCODE_TEXT: u8 = 0x1;
const OPCODE_CLOSE: u8 = 0x8;
const OPCODE_PING: u8 = 0x9;

/// One frame to write: its header, its payload, and how much of both is written.
struct Piece {
    head: [u8; 10],
    head_len: usize,
    body: Body,
    written: usize,
}

enum Body {
    /// A serialized message, shared with every other recipient.
    Text(Frame),
    /// Bytes framed elsewhere (tungstenite's pong or close echo) or a control payload.
    Owned(Vec<u8>),
}

impl Body {
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Text(frame) => frame.as_str().as_bytes(),
            Body::Owned(bytes) => bytes,
        }
    }
}

impl Piece {
    /// A final frame of `opcode` carrying `body`.
    fn framed(opcode: u8, body: Body) -> Piece {
        let len = body.bytes().len();
        let mut head = [0u8; 10];
        head[0] = 0x80 | opcode;
        let head_len = match len {
            0..=125 => {
                head[1] = len as u8;
                2
            }
            126..=0xffff => {
                head[1] = 126;
                head[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                4
            }
            _ => {
                head[1] = 127;
                head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
                10
            }
        };
        Piece { head, head_len, body, written: 0 }
    }

    /// Bytes already framed: written as they are.
    fn raw(bytes: Vec<u8>) -> Piece {
        Piece { head: [0; 10], head_len: 0, body: Body::Owned(bytes), written: 0 }
    }

    fn len(&self) -> usize {
        self.head_len + self.body.bytes().len()
    }

    /// What is left to write, as up to two slices.
    fn remaining(&self) -> impl Iterator<Item = &[u8]> {
        let head = &self.head[self.written.min(self.head_len)..self.head_len];
        let body = &self.body.bytes()[self.written.saturating_sub(self.head_len)..];
        [head, body].into_iter().filter(|part| !part.is_empty())
    }
}

/// The sending direction: frames waiting to be written, and the connection's write half.
pub struct Writer<W> {
    out: W,
    pending: VecDeque<Piece>,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    pub fn new(out: W) -> Writer<W> {
        Writer { out, pending: VecDeque::new() }
    }

    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn push_texts(&mut self, frames: Vec<Frame>) {
        self.pending.extend(frames.into_iter().map(|frame| Piece::framed(OPCODE_TEXT, Body::Text(frame))));
    }

    pub fn push_ping(&mut self) {
        self.pending.push_back(Piece::framed(OPCODE_PING, Body::Owned(Vec::new())));
    }

    /// A close frame with `code` and `reason` (§5.5.1), after whatever is already pending.
    pub fn push_close(&mut self, code: u16, reason: &str) {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        self.pending.push_back(Piece::framed(OPCODE_CLOSE, Body::Owned(payload)));
    }

    /// Drops what has not started going out: a socket that must close sends only the rest of a
    /// frame it is half-way through (the stream stays whole), then its close frame.
    pub fn drop_unstarted(&mut self) {
        let started = self.pending.front().is_some_and(|piece| piece.written > 0);
        self.pending.truncate(usize::from(started));
    }

    /// Bytes tungstenite wrote (see [`Control`]), in the order it wrote them.
    pub fn push_control(&mut self, control: &Control) {
        let bytes = control.take();
        if !bytes.is_empty() {
            self.pending.push_back(Piece::raw(bytes));
        }
    }

    /// Writes everything pending, as few system calls as the kernel allows. Cancel-safe: bytes
    /// are marked written only once the kernel took them.
    pub async fn flush(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            let slices: Vec<IoSlice<'_>> =
                self.pending.iter().flat_map(Piece::remaining).take(MAX_SLICES).map(IoSlice::new).collect();
            let written = self.out.write_vectored(&slices).await?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.consume(written);
        }
        // Let go of the queue's memory: an idle socket holds none, however much it once sent.
        self.pending = VecDeque::new();
        Ok(())
    }

    fn consume(&mut self, mut written: usize) {
        while written > 0 {
            let Some(piece) = self.pending.front_mut() else { return };
            let left = piece.len() - piece.written;
            if written < left {
                piece.written += written;
                return;
            }
            written -= left;
            self.pending.pop_front();
        }
    }
}

/// Bytes tungstenite wrote on its own, waiting for the socket task to send them.
#[derive(Default)]
pub struct Control {
    bytes: Mutex<Vec<u8>>,
}

impl Control {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.bytes.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The receiving direction as tungstenite sees it: reads from the connection, writes into
/// [`Control`] and wakes the socket task to send them.
pub struct ReadSide {
    input: ReadHalf<Io>,
    control: Arc<Control>,
    connection: Arc<Connection>,
}

impl ReadSide {
    pub fn new(input: ReadHalf<Io>, control: Arc<Control>, connection: Arc<Connection>) -> ReadSide {
        ReadSide { input, control, connection }
    }
}

impl AsyncRead for ReadSide {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.input).poll_read(cx, buf)
    }
}

impl AsyncWrite for ReadSide {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.control.bytes.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(buf);
        self.connection.queue.nudge();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(piece: &Piece) -> Vec<u8> {
        piece.remaining().flatten().copied().collect()
    }

    #[test]
    fn headers_carry_the_payload_length_in_the_shortest_form() {
        for (len, head) in [(0usize, vec![0x81, 0]), (125, vec![0x81, 125]), (126, vec![0x81, 126, 0, 126])] {
            let piece = Piece::framed(OPCODE_TEXT, Body::Owned(vec![b'x'; len]));
            assert_eq!(&written(&piece)[..head.len()], head.as_slice(), "length {len}");
            assert_eq!(piece.len(), head.len() + len);
        }
        let piece = Piece::framed(OPCODE_TEXT, Body::Owned(vec![b'x'; 70_000]));
        assert_eq!(&written(&piece)[..10], &[0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
    }

    /// Reads WebSocket frames as a client does: (opcode, payload) of each.
    fn parse(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let (len, start) = match bytes[1] {
                126 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
                127 => (u64::from_be_bytes(bytes[2..10].try_into().expect("eight bytes")) as usize, 10),
                len => (len as usize, 2),
            };
            assert_eq!(bytes[0] & 0x80, 0x80, "final frame");
            frames.push((bytes[0] & 0x0f, bytes[start..start + len].to_vec()));
            bytes = &bytes[start + len..];
        }
        frames
    }

    #[tokio::test]
    async fn everything_pending_arrives_whole_and_in_order_through_short_writes() {
        use tokio::io::AsyncReadExt;
        // A pipe of 7 bytes: every write is cut short, mid-header and mid-payload.
        let (client, server) = tokio::io::duplex(7);
        let mut writer = Writer::new(server);
        let texts: Vec<String> = (0..40).map(|index| format!("{{\"n\":{index}}}{}", "x".repeat(index * 7))).collect();
        writer.push_texts(texts.iter().map(|text| Frame::from(text.as_str())).collect());
        writer.push_ping();
        writer.push_close(1000, "bye");
        let reading = tokio::spawn(async move {
            let mut client = client;
            let mut bytes = Vec::new();
            client.read_to_end(&mut bytes).await.map(|_| bytes)
        });
        writer.flush().await.expect("written");
        assert!(!writer.has_pending());
        drop(writer);
        let frames = parse(&reading.await.expect("reader").expect("read"));
        assert_eq!(frames.len(), 42);
        for (index, text) in texts.iter().enumerate() {
            assert_eq!(frames[index], (OPCODE_TEXT, text.as_bytes().to_vec()));
        }
        assert_eq!(frames[40], (OPCODE_PING, vec![]));
        assert_eq!(frames[41], (OPCODE_CLOSE, b"\x03\xe8bye".to_vec()));
    }

    #[test]
    fn closing_keeps_only_the_frame_half_written() {
        let (_client, server) = tokio::io::duplex(8);
        let mut writer = Writer::new(server);
        writer.push_texts(vec![Frame::from("one"), Frame::from("two")]);
        writer.drop_unstarted();
        assert!(!writer.has_pending(), "nothing started: nothing kept");
        writer.push_texts(vec![Frame::from("one"), Frame::from("two"), Frame::from("three")]);
        writer.consume(3);
        writer.drop_unstarted();
        assert_eq!(writer.pending.len(), 1, "the rest of the first frame still goes");
        assert_eq!(writer.pending[0].remaining().flatten().copied().collect::<Vec<u8>>(), b"ne");
    }

    #[test]
    fn a_partly_written_piece_resumes_mid_header_and_mid_body() {
        let mut piece = Piece::framed(OPCODE_CLOSE, Body::Owned(b"\x03\xe8bye".to_vec()));
        piece.written = 1;
        assert_eq!(written(&piece), b"\x05\x03\xe8bye");
        piece.written = 4;
        assert_eq!(written(&piece), b"bye");
    }
}
