//! Media the customers send (contract §10): the bytes behind each media id, their mime type and sha256, and
//! the short-lived download URLs `GET /{media_id}` hands out (valid 5 minutes on tokio's clock, fetched
//! with the Bearer token). The URL imitates Meta's
//! `…/whatsapp_business/attachments/?mid=…&ext=…&hash=…`, pointing back at the simulator.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use baton_whatsapp::webhook::MediaKind;
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::{ids, samples};

/// How long a download URL works.
pub const URL_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// The path of download URLs (the query carries `mid`, `ext` and `hash`).
pub(crate) const DOWNLOAD_PATH: &str = "/whatsapp_business/attachments/";

/// One stored medium.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaItem {
    pub id: String,
    pub mime_type: String,
    /// Base64 of the SHA-256 of `bytes`, as Meta writes it in webhooks.
    pub sha256: String,
    pub bytes: Arc<[u8]>,
    pub filename: Option<String>,
}

/// Why a download URL does not work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkError {
    Unknown,
    Expired,
}

struct Link {
    media_id: String,
    expires_at: Instant,
}

#[derive(Default)]
struct Library {
    items: HashMap<String, MediaItem>,
    links: HashMap<String, Link>,
}

#[derive(Default)]
pub(crate) struct MediaStore {
    library: Mutex<Library>,
}

impl MediaStore {
    fn lock(&self) -> MutexGuard<'_, Library> {
        self.library.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores bytes under a fresh media id.
    pub(crate) fn register(&self, mime_type: &str, bytes: Vec<u8>, filename: Option<String>) -> MediaItem {
        let item = MediaItem {
            id: ids::media_id(),
            mime_type: mime_type.to_owned(),
            sha256: ids::base64(&Sha256::digest(&bytes)),
            bytes: bytes.into(),
            filename,
        };
        self.lock().items.insert(item.id.clone(), item.clone());
        item
    }

    /// Stores the generated sample for a kind of media. `filename` only matters for documents.
    pub(crate) fn register_sample(&self, kind: MediaKind, voice: bool, filename: Option<String>) -> MediaItem {
        let (mime_type, bytes) = match kind {
            MediaKind::Image => ("image/png", samples::png(64, 48)),
            MediaKind::Video => ("video/mp4", samples::mp4()),
            // Voice notes are Opus in Ogg; Meta writes the codec into the mime type only for those.
            MediaKind::Audio if voice => ("audio/ogg; codecs=opus", samples::ogg_opus()),
            MediaKind::Audio => ("audio/ogg", samples::ogg_opus()),
            MediaKind::Document => {
                let title = filename.clone().unwrap_or_else(|| "document.pdf".to_owned());
                ("application/pdf", samples::pdf(&title))
            }
            MediaKind::Sticker => ("image/webp", samples::webp()),
        };
        self.register(mime_type, bytes, filename)
    }

    pub(crate) fn get(&self, media_id: &str) -> Option<MediaItem> {
        self.lock().items.get(media_id).cloned()
    }

    /// Forgets a medium (`DELETE /{media_id}`); its links stop working too.
    pub(crate) fn remove(&self, media_id: &str) -> bool {
        let mut library = self.lock();
        library.links.retain(|_, link| link.media_id != media_id);
        library.items.remove(media_id).is_some()
    }

    /// A fresh download token for a medium, valid [`URL_LIFETIME`] from `now`; `None` for an unknown id.
    pub(crate) fn issue_link(&self, media_id: &str, now: Instant) -> Option<(String, Instant)> {
        let mut library = self.lock();
        if !library.items.contains_key(media_id) {
            return None;
        }
        // Drop expired links so a long-running simulator does not accumulate them.
        library.links.retain(|_, link| link.expires_at > now);
        let token = ids::hex_token();
        let expires_at = now + URL_LIFETIME;
        library.links.insert(token.clone(), Link { media_id: media_id.to_owned(), expires_at });
        Some((token, expires_at))
    }

    /// The medium a download token points at, if the token is known and not expired.
    pub(crate) fn resolve(&self, token: &str, now: Instant) -> Result<MediaItem, LinkError> {
        let library = self.lock();
        let link = library.links.get(token).ok_or(LinkError::Unknown)?;
        if now >= link.expires_at {
            return Err(LinkError::Expired);
        }
        library.items.get(&link.media_id).cloned().ok_or(LinkError::Unknown)
    }
}

/// The download URL for a token: Meta's query layout under the simulator's address.
pub(crate) fn download_url(base_url: &str, media_id: &str, token: &str, expires_unix: u64) -> String {
    format!("{base_url}{DOWNLOAD_PATH}?mid={media_id}&ext={expires_unix}&hash={token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn links_expire_after_five_minutes() {
        let store = MediaStore::default();
        let item = store.register_sample(MediaKind::Image, false, None);
        assert_eq!(item.mime_type, "image/png");
        let (token, _) = store.issue_link(&item.id, Instant::now()).expect("the medium exists");
        assert_eq!(store.resolve(&token, Instant::now()), Ok(item.clone()));
        tokio::time::advance(URL_LIFETIME).await;
        assert_eq!(store.resolve(&token, Instant::now()), Err(LinkError::Expired));
        assert_eq!(store.resolve("nope", Instant::now()), Err(LinkError::Unknown));
        assert!(store.issue_link("nope", Instant::now()).is_none());
    }
}
