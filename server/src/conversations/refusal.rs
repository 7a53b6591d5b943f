//! [`Refusal`]: why an operation was not done, typed. The socket answers it as a `ServerMsg::Error`
//! (with its detail), REST as `{code, message}` with the status of its code.

use baton_shared::ErrorCode;
use baton_shared::protocol::ErrorDetail;

use crate::error::AppError;
use crate::store::StoreError;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<ErrorDetail>,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Refusal { code, message: message.into(), detail: None }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Refusal::new(ErrorCode::InvalidInput, message)
    }

    pub fn forbidden(what: &str) -> Self {
        Refusal::new(ErrorCode::Forbidden, format!("Your role does not allow you to {what}."))
    }

    /// What a conversation, note or message the actor may not see is answered with: the same as
    /// one that does not exist, so the answer tells nothing about it.
    pub fn not_found() -> Self {
        Refusal::from(StoreError::NotFound)
    }

    pub fn with_detail(mut self, detail: ErrorDetail) -> Self {
        self.detail = Some(detail);
        self
    }
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Refusal::new(ErrorCode::NotFound, "No such conversation or note."),
            StoreError::Changed => {
                Refusal::new(ErrorCode::Conflict, "The conversation changed meanwhile; look again and retry.")
            }
            other => {
                tracing::error!(error = %other, "store failure during a conversation operation");
                Refusal::new(ErrorCode::Internal, "Something went wrong on the server; it has been logged.")
            }
        }
    }
}

/// Over REST a refusal is `{code, message, detail}` with its code's status (the store failure
/// behind an `internal` one was logged when the refusal was made).
impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Refused { code: refusal.code, message: refusal.message, detail: refusal.detail }
    }
}
