//! [`GraphClient`]: Baton's calls to Meta's Graph API (or the simulator standing in for it) —
//! sends, mark-as-read and the typing indicator, the approved templates, and the two-step media
//! download. One client per server, built when the channel is configured; it holds the bearer
//! token, which it never logs.

use std::time::Duration;

use baton_shared::model::MessageTemplate;
use baton_whatsapp::graph::{self, ErrorResponse, MarkRead, MediaInfo, MediaUploaded, SendMessage, SendResponse};
use serde::Deserialize;
use serde::Serialize;

use super::WhatsAppConfig;

/// How long one Graph request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest media file Baton downloads (WhatsApp's own limit for documents is 100 MB).
pub const MAX_MEDIA_BYTES: u64 = 100 * 1024 * 1024;

/// Why a Graph call did not go through.
#[derive(Debug)]
pub enum GraphCallError {
    /// Meta answered with an error.
    Refused { status: u16, error: Box<ErrorResponse> },
    /// No usable answer: the network, a timeout, or a body that is not the contract's.
    Transport(String),
    /// A send was written, but no usable answer came back (the connection was cut or timed out
    /// after the request went out, or a success without a wamid): Meta may have accepted it.
    Unanswered(String),
}

impl std::fmt::Display for GraphCallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphCallError::Refused { status, error } => {
                write!(f, "HTTP {status}, code {}: {}", error.error.code, error.error.message)
            }
            GraphCallError::Transport(reason) | GraphCallError::Unanswered(reason) => f.write_str(reason),
        }
    }
}

/// A downloaded media file.
pub struct MediaFile {
    pub bytes: Vec<u8>,
    pub mime_type: String,
}

/// The Graph API endpoints of one business number.
pub struct GraphClient {
    http: reqwest::Client,
    base: String,
    version: String,
    token: String,
    messages_url: String,
    upload_url: String,
    business_account_id: Option<String>,
}

impl GraphClient {
    /// A client for the configured number; `None` when the channel has no token or number id.
    pub fn from_config(config: &WhatsAppConfig) -> anyhow::Result<Option<Self>> {
        let (Some(token), Some(number)) = (config.access_token.clone(), config.phone_number_id.clone()) else {
            return Ok(None);
        };
        let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build()?;
        Ok(Some(GraphClient {
            http,
            messages_url: format!("{}{}", config.graph_url, graph::messages_path(&config.api_version, &number)),
            upload_url: format!("{}{}", config.graph_url, graph::media_upload_path(&config.api_version, &number)),
            base: config.graph_url.clone(),
            version: config.api_version.clone(),
            token,
            business_account_id: config.business_account_id.clone(),
        }))
    }

    /// Posts a send; the wamid Meta gave it. Only a failure to connect means it never reached
    /// Meta: any other trouble after the request went out is [`GraphCallError::Unanswered`].
    pub async fn send(&self, request: &SendMessage) -> Result<String, GraphCallError> {
        let unanswered = |reason: String| GraphCallError::Unanswered(reason);
        let response = match self.http.post(&self.messages_url).bearer_auth(&self.token).json(request).send().await {
            Ok(response) => response,
            Err(error) if error.is_connect() => return Err(GraphCallError::Transport(error.to_string())),
            Err(error) => return Err(unanswered(error.to_string())),
        };
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|error| unanswered(error.to_string()))?;
        let body = judge(status, &body)?;
        let accepted: SendResponse =
            serde_json::from_slice(&body).map_err(|error| unanswered(format!("unexpected success body: {error}")))?;
        accepted.message_id().map(str::to_owned).ok_or_else(|| unanswered("success without a message id".to_owned()))
    }

    /// Uploads a file for sending (contract §10); the media id WhatsApp gave it.
    pub async fn upload(&self, bytes: Vec<u8>, mime_type: &str, filename: &str) -> Result<String, GraphCallError> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_owned())
            .mime_str(mime_type)
            .map_err(|error| GraphCallError::Transport(format!("bad media type {mime_type}: {error}")))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime_type.to_owned())
            .part("file", part);
        let response = self.http.post(&self.upload_url).bearer_auth(&self.token).multipart(form).send().await;
        let body = answer(response).await?;
        let uploaded: MediaUploaded = serde_json::from_slice(&body)
            .map_err(|error| GraphCallError::Transport(format!("unexpected upload answer: {error}")))?;
        Ok(uploaded.id)
    }

    /// Marks the customer's message `wamid` (and those before it) read, with "typing…" if asked.
    pub async fn mark_read(&self, wamid: &str, typing: bool) -> Result<(), GraphCallError> {
        let request = if typing { MarkRead::with_typing_indicator(wamid) } else { MarkRead::new(wamid) };
        self.post_messages(&request).await.map(drop)
    }

    async fn post_messages<T: Serialize>(&self, request: &T) -> Result<Vec<u8>, GraphCallError> {
        let response = self.http.post(&self.messages_url).bearer_auth(&self.token).json(request).send().await;
        answer(response).await
    }

    /// The approved templates of the business account (needs its id in the configuration).
    pub async fn templates(&self) -> Result<Vec<MessageTemplate>, GraphCallError> {
        let Some(account) = &self.business_account_id else {
            return Err(GraphCallError::Transport(
                "no business account id is configured (BATON_WHATSAPP_BUSINESS_ACCOUNT_ID)".to_owned(),
            ));
        };
        let url = format!("{}/{}/{account}/message_templates?limit=250", self.base, self.version);
        let body = answer(self.http.get(&url).bearer_auth(&self.token).send().await).await?;
        let listing: TemplateListing = serde_json::from_slice(&body)
            .map_err(|error| GraphCallError::Transport(format!("unexpected template listing: {error}")))?;
        Ok(listing.data.into_iter().filter(|template| template.status == "APPROVED").map(into_template).collect())
    }

    /// The two-step download (contract §10): the media's metadata (skipped when the webhook
    /// already gave its `url`), then its bytes, both with the bearer token.
    pub async fn download(&self, media_id: &str, known_url: Option<&str>) -> Result<MediaFile, GraphCallError> {
        let (url, mut mime_type) = match known_url {
            Some(url) => (url.to_owned(), None),
            None => {
                let url = format!("{}{}", self.base, graph::media_path(&self.version, media_id));
                let body = answer(self.http.get(&url).bearer_auth(&self.token).send().await).await?;
                let info: MediaInfo = serde_json::from_slice(&body)
                    .map_err(|error| GraphCallError::Transport(format!("unexpected media metadata: {error}")))?;
                if info.file_size > MAX_MEDIA_BYTES {
                    return Err(GraphCallError::Transport(format!("media of {} bytes is too large", info.file_size)));
                }
                (info.url, Some(info.mime_type))
            }
        };
        let response = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|error| GraphCallError::Transport(error.to_string()))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(GraphCallError::Transport(format!("media download answered HTTP {status}")));
        }
        if response.content_length().is_some_and(|length| length > MAX_MEDIA_BYTES) {
            return Err(GraphCallError::Transport("media too large".to_owned()));
        }
        let header_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        // Read in chunks, so a body without a length cannot grow past the limit either.
        let mut response = response;
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| GraphCallError::Transport(error.to_string()))? {
            if u64::try_from(bytes.len() + chunk.len()).unwrap_or(u64::MAX) > MAX_MEDIA_BYTES {
                return Err(GraphCallError::Transport("media too large".to_owned()));
            }
            bytes.extend_from_slice(&chunk);
        }
        mime_type = mime_type.or(header_type);
        Ok(MediaFile { bytes, mime_type: mime_type.unwrap_or_else(|| "application/octet-stream".into()) })
    }
}

/// A Graph answer's body on success; its error otherwise.
async fn answer(response: Result<reqwest::Response, reqwest::Error>) -> Result<Vec<u8>, GraphCallError> {
    let response = response.map_err(|error| GraphCallError::Transport(error.to_string()))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|error| GraphCallError::Transport(error.to_string()))?;
    judge(status, &body)
}

/// What an answer's status and body say: the body on success, Meta's error otherwise.
fn judge(status: u16, body: &[u8]) -> Result<Vec<u8>, GraphCallError> {
    if (200..300).contains(&status) {
        return Ok(body.to_vec());
    }
    match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(error) => Err(GraphCallError::Refused { status, error: Box::new(error) }),
        Err(_) if status >= 500 || status == 429 => Err(GraphCallError::Transport(format!("HTTP {status}"))),
        Err(_) => Err(GraphCallError::Refused {
            status,
            error: Box::new(ErrorResponse::new(0, "Unknown error", format!("HTTP {status}"))),
        }),
    }
}

/// `GET /{waba_id}/message_templates`, in Meta's shape.
#[derive(Deserialize)]
struct TemplateListing {
    data: Vec<ListedTemplate>,
}

#[derive(Deserialize)]
struct ListedTemplate {
    name: String,
    language: String,
    status: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    components: Vec<serde_json::Value>,
}

fn into_template(listed: ListedTemplate) -> MessageTemplate {
    let of_type = |kind: &'static str| {
        listed.components.iter().filter(move |component| component.get("type").and_then(|t| t.as_str()) == Some(kind))
    };
    let body = of_type("BODY")
        .find_map(|component| component.get("text").and_then(|text| text.as_str()))
        .unwrap_or_default()
        .to_owned();
    let buttons = of_type("BUTTONS")
        .filter_map(|component| component.get("buttons").and_then(|buttons| buttons.as_array()))
        .flatten()
        .filter_map(|button| button.get("text").and_then(|text| text.as_str()).map(str::to_owned))
        .collect();
    MessageTemplate {
        parameters: placeholder_count(&body),
        name: listed.name,
        language: listed.language,
        category: listed.category.to_ascii_lowercase(),
        body,
        buttons,
    }
}

/// The highest `{{n}}` in a template body.
fn placeholder_count(body: &str) -> u32 {
    body.split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}"))
        .filter_map(|(inside, _)| inside.trim().parse::<u32>().ok())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_counted_by_their_highest_number() {
        assert_eq!(placeholder_count("Hi {{1}}, order {{2}} ships {{2}}"), 2);
        assert_eq!(placeholder_count("No parameters"), 0);
        assert_eq!(placeholder_count("Odd {{name}} and {{ 3 }}"), 3);
    }

    #[test]
    fn meta_listings_become_templates() {
        let listed: ListedTemplate = serde_json::from_value(serde_json::json!({
            "name": "order_update", "language": "en_US", "status": "APPROVED", "category": "UTILITY",
            "components": [
                {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is on its way."},
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Talk to an agent"}]}
            ]
        }))
        .expect("parses");
        let template = into_template(listed);
        assert_eq!(template.parameters, 2);
        assert_eq!(template.category, "utility");
        assert_eq!(template.buttons, ["Talk to an agent"]);
    }
}
