//! The mail-intake port: takes one raw inbound message into a workspace. The inbound-mail
//! service implements it; the IMAP poller and the inbound HTTP endpoint call it.

use async_trait::async_trait;
use opsflow_domain::{TenantId, TicketId};

use crate::repos::RepoError;

/// What became of one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// A new ticket was opened.
    Created {
        /// The new ticket.
        ticket_id: TicketId,
        /// Its number in the workspace.
        number: u64,
    },
    /// The message was added to an existing ticket as a customer reply.
    Appended {
        /// The ticket it joined.
        ticket_id: TicketId,
    },
    /// A message with this Message-ID was already taken in; nothing changed.
    Duplicate,
    /// Deliberately not taken in (automatic mail, mail from the workspace's own address); the
    /// reason is in words for logs and the mailbox status.
    Ignored {
        /// Why.
        reason: String,
    },
}

/// Why a message could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The message itself is unusable (not a message, too large, no sender): retrying will not
    /// help. The text says why, for the sender or the admin.
    #[error("message rejected: {0}")]
    Rejected(String),
    /// The store failed: worth retrying later; the message must not be marked as taken in.
    #[error(transparent)]
    Store(#[from] RepoError),
}

/// Takes raw RFC 5322 messages into a workspace.
#[async_trait]
pub trait MailIntake: Send + Sync + 'static {
    /// Parses `raw` and opens a ticket, appends to one, or ignores it (see [`IntakeOutcome`]).
    ///
    /// # Errors
    /// [`IntakeError::Rejected`] for an unusable message; [`IntakeError::Store`] when the store
    /// failed (the caller retries later).
    async fn take_in(&self, tenant_id: TenantId, raw: &[u8]) -> Result<IntakeOutcome, IntakeError>;
}
