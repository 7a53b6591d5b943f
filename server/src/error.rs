//! [`AppError`]: the one error type of every handler. It becomes `{code, message}` JSON with the
//! status that fits the code. Internal errors are logged (inside the request's span, so with its
//! request id) and the client only learns that something failed.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use baton_shared::protocol::ErrorDetail;
use baton_shared::{ApiError, ErrorCode};

use crate::passwords::Saturated;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A problem with the request, told to the client as is.
    #[error("{code}: {message}")]
    Request { code: ErrorCode, message: String },
    /// A conversation operation refused, with what it adds beyond the message (see [`Refusal`]).
    ///
    /// [`Refusal`]: crate::conversations::Refusal
    #[error("{code}: {message}")]
    Refused { code: ErrorCode, message: String, detail: Option<ErrorDetail> },
    /// Too many attempts; `Retry-After` tells when to come back.
    #[error("throttled for {retry_after_secs}s")]
    Throttled { retry_after_secs: u64 },
    /// A failure on our side. Logged; never shown to the client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Request { code, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "Your role does not allow this.")
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "You are not logged in, or your session has ended.")
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Request { code, .. } | AppError::Refused { code, .. } => *code,
            AppError::Throttled { .. } => ErrorCode::TooManyRequests,
            AppError::Internal(error) if error.is::<Saturated>() => ErrorCode::Unavailable,
            AppError::Internal(_) => ErrorCode::Internal,
        }
    }
}

/// The HTTP status that goes with each code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::MalformedJson => StatusCode::BAD_REQUEST,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Forbidden | ErrorCode::CsrfRejected | ErrorCode::BadSignature => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::EmailTaken
        | ErrorCode::LastAdmin
        | ErrorCode::ClaimedByOther
        | ErrorCode::NotClaimHolder
        | ErrorCode::ConversationChanged
        | ErrorCode::Conflict
        | ErrorCode::WindowClosed
        | ErrorCode::InvalidState
        | ErrorCode::QueueEmpty
        | ErrorCode::AtCapacity => StatusCode::CONFLICT,
        ErrorCode::UnsupportedFrame => StatusCode::BAD_REQUEST,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let code = self.code();
        let mut detail = None;
        let (message, retry_after) = match self {
            AppError::Request { message, .. } => (message, None),
            AppError::Refused { message, detail: refused, .. } => {
                detail = refused;
                (message, None)
            }
            AppError::Throttled { retry_after_secs } => {
                (format!("Too many attempts. Try again in {retry_after_secs} seconds."), Some(retry_after_secs))
            }
            AppError::Internal(error) if error.is::<Saturated>() => {
                tracing::warn!("password hashing saturated: asking the client to retry");
                ("Baton is busy right now. Try again in a moment.".to_owned(), Some(1))
            }
            AppError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                (
                    "Something went wrong on the server. It has been logged under this request's X-Request-Id."
                        .to_owned(),
                    None,
                )
            }
        };
        let mut response = (status_of(code), Json(ApiError { code, message, detail })).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => AppError::not_found("No such record."),
            StoreError::EmailTaken => {
                AppError::new(ErrorCode::EmailTaken, "Another account already uses this email address.")
            }
            StoreError::TitleTaken => {
                AppError::new(ErrorCode::Conflict, "A canned response with this title exists already.")
            }
            StoreError::NameTaken => AppError::new(ErrorCode::Conflict, "A team with this name exists already."),
            StoreError::LastAdmin => AppError::new(
                ErrorCode::LastAdmin,
                "Baton needs at least one active admin: make someone else an admin first.",
            ),
            StoreError::Changed => AppError::new(ErrorCode::Conflict, "It changed meanwhile; look again and retry."),
            StoreError::Unanswered => AppError::Internal(anyhow::anyhow!(StoreError::Unanswered)),
            StoreError::Database(error) => AppError::Internal(anyhow::Error::new(error)),
            StoreError::Migrate(error) => AppError::Internal(anyhow::Error::new(error)),
        }
    }
}
