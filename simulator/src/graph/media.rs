//! Media endpoints (contract §10): `POST /{version}/{phone_number_id}/media` stores a multipart upload
//! (`file`, `type`, `messaging_product=whatsapp`) and answers `{"id": …}` for sends by id,
//! `GET /{version}/{media_id}` answers the metadata with a download URL on the simulator itself,
//! `GET <url>` answers the bytes only with the Bearer header and only for 5 minutes, and
//! `DELETE /{version}/{media_id}` forgets the medium.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use baton_whatsapp::graph::{MediaInfo, MediaUploaded, SuccessResponse};
use serde_json::{Value, json};

use super::{Arrival, Reply, authorized, error, unknown_object, valid_version};
use crate::journal::Endpoint;
use crate::media::{self, LinkError};
use crate::state::Shared;

/// The largest upload body: Meta's ceiling for documents (100 MB) plus room for the multipart framing.
pub(super) const UPLOAD_LIMIT: usize = 100 * 1024 * 1024 + 64 * 1024;

/// The media families Meta accepts (images, videos, audio, documents, stickers); anything else is refused.
const MEDIA_FAMILIES: [&str; 5] = ["image/", "video/", "audio/", "application/", "text/"];

pub(super) async fn upload(
    State(shared): State<Arc<Shared>>,
    Path((version, phone_number_id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrival = Arrival { endpoint: Endpoint::MediaUpload, method, uri, headers, body };
    let reply = store_upload(&shared, &arrival, &version, &phone_number_id).await;
    arrival.answer(&shared, reply)
}

async fn store_upload(shared: &Shared, arrival: &Arrival, version: &str, phone_number_id: &str) -> Reply {
    let invalid = |details: &str| error(100, Some(details.to_owned()));
    if !authorized(shared, &arrival.headers) {
        return error(190, None);
    }
    if !valid_version(version) || phone_number_id != shared.config.phone_number_id {
        return unknown_object(&arrival.method, phone_number_id);
    }
    let content_type = arrival.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    let boundary = content_type.and_then(|content_type| multer::parse_boundary(content_type).ok());
    let Some(boundary) = boundary.filter(|boundary| !boundary.is_empty()) else {
        return invalid("Upload media as multipart/form-data with the fields file, type and messaging_product.");
    };
    let parts = match read_form(arrival.body.clone(), boundary).await {
        Ok(parts) => parts,
        Err(reason) => return invalid(&format!("The multipart body could not be read: {reason}.")),
    };
    let field = |name: &str| parts.iter().find(|part| part.name == name);
    if field("messaging_product").and_then(Part::text).map(str::trim) != Some("whatsapp") {
        return invalid("The parameter messaging_product is required.");
    }
    let Some(file) = field("file").filter(|file| !file.body.is_empty()) else {
        return invalid("The parameter file is required.");
    };
    let Some(mime_type) = field("type").and_then(Part::text).map(str::trim).filter(|kind| !kind.is_empty()) else {
        return invalid("The parameter type is required.");
    };
    let family_known = MEDIA_FAMILIES.iter().any(|family| mime_type.starts_with(family));
    let has_subtype = mime_type.split_once('/').is_some_and(|(_, subtype)| !subtype.is_empty());
    if !family_known || !has_subtype {
        return invalid(&format!("Param type {mime_type:?} is not a supported media type."));
    }
    let item = shared.media.register(mime_type, file.body.to_vec(), file.filename.clone());
    Reply::ok(&MediaUploaded { id: item.id })
}

/// One part of an upload form.
struct Part {
    name: String,
    filename: Option<String>,
    body: Bytes,
}

impl Part {
    /// The body of a plain field, as text.
    fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// Every part of a `multipart/form-data` body, read with `multer` (the parser behind axum's `Multipart`
/// extractor). The body is already in memory and within [`UPLOAD_LIMIT`]: the handler keeps it whole for the
/// journal, so it is parsed from a copy rather than streamed. An error says what is malformed.
async fn read_form(body: Bytes, boundary: String) -> Result<Vec<Part>, String> {
    let mut form = multer::Multipart::new(Body::from(body).into_data_stream(), boundary);
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|error| error.to_string())? {
        let name = field.name().ok_or("a part has no name in its Content-Disposition")?.to_owned();
        let filename = field.file_name().map(str::to_owned);
        let body = field.bytes().await.map_err(|error| error.to_string())?;
        parts.push(Part { name, filename, body });
    }
    Ok(parts)
}

pub(super) async fn info(
    State(shared): State<Arc<Shared>>,
    Path((version, media_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let arrival = Arrival { endpoint: Endpoint::MediaInfo, method, uri, headers, body: Bytes::new() };
    let reply = describe(&shared, &arrival, &version, &media_id, query.get("phone_number_id"));
    arrival.answer(&shared, reply)
}

fn describe(
    shared: &Shared,
    arrival: &Arrival,
    version: &str,
    media_id: &str,
    phone_number_id: Option<&String>,
) -> Reply {
    if !authorized(shared, &arrival.headers) {
        return error(190, None);
    }
    // The optional `phone_number_id` makes Meta check the medium belongs to that number (contract §10).
    let wrong_number = phone_number_id.is_some_and(|id| *id != shared.config.phone_number_id);
    let item = shared.media.get(media_id).filter(|_| valid_version(version) && !wrong_number);
    let Some(item) = item else {
        return unknown_object(&arrival.method, media_id);
    };
    let now = shared.clock.now();
    let Some((token, expires_at)) = shared.media.issue_link(&item.id, now) else {
        return unknown_object(&arrival.method, media_id);
    };
    // Point the URL at the address the client used to reach us: it is reachable from there.
    let base_url = arrival
        .headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map_or_else(|| shared.base_url.clone(), |host| format!("http://{host}"));
    let info = MediaInfo {
        messaging_product: Some("whatsapp".to_owned()),
        url: media::download_url(&base_url, &item.id, &token, shared.clock.unix_at(expires_at)),
        mime_type: item.mime_type.clone(),
        sha256: Some(item.sha256.clone()),
        file_size: u64::try_from(item.bytes.len()).unwrap_or(u64::MAX),
        id: item.id.clone(),
    };
    Reply::ok(&info)
}

pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((version, media_id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let arrival = Arrival { endpoint: Endpoint::MediaDelete, method, uri, headers, body: Bytes::new() };
    let reply = if !authorized(&shared, &arrival.headers) {
        error(190, None)
    } else if valid_version(&version) && shared.media.remove(&media_id) {
        Reply::ok(&SuccessResponse { success: true })
    } else {
        unknown_object(&arrival.method, &media_id)
    };
    arrival.answer(&shared, reply)
}

pub(super) async fn download(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let arrival = Arrival { endpoint: Endpoint::MediaDownload, method, uri, headers, body: Bytes::new() };
    if !authorized(&shared, &arrival.headers) {
        // Without the token there is no media (contract §10).
        return arrival.answer(&shared, error(190, None));
    }
    let token = query.get("hash").map_or("", String::as_str);
    let resolved = shared
        .media
        .resolve(token, shared.clock.now())
        .and_then(|item| if query.get("mid") == Some(&item.id) { Ok(item) } else { Err(LinkError::Unknown) });
    match resolved {
        Ok(item) => {
            arrival.record(&shared, 200, Value::Null);
            let content_type =
                HeaderValue::from_str(&item.mime_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
            (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], item.bytes.to_vec()).into_response()
        }
        Err(LinkError::Expired) => {
            let body = json!({"error": "This media URL has expired; ask GET /{media_id} for a new one."});
            arrival.answer(&shared, Reply::json(404, &body))
        }
        Err(LinkError::Unknown) => {
            arrival.answer(&shared, Reply::json(404, &json!({"error": "No media at this URL."})))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_fields_and_files_keeping_binary_bytes() {
        let body = b"--XyZ\r\n\
            Content-Disposition: form-data; name=\"messaging_product\"\r\n\r\n\
            whatsapp\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
            Content-Type: image/png\r\n\r\n\
            \x89PNG\r\n--X\x00\r\n\
            --XyZ--\r\n";
        let parts = read_form(Bytes::from_static(body), "XyZ".to_owned()).await.expect("well-formed");
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].text()), ("messaging_product", Some("whatsapp")));
        assert_eq!(parts[1].filename.as_deref(), Some("a.png"));
        assert_eq!(&parts[1].body[..], b"\x89PNG\r\n--X\x00", "a near-boundary inside the file is kept");
    }

    #[tokio::test]
    async fn refuses_malformed_bodies() {
        for body in [
            &b"no boundary here"[..],
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
            b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",
        ] {
            let read = read_form(Bytes::from_static(body), "XyZ".to_owned()).await;
            assert!(read.is_err(), "{:?}", String::from_utf8_lossy(body));
        }
    }
}
