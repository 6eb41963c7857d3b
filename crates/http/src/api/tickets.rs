//! `/api/tickets`: tickets and replies.

use std::sync::Arc;

use opsflow_domain::{AssigneeFilter, ReplyId, TicketId, TicketRef};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use crate::api::{ApiTags, parse_id};
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::dto::{
    CategoryDto, DeliveryDto, DraftUpdateRequest, NoteCreateRequest, PriorityDto,
    ReplyCreateRequest, ReplyDto, RunSummary, TicketBulkResponse, TicketBulkResult,
    TicketBulkUpdateRequest, TicketCreateRequest, TicketDetailResponse, TicketDto,
    TicketListParams, TicketPage, TicketPatchRequest, TicketSortDto, TicketStatusDto,
    TicketViewDto, TicketViewIdDto, TicketViewsResponse,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Ticket operations.
pub struct TicketsApi;

/// Ticket created.
#[derive(ApiResponse)]
pub enum TicketCreated {
    /// The new ticket (status `new`).
    #[oai(status = 201)]
    Created(Json<TicketDto>),
}

/// A page of tickets.
#[derive(ApiResponse)]
pub enum TicketPageResult {
    /// Tickets in the requested order.
    #[oai(status = 200)]
    Ok(Json<TicketPage>),
}

/// The views of the ticket list.
/// Bulk update done (also when some tickets could not be changed: see each result).
#[derive(ApiResponse)]
pub enum TicketBulkAnswer {
    /// One result per ticket, in the order sent.
    #[oai(status = 200)]
    Ok(Json<TicketBulkResponse>),
}

#[derive(ApiResponse)]
pub enum TicketViewsResult {
    /// Every view with its filter and exact count.
    #[oai(status = 200)]
    Ok(Json<TicketViewsResponse>),
}

/// A ticket with replies.
#[derive(ApiResponse)]
pub enum TicketDetailResult {
    /// The ticket, its replies (oldest first) and its latest triage run.
    #[oai(status = 200)]
    Ok(Json<TicketDetailResponse>),
}

/// The ticket after a change.
#[derive(ApiResponse)]
pub enum TicketResult {
    /// The updated ticket.
    #[oai(status = 200)]
    Ok(Json<TicketDto>),
}

/// Reply created.
#[derive(ApiResponse)]
pub enum ReplyCreated {
    /// The reply.
    #[oai(status = 201)]
    Created(Json<ReplyDto>),
}

/// Email delivery queued again.
#[derive(ApiResponse)]
pub enum DeliveryResult {
    /// The delivery, `queued` and due now.
    #[oai(status = 200)]
    Ok(Json<DeliveryDto>),
}

/// Reply updated.
#[derive(ApiResponse)]
pub enum ReplyResult {
    /// The reply.
    #[oai(status = 200)]
    Ok(Json<ReplyDto>),
}

#[OpenApi(prefix_path = "/tickets", tag = "ApiTags::Tickets")]
impl TicketsApi {
    /// Open a ticket.
    #[oai(path = "/", method = "post", operation_id = "create_ticket")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<TicketCreateRequest>,
    ) -> ApiResult<TicketCreated> {
        let input = body.0.try_into_domain()?;
        let t = state.tickets.create(&auth.0.scope, input).await?;
        Ok(TicketCreated::Created(Json(t.into())))
    }

    /// List tickets with filters, an order and paging. Several statuses or priorities are
    /// given by repeating the parameter (`status=new&status=open`): a ticket matches any of
    /// them.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/", method = "get", operation_id = "list_tickets")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Start from this view's filter and order; `status`, `priority`, `assignee` and
        /// `sort` given as well replace the view's.
        view: Query<Option<TicketViewIdDto>>,
        /// Only these statuses (repeat the parameter for several).
        #[oai(default)]
        status: Query<Vec<TicketStatusDto>>,
        /// Only these priorities (repeat the parameter for several).
        #[oai(default)]
        priority: Query<Vec<PriorityDto>>,
        /// Only this category.
        category: Query<Option<CategoryDto>>,
        /// Only tickets assigned to `me` (the caller), `unassigned` ones, or those of the user
        /// with this id.
        assignee: Query<Option<String>>,
        /// Only tickets assigned to this user (same as `assignee=<id>`).
        assignee_id: Query<Option<String>>,
        /// Only unassigned tickets (same as `assignee=unassigned`).
        unassigned: Query<Option<bool>>,
        /// Words that must all appear (as word prefixes) in subject, body, customer name or
        /// email, or in the ticket's sent replies and internal notes. A ticket number alone
        /// (`1042` or `#1042`) finds that ticket instead.
        q: Query<Option<String>>,
        /// The order (default `created`, newest first). `oldest_waiting` without a `status`
        /// lists only tickets still waiting on the team (new, open, pending).
        sort: Query<Option<TicketSortDto>>,
        /// Page number, from 1. For deep lists use `cursor` instead: its cost does not grow
        /// with depth.
        page: Query<Option<u32>>,
        /// Items per page, 1–100 (default 25).
        page_size: Query<Option<u32>>,
        /// Start after the previous page: its `next_cursor`, with the same filters and `sort`
        /// (not combined with `page`).
        cursor: Query<Option<String>>,
    ) -> ApiResult<TicketPageResult> {
        let query = TicketListParams {
            view: view.0,
            status: status.0,
            priority: priority.0,
            category: category.0,
            assignee: assignee.0,
            assignee_id: assignee_id.0,
            unassigned: unassigned.0,
            q: q.0,
            sort: sort.0,
            page: page.0,
            page_size: page_size.0,
            cursor: cursor.0,
        }
        .try_into_domain(auth.0.scope.user_id())?;
        let (page, page_size) = (query.page, query.page_size);
        let result = state.tickets.list(&auth.0.scope, &query).await?;
        Ok(TicketPageResult::Ok(Json(TicketPage {
            items: result.items.into_iter().map(Into::into).collect(),
            total: result.total,
            total_exact: result.total_exact,
            next_cursor: result.next.map(|c| c.encode()),
            page,
            page_size,
        })))
    }

    /// The views of the ticket list (My open, Unassigned, Urgent & high, All open, Replied,
    /// Closed) with their filters and exact counts (per-workspace counters on SQLite).
    #[oai(path = "/views", method = "get", operation_id = "list_ticket_views")]
    async fn views(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<TicketViewsResult> {
        // The six counts run in their own task: a client that goes away (the UI refetches the
        // counts while the user navigates) must not cancel store queries half-way, which makes
        // the driver drop their connection (and with it an in-memory SQLite database).
        let state = Arc::clone(state.0);
        let scope = auth.0.scope;
        let views = tokio::spawn(async move { state.tickets.views(&scope).await })
            .await
            .map_err(|e| ApiError::from(opsflow_ports::error::AppError::unexpected(e)))??;
        let items = views
            .into_iter()
            .map(|v| TicketViewDto {
                id: v.view.into(),
                name: v.view.name().to_owned(),
                status: v.query.statuses.iter().map(|s| (*s).into()).collect(),
                priority: v.query.priorities.iter().map(|p| (*p).into()).collect(),
                assignee: match v.query.assignee {
                    Some(AssigneeFilter::User(_)) => Some("me".to_owned()),
                    Some(AssigneeFilter::Unassigned) => Some("unassigned".to_owned()),
                    None => None,
                },
                sort: v.query.sort.into(),
                count: v.count,
            })
            .collect();
        Ok(TicketViewsResult::Ok(Json(TicketViewsResponse { items })))
    }

    /// A ticket with its replies and latest triage run. `id` is the ticket's UUID or its
    /// workspace number (`1042`); the other ticket operations take the UUID only.
    #[oai(path = "/:id", method = "get", operation_id = "get_ticket")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The ticket's id (UUID) or workspace number.
        id: Path<String>,
    ) -> ApiResult<TicketDetailResult> {
        let by: TicketRef = id.0.parse().map_err(|_| {
            ApiError::bad_field("id", "is not a valid ticket id (expected a UUID or a number)")
        })?;
        let mut detail = state.tickets.get(&auth.0.scope, by).await?;
        let files = state.inbound_mail.attachments(&auth.0.scope, detail.ticket.id).await?;
        let (opening, on_replies): (Vec<_>, Vec<_>) =
            files.into_iter().partition(|a| a.reply_id.is_none());
        let replies = detail
            .replies
            .into_iter()
            .map(|r| {
                let id = r.id;
                let delivery = detail.deliveries.remove(&id);
                let mut dto = ReplyDto::with_delivery(r, delivery);
                dto.attachments = on_replies
                    .iter()
                    .filter(|a| a.reply_id == Some(id))
                    .cloned()
                    .map(Into::into)
                    .collect();
                dto
            })
            .collect();
        Ok(TicketDetailResult::Ok(Json(TicketDetailResponse {
            ticket: detail.ticket.into(),
            replies,
            latest_run: detail
                .latest_run
                .map(|r| RunSummary { id: r.id.as_uuid(), status: r.status.into() }),
            attachments: opening.into_iter().map(Into::into).collect(),
        })))
    }

    /// Change the subject, customer, status, priority, category or assignee (`null` clears
    /// priority or category, or unassigns).
    #[oai(path = "/:id", method = "patch", operation_id = "update_ticket")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<TicketPatchRequest>,
    ) -> ApiResult<TicketResult> {
        let id: TicketId = parse_id("id", &id.0)?;
        let patch = body.0.try_into_domain()?;
        let t = state.tickets.update(&auth.0.scope, id, patch).await?;
        Ok(TicketResult::Ok(Json(t.into())))
    }

    /// Apply one change (status, priority, category, assignee) to up to 100 tickets in one
    /// request ("bulk action"). Each ticket is updated on its own and gets its own result, so
    /// one missing ticket does not stop the others; a ticket of another workspace is
    /// `ticket_not_found`.
    #[oai(path = "/bulk", method = "post", operation_id = "bulk_update_tickets")]
    async fn bulk_update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<TicketBulkUpdateRequest>,
    ) -> ApiResult<TicketBulkAnswer> {
        let (ids, changes) = body.0.try_into_domain()?;
        let outcomes = state.tickets.bulk_update(&auth.0.scope, &ids, changes).await?;
        let mut updated = 0_u32;
        let results: Vec<TicketBulkResult> = outcomes
            .into_iter()
            .map(|(id, outcome)| match outcome {
                Ok(ticket) => {
                    updated += 1;
                    TicketBulkResult {
                        id: id.to_string(),
                        ok: true,
                        ticket: Some(ticket.into()),
                        error: None,
                    }
                }
                Err(e) => TicketBulkResult {
                    id: id.to_string(),
                    ok: false,
                    ticket: None,
                    error: Some(ApiError::from(e).into_body().error),
                },
            })
            .collect();
        let failed = u32::try_from(results.len()).unwrap_or(u32::MAX) - updated;
        Ok(TicketBulkAnswer::Ok(Json(TicketBulkResponse { results, updated, failed })))
    }

    /// Reply to the ticket as the current user; optionally set its status and replace an AI
    /// draft, all in one transaction ("Save & Mark Replied"). On an email ticket whose workspace
    /// has a connected mailbox the reply's email is queued in the same transaction and sent by
    /// the outbox workers (`delivery.state` `queued`); without a mailbox `delivery.state` is
    /// `not_emailed`; on other tickets `delivery` is null (recorded, not emailed).
    #[oai(path = "/:id/replies", method = "post", operation_id = "create_reply")]
    async fn reply(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<ReplyCreateRequest>,
    ) -> ApiResult<ReplyCreated> {
        let id: TicketId = parse_id("id", &id.0)?;
        let input = body.0.try_into_domain()?;
        let sent = state.tickets.reply(&auth.0.scope, id, input).await?;
        Ok(ReplyCreated::Created(Json(ReplyDto::with_delivery(sent.reply, sent.delivery))))
    }

    /// Queue a reply's failed email again (after fixing the address or the mailbox). Only a
    /// `failed` delivery can be retried: 409 `delivery_not_failed` otherwise; a reply without
    /// an email (or of another workspace) is 404 `reply_not_found`.
    #[oai(
        path = "/:id/replies/:reply_id/retry-delivery",
        method = "post",
        operation_id = "retry_reply_delivery"
    )]
    async fn retry_delivery(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
        reply_id: Path<String>,
    ) -> ApiResult<DeliveryResult> {
        let id: TicketId = parse_id("id", &id.0)?;
        let reply_id: ReplyId = parse_id("reply_id", &reply_id.0)?;
        let delivery = state.tickets.retry_delivery(&auth.0.scope, id, reply_id).await?;
        Ok(DeliveryResult::Ok(Json(delivery.into())))
    }

    /// Add an internal note: seen by the team only, never sent or emailed to the customer; it
    /// changes neither the status nor the AI draft. Mention colleagues as `@Name`.
    #[oai(path = "/:id/notes", method = "post", operation_id = "create_note")]
    async fn note(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
        body: JsonBody<NoteCreateRequest>,
    ) -> ApiResult<ReplyCreated> {
        let id: TicketId = parse_id("id", &id.0)?;
        let text = body.0.try_into_domain()?;
        let r = state.tickets.note(&auth.0.scope, id, text).await?;
        Ok(ReplyCreated::Created(Json(r.into())))
    }

    /// Edit an unsent AI draft ("Save Draft"); a sent reply is 409 `reply_not_draft`.
    #[oai(path = "/:id/replies/:reply_id", method = "patch", operation_id = "update_draft")]
    async fn update_draft(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<String>,
        reply_id: Path<String>,
        body: JsonBody<DraftUpdateRequest>,
    ) -> ApiResult<ReplyResult> {
        let id: TicketId = parse_id("id", &id.0)?;
        let reply_id: ReplyId = parse_id("reply_id", &reply_id.0)?;
        let text = body.0.try_into_domain()?;
        let r = state.tickets.save_draft(&auth.0.scope, id, reply_id, text).await?;
        Ok(ReplyResult::Ok(Json(r.into())))
    }
}
