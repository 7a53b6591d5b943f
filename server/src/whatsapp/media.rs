//! Customers' media files: downloaded once through the Graph API's two-step flow (contract §10)
//! and kept under `{data_dir}/media/`, one file per WhatsApp media id. Webhook media ids expire
//! after 7 days and download URLs after 5 minutes, so a file is fetched as soon as its message
//! arrives (using the webhook's `url` when it has one); if that fails, the first agent to open it
//! fetches it again. Files are written under a temporary name and renamed, so a half-written
//! file is never served.
//!
//! Files agents upload to send (`POST /api/uploads`) live beside them as `upload-{uuid}`, with
//! their type, name and uploader in `upload-{uuid}.json`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use baton_shared::UserId;
use baton_shared::api::Upload;
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::graph::GraphClient;

/// Downloads running at once: enough to keep up with a burst, few enough not to starve replies.
const PARALLEL_DOWNLOADS: usize = 4;

/// Where media files live, the limit on concurrent downloads, and the queue of downloads asked for
/// by the webhook worker.
pub struct MediaStore {
    dir: PathBuf,
    downloads: Arc<Semaphore>,
    prefetch: mpsc::UnboundedSender<Prefetch>,
    /// Taken by [`MediaStore::worker`] when the server starts.
    queued: Mutex<Option<mpsc::UnboundedReceiver<Prefetch>>>,
}

/// A new message's media id and the webhook's download URL, if it had one.
type Prefetch = (String, Option<String>);

/// What Baton keeps about an uploaded file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadMeta {
    pub mime_type: String,
    pub filename: Option<String>,
    pub size: u64,
    pub uploader: UserId,
}

/// Why a media file cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the media id is not one WhatsApp gives")]
    BadId,
    #[error("the WhatsApp channel is not configured")]
    NoChannel,
    #[error("WhatsApp did not give the file: {0}")]
    Download(String),
    #[error("cannot keep the file: {0}")]
    Io(#[from] std::io::Error),
}

impl MediaStore {
    pub fn new(data_dir: &Path) -> Self {
        let (prefetch, queued) = mpsc::unbounded_channel();
        MediaStore {
            dir: data_dir.join("media"),
            downloads: Arc::new(Semaphore::new(PARALLEL_DOWNLOADS)),
            prefetch,
            queued: Mutex::new(Some(queued)),
        }
    }

    /// The file for `media_id`; `None` for an id that could escape the directory.
    fn path_of(&self, media_id: &str) -> Option<PathBuf> {
        let safe = !media_id.is_empty()
            && media_id.len() <= 128
            && !media_id.starts_with('.')
            && media_id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        safe.then(|| self.dir.join(media_id))
    }

    /// The file's path, downloading it first if it is not here yet.
    pub async fn fetch(
        &self,
        graph: Option<&GraphClient>,
        media_id: &str,
        url: Option<&str>,
    ) -> Result<PathBuf, MediaError> {
        let path = self.path_of(media_id).ok_or(MediaError::BadId)?;
        if tokio::fs::try_exists(&path).await? {
            return Ok(path);
        }
        let graph = graph.ok_or(MediaError::NoChannel)?;
        let _permit = self.downloads.acquire().await.map_err(|_| MediaError::Download("shutting down".into()))?;
        // Someone else may have finished it while this waited for a permit.
        if tokio::fs::try_exists(&path).await? {
            return Ok(path);
        }
        let file = graph.download(media_id, url).await.map_err(|error| MediaError::Download(error.to_string()))?;
        tokio::fs::create_dir_all(&self.dir).await?;
        let partial = self.dir.join(format!(".{media_id}.{}.part", uuid::Uuid::new_v4()));
        tokio::fs::write(&partial, &file.bytes).await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(path)
    }

    /// Keeps a file an agent uploaded; what `send_media` will name.
    pub async fn save_upload(&self, bytes: &[u8], meta: UploadMeta) -> Result<Upload, MediaError> {
        let upload_id = format!("upload-{}", uuid::Uuid::new_v4().simple());
        let path = self.path_of(&upload_id).ok_or(MediaError::BadId)?;
        tokio::fs::create_dir_all(&self.dir).await?;
        let json = serde_json::to_vec(&meta).map_err(|error| MediaError::Io(std::io::Error::other(error)))?;
        tokio::fs::write(path.with_extension("json"), json).await?;
        let partial = self.dir.join(format!(".{upload_id}.part"));
        tokio::fs::write(&partial, bytes).await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(Upload { upload_id, mime_type: meta.mime_type, filename: meta.filename, size: meta.size })
    }

    /// An uploaded file's description and path, if it exists.
    pub async fn upload(&self, upload_id: &str) -> Result<Option<(UploadMeta, PathBuf)>, MediaError> {
        // Exactly what `save_upload` names (`upload-` and 32 hex digits): nothing else in the
        // directory, such as the description beside it, can be named.
        let well_formed = upload_id
            .strip_prefix("upload-")
            .is_some_and(|hex| hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()));
        if !well_formed {
            return Ok(None);
        }
        let Some(path) = self.path_of(upload_id) else { return Ok(None) };
        let json = match tokio::fs::read(path.with_extension("json")).await {
            Ok(json) => json,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        if !tokio::fs::try_exists(&path).await? {
            return Ok(None);
        }
        let meta = serde_json::from_slice(&json).map_err(|error| MediaError::Io(std::io::Error::other(error)))?;
        Ok(Some((meta, path)))
    }

    /// Asks for a new message's media to be downloaded in the background.
    pub fn prefetch(&self, media_id: String, url: Option<String>) {
        // Only fails once the server is stopping: the first agent to open it fetches it then.
        let _stopping = self.prefetch.send((media_id, url));
    }

    /// The downloader for this store's queue; `None` if it was already built.
    pub fn worker(self: &Arc<Self>, graph: Option<Arc<GraphClient>>) -> Option<Worker> {
        let requests = self.queued.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()?;
        Some(Worker { files: self.clone(), graph, requests })
    }
}

/// Downloads what the webhook worker asked for, several at once ([`PARALLEL_DOWNLOADS`]).
pub struct Worker {
    files: Arc<MediaStore>,
    graph: Option<Arc<GraphClient>>,
    requests: mpsc::UnboundedReceiver<Prefetch>,
}

impl Worker {
    /// Starts each download asked for, until `stop`. Downloads under way then are dropped: a file
    /// is renamed into place only when whole, and the first agent to open it fetches it again.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut downloads = JoinSet::new();
        loop {
            tokio::select! {
                request = self.requests.recv() => {
                    let Some((media_id, url)) = request else { break };
                    let (files, graph) = (self.files.clone(), self.graph.clone());
                    downloads.spawn(async move {
                        if let Err(error) = files.fetch(graph.as_deref(), &media_id, url.as_deref()).await {
                            tracing::warn!(%media_id, %error, "media not downloaded yet; it will be tried again when opened");
                        }
                    });
                }
                Some(_) = downloads.join_next(), if !downloads.is_empty() => {}
                () = stop.cancelled() => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_media_ids_name_files() {
        let store = MediaStore::new(Path::new("/data"));
        assert_eq!(store.path_of("1234567890123401"), Some(PathBuf::from("/data/media/1234567890123401")));
        for hostile in ["", "../etc/passwd", "a/b", ".hidden", "a\\b", "x y"] {
            assert_eq!(store.path_of(hostile), None, "{hostile:?}");
        }
    }
}
