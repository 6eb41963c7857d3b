//! The workspace audit log: the other services record events here; admins read them.

use std::sync::Arc;

use opsflow_domain::{AuditEvent, AuditQuery, Page, TenantScope};

use crate::error::{AppResult, require_admin};
use crate::repos::AuditRepository;

/// Records and reads the workspace audit log. Cheap to clone (one shared repository).
///
/// # When a write fails
/// The event is written in the same call as the action it describes, right after the action's
/// own write succeeded (not in the same transaction). **If the audit write fails, the action
/// still answers success**, and the event is logged at `error` level with its kind, ids and
/// address, so an operator can see and restore the gap from the server log.
///
/// Why not fail the action instead: by the time the event is written the change has happened
/// (the user exists, the password was replaced, the sessions are gone). Answering 500 would tell
/// the client it had not, invite a retry that does it twice, and lose a one-time temporary
/// password the admin will never see again. Making the two writes atomic would need one
/// transaction across repositories, which the ports do not offer.
#[derive(Clone)]
pub struct AuditLog {
    repo: Arc<dyn AuditRepository>,
}

impl AuditLog {
    /// Wires the log to its repository.
    pub fn new(repo: Arc<dyn AuditRepository>) -> Self {
        Self { repo }
    }

    /// Appends `event` to the scope's workspace log. Never fails: see the type's documentation.
    pub async fn record(&self, scope: &TenantScope, event: AuditEvent) {
        if let Err(e) = self.repo.record(scope, &event).await {
            tracing::error!(
                error = %e,
                tenant_id = %scope.tenant_id(),
                event_id = %event.id,
                kind = %event.kind,
                actor = ?event.actor.map(|u| u.to_string()),
                target_user = ?event.target_user.map(|u| u.to_string()),
                ip = ?event.ip,
                "could not record an audit event; the action itself succeeded"
            );
        }
    }

    /// A page of the caller's workspace log, newest first (admin only).
    ///
    /// # Errors
    /// `Forbidden` for agents (the repository is not called); `Unexpected`.
    pub async fn list(
        &self,
        scope: &TenantScope,
        query: &AuditQuery,
    ) -> AppResult<Page<AuditEvent>> {
        require_admin(scope)?;
        Ok(self.repo.list(scope, query).await?)
    }
}

#[cfg(test)]
mod tests {
    use opsflow_domain::{AuditKind, Role, TenantId, UserId};
    use time::OffsetDateTime;

    use super::*;
    use crate::error::AppError;
    use crate::repos::{MockAuditRepository, RepoError};

    #[tokio::test]
    async fn agents_cannot_read_the_log_and_the_store_is_not_asked() {
        let log = AuditLog::new(Arc::new(MockAuditRepository::new()));
        let agent = TenantScope::new(TenantId::new(), UserId::new(), Role::Agent);
        let r = log.list(&agent, &AuditQuery::default()).await;
        assert!(matches!(r, Err(AppError::Forbidden)), "{r:?}");
    }

    #[tokio::test]
    async fn a_failed_write_is_absorbed_after_one_attempt() {
        let mut repo = MockAuditRepository::new();
        repo.expect_record()
            .times(1)
            .returning(|_, _| Err(RepoError::unexpected(std::io::Error::other("disk full"))));
        let log = AuditLog::new(Arc::new(repo));
        let scope = TenantScope::new(TenantId::new(), UserId::new(), Role::Admin);
        let event =
            AuditEvent::new(scope.tenant_id(), AuditKind::Logout, OffsetDateTime::now_utc());
        // Returns (), not an error: the caller's action stands.
        log.record(&scope, event).await;
    }
}
