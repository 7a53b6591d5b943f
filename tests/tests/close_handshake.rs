//! The WebSocket close handshake, with a raw client: a client's close frame is echoed (RFC 6455
//! §5.5.1), and a client that breaks the protocol is closed with the code that says how (§7.4.1):
//! invalid UTF-8 1007, too big 1009, other protocol errors 1002.

use baton_shared::api::Role;
use baton_shared::protocol::{CLOSE_INVALID_DATA, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG};
use baton_tests::server::TestServer;
use baton_tests::socket::{Ended, WsClient};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

async fn connected(server: &TestServer) -> anyhow::Result<WsClient> {
    let (client, _) = server.logged_in("Alice", Role::Agent).await?;
    WsClient::connect(&client).await
}

/// A text frame carrying `payload` as it is, UTF-8 or not.
fn text_frame(payload: &[u8]) -> Message {
    Message::Frame(Frame::message(payload.to_vec(), OpCode::Data(Data::Text), true))
}

#[tokio::test]
async fn a_close_frame_is_echoed() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut socket = connected(&server).await?;
    socket.send_raw(Message::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() }))).await?;
    assert_eq!(socket.until_closed().await?, Ended::Closed(Some(1000)), "the close frame comes back");
    Ok(())
}

#[tokio::test]
async fn invalid_utf8_is_closed_with_1007() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut socket = connected(&server).await?;
    socket.send_raw(text_frame(b"{\"type\":\"ping\",\"req_id\":1,\"x\":\"\xff\xfe\"}")).await?;
    assert_eq!(socket.until_closed().await?, Ended::Closed(Some(CLOSE_INVALID_DATA)));
    Ok(())
}

#[tokio::test]
async fn a_message_too_big_is_closed_with_1009() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut socket = connected(&server).await?;
    let too_big = "x".repeat(baton_server::ws::MAX_MESSAGE_BYTES + 1);
    socket.send_raw(Message::Text(too_big.into())).await?;
    assert_eq!(socket.until_closed().await?, Ended::Closed(Some(CLOSE_TOO_BIG)));
    Ok(())
}

#[tokio::test]
async fn a_protocol_violation_is_closed_with_1002() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut socket = connected(&server).await?;
    // A reserved bit set without an extension that defines it (§5.2: MUST fail the connection).
    let mut frame = Frame::message(b"{}".to_vec(), OpCode::Data(Data::Text), true);
    frame.header_mut().rsv1 = true;
    socket.send_raw(Message::Frame(frame)).await?;
    assert_eq!(socket.until_closed().await?, Ended::Closed(Some(CLOSE_PROTOCOL_ERROR)));
    Ok(())
}
