//! Control routes for customers and their chats: list and add customers, read a chat, send as a customer
//! (one message or a batch), and fetch a medium's bytes for display.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::ControlError;
use crate::customers::{ChatView, Customer, CustomerSummary};
use crate::inbound::{self, Inbound, InboundReceipt};
use crate::state::Shared;

pub(super) async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<CustomerSummary>> {
    Json(shared.customers.list(shared.clock.now()))
}

pub(super) async fn add(
    State(shared): State<Arc<Shared>>,
    Json(customer): Json<Customer>,
) -> Result<Json<Customer>, ControlError> {
    customer.validate().map_err(ControlError::bad_request)?;
    shared.customers.upsert(&customer);
    Ok(Json(customer))
}

pub(super) async fn view(
    State(shared): State<Arc<Shared>>,
    Path(wa_id): Path<String>,
) -> Result<Json<ChatView>, ControlError> {
    shared
        .customers
        .chat(&wa_id, shared.clock.now())
        .map(Json)
        .ok_or_else(|| ControlError::not_found(format!("no customer {wa_id}")))
}

pub(super) async fn send(
    State(shared): State<Arc<Shared>>,
    Path(wa_id): Path<String>,
    Json(message): Json<Inbound>,
) -> Result<Json<InboundReceipt>, ControlError> {
    let Some(name) = shared.customers.name_of(&wa_id) else {
        return Err(ControlError::not_found(format!("no customer {wa_id}: add it first")));
    };
    let receipt = inbound::send(&shared, vec![(Customer::new(wa_id, name), message)]).await?;
    Ok(Json(receipt))
}

#[derive(Deserialize)]
pub(super) struct Batch {
    messages: Vec<BatchMessage>,
}

#[derive(Deserialize)]
struct BatchMessage {
    customer: Customer,
    message: Inbound,
}

pub(super) async fn batch(
    State(shared): State<Arc<Shared>>,
    Json(batch): Json<Batch>,
) -> Result<Json<InboundReceipt>, ControlError> {
    let messages = batch.messages.into_iter().map(|item| (item.customer, item.message)).collect();
    Ok(Json(inbound::send(&shared, messages).await?))
}

pub(super) async fn media(
    State(shared): State<Arc<Shared>>,
    Path(media_id): Path<String>,
) -> Result<Response, ControlError> {
    let item = shared.media.get(&media_id).ok_or_else(|| ControlError::not_found(format!("no media {media_id}")))?;
    let content_type =
        HeaderValue::from_str(&item.mime_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, content_type)], item.bytes.to_vec()).into_response())
}
