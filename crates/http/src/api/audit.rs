//! `/api/audit`: the workspace audit log (admins).

use std::sync::Arc;

use opsflow_domain::{AuditKind, AuditQuery, FieldErrors, UserId};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::ApiTags;
use crate::auth::BearerAuth;
use crate::dto::{AuditKindDto, AuditPage};
use crate::error::ApiResult;
use crate::state::AppState;

/// Highest page number accepted.
const MAX_PAGE: u32 = 1_000_000;

/// Audit log operations.
pub struct AuditApi;

/// A page of the audit log.
#[derive(ApiResponse)]
pub enum AuditPageResult {
    /// Events, newest first.
    #[oai(status = 200)]
    Ok(Json<AuditPage>),
}

/// Parses an RFC 3339 time parameter, naming it on failure.
fn time_param(e: &mut FieldErrors, name: &str, raw: Option<&str>) -> Option<OffsetDateTime> {
    let raw = raw?;
    match OffsetDateTime::parse(raw.trim(), &Rfc3339) {
        Ok(t) => Some(t),
        Err(_) => {
            e.add(name, "must be an RFC 3339 date-time such as 2026-12-02T06:00:00Z");
            None
        }
    }
}

#[OpenApi(tag = "ApiTags::Audit")]
impl AuditApi {
    /// The workspace audit log, newest first (admin): sign-ups, sign-ins (also failed ones for
    /// emails of this workspace), password changes and resets, logouts, team changes and
    /// settings changes. Filter by one or more `kind` (repeat the parameter), by `actor` (a
    /// user id), and by time (`from` inclusive, `to` exclusive, RFC 3339).
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/audit", method = "get", operation_id = "list_audit_events")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Only these kinds of event (repeat for several: `kind=login_failed&kind=logout`).
        kind: Query<Option<Vec<AuditKindDto>>>,
        /// Only events done by this user (a user id).
        actor: Query<Option<String>>,
        /// Only events at or after this time (RFC 3339).
        from: Query<Option<String>>,
        /// Only events before this time (RFC 3339).
        to: Query<Option<String>>,
        /// Page number, from 1.
        page: Query<Option<u32>>,
        /// Items per page, 1–200 (default 50).
        per_page: Query<Option<u32>>,
    ) -> ApiResult<AuditPageResult> {
        opsflow_ports::error::require_admin(&auth.0.scope)?;
        let mut e = FieldErrors::new();
        let page = page.0.unwrap_or(1);
        if page == 0 || page > MAX_PAGE {
            e.add("page", format!("must be between 1 and {MAX_PAGE}"));
        }
        let per_page = per_page.0.unwrap_or(AuditQuery::DEFAULT_PER_PAGE);
        if per_page == 0 || per_page > AuditQuery::MAX_PER_PAGE {
            e.add("per_page", format!("must be between 1 and {}", AuditQuery::MAX_PER_PAGE));
        }
        let actor = match actor.0.as_deref() {
            None => None,
            Some(raw) => e.check("actor", UserId::parse(raw)),
        };
        let from = time_param(&mut e, "from", from.0.as_deref());
        let to = time_param(&mut e, "to", to.0.as_deref());
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            e.add("to", "must not be before from");
        }
        e.into_result()?;
        let mut kinds: Vec<AuditKind> =
            kind.0.unwrap_or_default().into_iter().map(Into::into).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let query = AuditQuery { kinds, actor, from, to, page, per_page };
        let result = state.audit.list(&auth.0.scope, &query).await?;
        Ok(AuditPageResult::Ok(Json(AuditPage {
            items: result.items.into_iter().map(Into::into).collect(),
            total: result.total,
            page,
            per_page,
        })))
    }
}
