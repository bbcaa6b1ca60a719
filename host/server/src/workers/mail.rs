//! The mail worker: e-mails the documents queued for sending (see `crate::mailing`).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::error::ServiceError;
use crate::state::AppState;

pub async fn work(state: Arc<AppState>, _stop: CancellationToken) -> Result<bool, ServiceError> {
    crate::mailing::send_due(&state).await
}
