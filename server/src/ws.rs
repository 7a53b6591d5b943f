//! `GET /ws`: the WebSocket. The upgrade checks the Origin against the allowlist (a foreign page
//! cannot ride the user's cookie: 403) and the session cookie (401). Each socket is then one task:
//! it drains the socket's queue into the socket (everything queued in one vectored write, see
//! [`wire`]), reads requests and answers them, pings when idle, and closes with a code that says
//! why ([`baton_shared::protocol`]'s `CLOSE_*`).

mod handshake;
mod wire;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baton_shared::ErrorCode;
use baton_shared::protocol::{
    CLOSE_IDLE, CLOSE_INVALID_DATA, CLOSE_PROTOCOL_ERROR, CLOSE_SESSION_ENDED, CLOSE_SLOW_CONSUMER, CLOSE_TOO_BIG,
    ClientMsg, ServerMsg,
};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use tokio::io::WriteHalf;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tungstenite::Message;
use tungstenite::protocol::{Role, WebSocketConfig};

use self::handshake::Handshake;
use self::wire::{Control, Io, ReadSide, Writer};
use crate::conversations::Actor;
use crate::error::AppError;
use crate::hub::{Closing, Connection, frame};
use crate::realtime;
use crate::sessions::CurrentSession;
use crate::state::AppState;

/// Largest message a client may send (a reply is at most 4096 characters).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The socket's read buffer: client frames are small, and a larger one grows the buffer only for
/// the socket that sent it. Every idle socket holds this much.
const READ_BUFFER_BYTES: usize = 512;

/// The reading side of a socket: tungstenite over [`ReadSide`].
type Reader = WebSocketStream<ReadSide>;
type SocketWriter = Writer<WriteHalf<Io>>;

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Result<CurrentSession, AppError>,
    handshake: Result<Handshake, AppError>,
) -> Response {
    // Browsers always send Origin on a WebSocket handshake; a foreign one means another site's page
    // is trying to use this user's cookie.
    if let Some(origin) = headers.get(header::ORIGIN)
        && !origin.to_str().is_ok_and(|origin| state.allows_origin(origin))
    {
        tracing::warn!(origin = ?origin, "WebSocket refused: foreign Origin");
        return AppError::new(ErrorCode::Forbidden, "This page's origin may not open Baton's socket.").into_response();
    }
    let CurrentSession { user, session } = match session {
        Ok(session) => session,
        Err(error) => return error.into_response(),
    };
    let handshake = match handshake {
        Ok(handshake) => handshake,
        Err(refused) => return refused.into_response(),
    };
    let (response, on_upgrade) = handshake.accept();
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(error) => {
                tracing::debug!(%error, "WebSocket upgrade failed");
                return;
            }
        };
        // Registered and greeted here, before the socket's task: the user's record (its
        // strings) is let go before the socket idles, and the task keeps only what it uses.
        let connection = state.hub.connect(&user, session);
        tracing::debug!(conn = connection.id, user = %user.id, "socket opened");
        let hello = ServerMsg::Hello { me: state.me(&user), server_version: env!("CARGO_PKG_VERSION").into() };
        // Who is around: one frame, serialized once for every socket that connects.
        let greeting = frame(&hello).into_iter().chain(state.hub.online_frame()).collect();
        connection.queue.push_all(greeting);
        drop(user);
        let (input, output) = tokio::io::split(TokioIo::new(upgraded));
        let control = Arc::new(Control::default());
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_BYTES)
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let reader = WebSocketStream::from_raw_socket(
            ReadSide::new(input, control.clone(), connection.clone()),
            Role::Server,
            Some(config),
        )
        .await;
        // Boxed: an async fn keeps its arguments in its own state even after moving them on,
        // so a large one passed down would be held twice by every idle socket's task.
        let socket = Box::new(Socket { reader, writer: Writer::new(output), control });
        serve(socket, state, connection).await;
    });
    response
}

/// One open socket's two directions.
struct Socket {
    reader: Reader,
    writer: SocketWriter,
    /// What tungstenite wrote on its own (pongs, the echo of a close frame), for `writer`.
    control: Arc<Control>,
}

async fn serve(socket: Box<Socket>, state: AppState, connection: Arc<Connection>) {
    crate::routing::presence_changed(&state, connection.user.id).await;
    let reason = run(socket, &state, &connection).await;
    state.hub.disconnect(&connection);
    crate::routing::presence_changed(&state, connection.user.id).await;
    tracing::debug!(conn = connection.id, user = %connection.user.id, reason, "socket closed");
}

/// Runs the socket until it ends; returns why.
async fn run(mut socket: Box<Socket>, state: &AppState, connection: &Arc<Connection>) -> &'static str {
    let mut ping = tokio::time::interval(state.config.ws_ping_interval);
    ping.tick().await;
    let mut last_heard = Instant::now();
    // Who every request of this socket acts as, made once — not per keystroke — and again after
    // an admin changed the teams (the visibility rule reads them).
    let mut actor = realtime::actor_of(state, connection);
    let mut memberships = state.hub.memberships_version();
    loop {
        socket.writer.push_control(&socket.control);
        let (frames, closing) = connection.queue.drain();
        // A socket that must close gets no more frames (whatever a slow one was still owed it
        // reads again when it resumes), only its close frame after what is half-written.
        if let Some(closing) = closing {
            let (code, reason, why) = match closing {
                Closing::Slow => (CLOSE_SLOW_CONSUMER, "slow consumer: reconnect and resume", "slow consumer"),
                Closing::SessionEnded => (CLOSE_SESSION_ENDED, "session ended", "session ended"),
            };
            socket.writer.drop_unstarted();
            Box::pin(close(&mut socket.writer, code, reason)).await;
            return why;
        }
        if !frames.is_empty() || socket.writer.has_pending() {
            socket.writer.push_texts(frames);
            // A peer that stops reading blocks this write; closing must not wait for it. What is
            // not written yet stays in the writer. (Boxed like every rare or large future here:
            // the task of an idle socket stays small.)
            let written = tokio::select! {
                written = Box::pin(socket.writer.flush()) => written,
                () = closing_requested(connection) => Ok(()),
            };
            if written.is_err() {
                return "write failed";
            }
            continue;
        }
        tokio::select! {
            received = socket.reader.next() => match received {
                None => return "peer gone",
                Some(Err(error)) => {
                    let Some((code, reason)) = violation(error) else { return "peer gone" };
                    Box::pin(close(&mut socket.writer, code, reason)).await;
                    return reason;
                }
                Some(Ok(message)) => {
                    last_heard = Instant::now();
                    match message {
                        // Boxed: a request's future (store queries included) is large, and inlined
                        // here it would make every idle socket's task that large.
                        Message::Text(text) => {
                            let now = state.hub.memberships_version();
                            if now != memberships {
                                (actor, memberships) = (realtime::actor_of(state, connection), now);
                            }
                            Box::pin(answer(state, connection, &actor, text.as_str())).await
                        }
                        Message::Binary(_) => refuse(connection, None, ErrorCode::UnsupportedFrame,
                            "Baton speaks JSON text frames; binary frames are not understood."),
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                        Message::Close(_) => {
                            Box::pin(echo_close(&mut socket)).await;
                            return "closed by peer";
                        }
                    }
                }
            },
            () = connection.queue.wait() => {}
            _ = ping.tick() => {
                if last_heard.elapsed() > state.config.ws_idle_timeout {
                    Box::pin(close(&mut socket.writer, CLOSE_IDLE, "idle timeout")).await;
                    return "idle";
                }
                socket.writer.push_ping();
            }
        }
    }
}

async fn closing_requested(connection: &Connection) {
    while !connection.queue.is_closing() {
        connection.queue.wait().await;
    }
}

/// How long a close frame may wait behind unread data before the connection is simply dropped.
const CLOSE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Sends a close frame with a code, after whatever the peer has not read yet; drops the
/// connection if the peer does not make room in time.
async fn close(writer: &mut SocketWriter, code: u16, reason: &'static str) {
    writer.push_close(code, reason);
    match tokio::time::timeout(CLOSE_PATIENCE, writer.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%error, "close frame not delivered"),
        Err(_) => tracing::debug!("close frame not delivered in time: dropping the connection"),
    }
}

/// Answers the peer's close frame (RFC 6455 §5.5.1: the endpoint MUST send one back). tungstenite
/// queued the echo when it read the peer's frame; flushing it hands the bytes to the writer.
async fn echo_close(socket: &mut Socket) {
    if let Err(error) = socket.reader.flush().await {
        tracing::debug!(%error, "close frame not echoed");
    }
    socket.writer.push_control(&socket.control);
    match tokio::time::timeout(CLOSE_PATIENCE, socket.writer.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%error, "close frame not echoed"),
        Err(_) => tracing::debug!("close frame not echoed in time: dropping the connection"),
    }
}

/// The close code and reason for a socket that failed because the peer broke the rules (RFC 6455
/// §7.4.1); `None` when the connection itself is gone and nothing can be sent.
fn violation(error: tungstenite::Error) -> Option<(u16, &'static str)> {
    use tungstenite::error::{Error, ProtocolError};
    match error {
        Error::Utf8(_) => Some((CLOSE_INVALID_DATA, "text frame not valid UTF-8")),
        Error::Capacity(_) => Some((CLOSE_TOO_BIG, "message too big")),
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        Error::Protocol(_) => Some((CLOSE_PROTOCOL_ERROR, "protocol error")),
        _ => None,
    }
}

fn refuse(connection: &Connection, req_id: Option<u64>, code: ErrorCode, message: &str) {
    let error = ServerMsg::Error { req_id, code, message: message.to_owned(), detail: None };
    if let Some(frame) = frame(&error) {
        connection.queue.push(frame);
    }
}

/// Parses one request, runs it, queues the answer. Never fails the socket: a bad frame gets a
/// typed error and the socket stays up.
async fn answer(state: &AppState, connection: &Arc<Connection>, actor: &Actor, text: &str) {
    let text = crate::input::clean_json(text.as_bytes());
    // Only objects: serde would read a tagged request from an array too.
    let parsed = if crate::input::is_json_object(&text) {
        serde_json::from_slice::<ClientMsg>(&text)
    } else {
        // Not JSON at all stays malformed (below); JSON of another shape is not a request.
        serde_json::from_slice::<serde::de::IgnoredAny>(&text)
            .and_then(|_| Err(serde::de::Error::custom("a request is a JSON object")))
    };
    let request = match parsed {
        Ok(request) => request,
        Err(error) => {
            let value = serde_json::from_slice::<serde_json::Value>(&text);
            let req_id = value.as_ref().ok().and_then(|value| value.get("req_id")).and_then(|id| id.as_u64());
            let (code, message) = match value {
                Err(_) => (ErrorCode::MalformedJson, format!("The frame is not valid JSON: {error}")),
                Ok(_) => (ErrorCode::InvalidInput, format!("The frame is not a request Baton knows: {error}")),
            };
            refuse(connection, req_id, code, &message);
            return;
        }
    };
    let req_id = request.req_id();
    let answer = match realtime::handle(state, connection, actor, request).await {
        Ok(detail) => ServerMsg::Ack { req_id, detail },
        Err(refusal) => ServerMsg::Error {
            req_id: Some(req_id),
            code: refusal.code,
            message: refusal.message,
            detail: refusal.detail,
        },
    };
    if let Some(frame) = frame(&answer) {
        connection.queue.push(frame);
    }
}
