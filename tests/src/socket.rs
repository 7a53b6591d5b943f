//! [`WsClient`]: a real WebSocket client of `/ws`, logged in with a [`TestClient`]'s cookie, with
//! typed sends and waits (`request`, `expect`) that time out instead of hanging.

use std::collections::VecDeque;
use std::time::Duration;

use baton_shared::protocol::{ClientMsg, PresenceStatus, ServerMsg};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::client::TestClient;

/// How long a wait for a message lasts before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_req: u64,
    /// Messages read while waiting for another one, in arrival order.
    pub pending: VecDeque<ServerMsg>,
    /// The presence messages that followed `hello`: who was online when this socket connected.
    pub greeting: Vec<ServerMsg>,
}

/// What ended a socket, as the client saw it.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Closed(Option<u16>),
    Dropped,
}

impl WsClient {
    /// Opens `/ws` with the client's cookie and the server's own Origin; waits for `hello`.
    pub async fn connect(client: &TestClient) -> anyhow::Result<Self> {
        Self::connect_from(client, Some(&client.base.clone())).await
    }

    /// Opens `/ws` with `origin` (or none); waits for `hello`.
    pub async fn connect_from(client: &TestClient, origin: Option<&str>) -> anyhow::Result<Self> {
        let stream = handshake(client, origin).await?;
        let mut socket = WsClient { stream, next_req: 1, pending: VecDeque::new(), greeting: Vec::new() };
        socket.expect(|message| matches!(message, ServerMsg::Hello { .. }).then_some(())).await?;
        // The greeting's presence messages all precede the answer to a first ping.
        socket.request(|req_id| ClientMsg::Ping { req_id }).await?;
        socket.greeting = socket.pending.drain(..).collect();
        Ok(socket)
    }

    /// Sends a request built around a fresh `req_id`; returns the `req_id`.
    pub async fn send(&mut self, build: impl FnOnce(u64) -> ClientMsg) -> anyhow::Result<u64> {
        let req_id = self.next_req;
        self.next_req += 1;
        let text = serde_json::to_string(&build(req_id))?;
        self.stream.send(Message::Text(text.into())).await?;
        Ok(req_id)
    }

    pub async fn send_raw(&mut self, message: Message) -> anyhow::Result<()> {
        self.stream.send(message).await?;
        Ok(())
    }

    /// Sends a request and waits for its answer (`ack` or `error`).
    pub async fn request(&mut self, build: impl FnOnce(u64) -> ClientMsg) -> anyhow::Result<ServerMsg> {
        let req_id = self.send(build).await?;
        self.answer(req_id).await
    }

    /// Chooses the presence `status` and waits for the server's `ack`.
    pub async fn set_presence(&mut self, status: PresenceStatus) -> anyhow::Result<()> {
        let answer = self.request(|req_id| ClientMsg::SetPresence { req_id, status }).await?;
        anyhow::ensure!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");
        Ok(())
    }

    /// Waits for the answer to `req_id`.
    pub async fn answer(&mut self, req_id: u64) -> anyhow::Result<ServerMsg> {
        self.expect(|message| match message {
            ServerMsg::Ack { req_id: id, .. } | ServerMsg::Error { req_id: Some(id), .. } if *id == req_id => {
                Some(message.clone())
            }
            _ => None,
        })
        .await
    }

    /// The first message (already read, or arriving within [`PATIENCE`]) that `pick` accepts;
    /// others stay pending.
    pub async fn expect<T>(&mut self, pick: impl Fn(&ServerMsg) -> Option<T>) -> anyhow::Result<T> {
        if let Some(index) = self.pending.iter().position(|message| pick(message).is_some()) {
            let message = self.pending.remove(index).ok_or_else(|| anyhow::anyhow!("vanished"))?;
            return pick(&message).ok_or_else(|| anyhow::anyhow!("changed its mind"));
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let message = tokio::time::timeout_at(deadline, self.read()).await.map_err(|_| {
                anyhow::anyhow!("nothing matching arrived within {PATIENCE:?}; pending: {:?}", self.pending)
            })??;
            if let Some(found) = pick(&message) {
                return Ok(found);
            }
            self.pending.push_back(message);
        }
    }

    /// The next message, in arrival order (pending ones first).
    pub async fn next(&mut self) -> anyhow::Result<ServerMsg> {
        if let Some(message) = self.pending.pop_front() {
            return Ok(message);
        }
        tokio::time::timeout(PATIENCE, self.read()).await.map_err(|_| anyhow::anyhow!("no message in {PATIENCE:?}"))?
    }

    async fn read(&mut self) -> anyhow::Result<ServerMsg> {
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str())
                        .map_err(|error| anyhow::anyhow!("unparsable server message {text}: {error}"));
                }
                Some(Ok(Message::Close(frame))) => anyhow::bail!("socket closed: {frame:?}"),
                Some(Ok(_)) => continue,
                Some(Err(error)) => anyhow::bail!("socket error: {error}"),
                None => anyhow::bail!("socket ended"),
            }
        }
    }

    /// Reads until the socket ends; returns how (the close code, if any).
    pub async fn until_closed(&mut self) -> anyhow::Result<Ended> {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let next = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .map_err(|_| anyhow::anyhow!("the socket stayed open"))?;
            match next {
                Some(Ok(Message::Close(frame))) => {
                    return Ok(Ended::Closed(frame.map(|frame: CloseFrame| u16::from(frame.code))));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Ok(Ended::Dropped),
            }
        }
    }

    /// Closes politely.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.stream.close(None).await?;
        Ok(())
    }

    /// Drops the TCP connection without a close frame, as a crashed browser would.
    pub fn cut(self) {
        drop(self.stream);
    }
}

/// The raw handshake; `Err` carries the HTTP status when the server refuses.
pub async fn handshake(
    client: &TestClient,
    origin: Option<&str>,
) -> Result<WebSocketStream<MaybeTlsStream<TcpStream>>, HandshakeError> {
    let url = format!("{}/ws", client.base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().map_err(HandshakeError::Other)?;
    if let Some(cookie) = &client.cookie {
        request.headers_mut().insert("cookie", cookie.parse().map_err(|_| HandshakeError::Status(0))?);
    }
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", origin.parse().map_err(|_| HandshakeError::Status(0))?);
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((stream, _response)) => Ok(stream),
        Err(tungstenite::Error::Http(response)) => Err(HandshakeError::Status(response.status().as_u16())),
        Err(error) => Err(HandshakeError::Other(error)),
    }
}

#[derive(Debug)]
pub enum HandshakeError {
    /// The server answered the handshake with this HTTP status.
    Status(u16),
    Other(tungstenite::Error),
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeError::Status(status) => write!(f, "handshake refused with HTTP {status}"),
            HandshakeError::Other(error) => write!(f, "handshake failed: {error}"),
        }
    }
}

impl std::error::Error for HandshakeError {}
