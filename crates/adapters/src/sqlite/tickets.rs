//! Tickets (with their FTS5 search documents) and replies.

use std::collections::HashMap;

use async_trait::async_trait;
use opsflow_domain::outbox::OutboxMessage;
use opsflow_domain::{
    AssigneeFilter, ReplyBody, ReplyId, TenantId, TenantScope, Ticket, TicketCursor, TicketId,
    TicketListPage, TicketPatch, TicketQuery, TicketReply, TicketSort, TicketStatus, UserId,
    WorkflowRun,
};
use opsflow_ports::repos::{Conflict, ReplyRepository, RepoError, RepoResult, TicketRepository};
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, Sqlite, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::{self, Arg, blob, int, nanos, opt_nanos};
use super::{SqliteStore, db_err};

type Query<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments>;

pub(super) fn bind<'q>(q: Query<'q>, arg: &Arg) -> Query<'q> {
    match arg {
        Arg::Blob(b) => q.bind(b.as_slice()),
        Arg::Text(s) => q.bind(s.as_str()),
        Arg::Int(n) => q.bind(*n),
        Arg::Null => q.bind(None::<i64>),
    }
}

/// Inserts rows of `width` values with multi-row `INSERT`s. Batches have power-of-two sizes so
/// only a handful of distinct statements are prepared and cached.
pub(super) async fn insert_rows(
    conn: &mut SqliteConnection,
    head: &str,
    width: usize,
    rows: &[Vec<Arg>],
) -> RepoResult<()> {
    let tuple = format!("({})", vec!["?"; width].join(", "));
    let mut rest = rows;
    while !rest.is_empty() {
        let n = [64, 32, 16, 8, 4, 2].into_iter().find(|&n| n <= rest.len()).unwrap_or(1);
        let (batch, later) = rest.split_at(n);
        let sql = format!("{head} VALUES {}", vec![tuple.as_str(); n].join(", "));
        let mut q = sqlx::query::<Sqlite>(AssertSqlSafe(sql));
        for arg in batch.iter().flatten() {
            q = bind(q, arg);
        }
        q.execute(&mut *conn).await.map_err(db_err)?;
        rest = later;
    }
    Ok(())
}

const TICKETS_PER_BATCH: usize = 256;

/// Takes `count` consecutive ticket numbers from the tenant's counter and returns the first.
/// Must run inside the write transaction that inserts the tickets: the counter row stays
/// locked until it commits, and a rollback gives the numbers back.
async fn take_numbers(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    count: i64,
) -> RepoResult<i64> {
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO ticket_counters (tenant_id, last_number) VALUES (?, ?) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_number = last_number + excluded.last_number \
         RETURNING last_number",
    )
    .bind(blob(tenant.as_uuid()))
    .bind(count)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(last - count + 1)
}

/// Inserts tickets and their search documents under `tenant`, numbered consecutively from the tenant's
/// counter; returns the first number. Must run inside a write transaction: the integer keys
/// are allocated from the current maximum.
pub(super) async fn insert_tickets(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    tickets: &[Ticket],
) -> RepoResult<u64> {
    let tenant_blob = blob(tenant.as_uuid());
    let first_number = take_numbers(conn, tenant, int(tickets.len())?).await?;
    let mut number = first_number;
    let mut next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM tickets")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    for batch in tickets.chunks(TICKETS_PER_BATCH) {
        let mut ticket_rows = Vec::with_capacity(batch.len());
        let mut search_rows = Vec::with_capacity(batch.len());
        for t in batch {
            let seq = next;
            next += 1;
            ticket_rows.push(vec![
                Arg::Int(seq),
                Arg::Blob(blob(t.id.as_uuid())),
                Arg::Blob(tenant_blob.clone()),
                Arg::Int(number),
                Arg::Text(t.subject.as_str().to_owned()),
                Arg::Text(t.body.as_str().to_owned()),
                Arg::Text(t.channel.as_str().to_owned()),
                Arg::Text(t.status.as_str().to_owned()),
                t.priority.map_or(Arg::Null, |p| Arg::Text(p.as_str().to_owned())),
                t.category.map_or(Arg::Null, |c| Arg::Text(c.as_str().to_owned())),
                Arg::Text(t.customer_name.as_str().to_owned()),
                Arg::Text(t.customer_email.as_str().to_owned()),
                t.assignee_id.map_or(Arg::Null, |a| Arg::Blob(blob(a.as_uuid()))),
                Arg::Blob(rows::creator_blob(t.created_by_id)),
                Arg::Int(nanos(t.created_at)?),
                Arg::Int(nanos(t.updated_at)?),
            ]);
            let prefix = term_prefix(tenant);
            search_rows.push(vec![
                Arg::Int(seq),
                Arg::Text(search_text(&prefix, t.subject.as_str())),
                Arg::Text(search_text(&prefix, t.body.as_str())),
                Arg::Text(search_text(
                    &prefix,
                    &format!("{} {}", t.customer_name.as_str(), t.customer_email.as_str()),
                )),
            ]);
            number += 1;
        }
        insert_rows(
            conn,
            "INSERT INTO tickets (seq, id, tenant_id, number, subject, body, channel, status, \
             priority, category, customer_name, customer_email, assignee_id, created_by_id, \
             created_at, updated_at)",
            16,
            &ticket_rows,
        )
        .await?;
        insert_rows(
            conn,
            "INSERT INTO ticket_search (rowid, subject, body, customer)",
            4,
            &search_rows,
        )
        .await?;
    }
    u64::try_from(first_number).map_err(RepoError::unexpected)
}

/// One row of `table` by tenant and id; another tenant's row is `NotFound` like a missing one.
pub(super) async fn row_in(
    conn: &mut SqliteConnection,
    table: &str,
    cols: &str,
    tenant: TenantId,
    id: uuid::Uuid,
) -> RepoResult<sqlx::sqlite::SqliteRow> {
    sqlx::query::<Sqlite>(AssertSqlSafe(format!(
        "SELECT {cols} FROM {table} WHERE tenant_id = ? AND id = ?"
    )))
    .bind(blob(tenant.as_uuid()))
    .bind(blob(id))
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?
    .ok_or(RepoError::NotFound)
}

pub(super) async fn ticket_in(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: TicketId,
) -> RepoResult<Ticket> {
    rows::ticket(&row_in(conn, "tickets", rows::TICKET_COLS, tenant, id.as_uuid()).await?)
}

/// What every term of a tenant's search documents starts with: `t` and the tenant id in hex
/// (fixed length, so a term's word is whatever follows it).
fn term_prefix(tenant: TenantId) -> String {
    term_prefix_of(tenant.as_uuid())
}

fn term_prefix_of(tenant: Uuid) -> String {
    format!("t{}", tenant.simple())
}

/// `text` as the tenant's search terms: each word of the domain's tokeniser behind the tenant's
/// prefix, space-separated (FTS5's tokeniser then reads each as one term).
fn search_text(prefix: &str, text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for word in opsflow_domain::search::tokens(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(prefix);
        out.push_str(&word);
    }
    out
}

/// The columns a ticket's search document is made of (see [`search_doc`]), for a `WHERE` on
/// `t` to follow.
const SEARCH_SOURCE: &str = "SELECT t.seq, t.tenant_id, t.subject, t.body, \
     t.customer_name || ' ' || t.customer_email AS customer, \
     (SELECT group_concat(r.body, ' ') FROM ticket_replies AS r \
      WHERE r.tenant_id = t.tenant_id AND r.ticket_id = t.id AND r.sent_at IS NOT NULL) \
     AS replies FROM tickets AS t";

/// A search document's row (`rowid`, subject, body, customer, replies) from a
/// [`SEARCH_SOURCE`] row.
fn search_doc(row: &sqlx::sqlite::SqliteRow) -> RepoResult<Vec<Arg>> {
    use sqlx::Row;
    let tenant: Vec<u8> = row.try_get("tenant_id").map_err(db_err)?;
    let tenant = Uuid::from_slice(&tenant).map_err(RepoError::unexpected)?;
    let prefix = term_prefix_of(tenant);
    let text = |col: &str| -> RepoResult<Arg> {
        let raw: Option<String> = row.try_get(col).map_err(db_err)?;
        Ok(Arg::Text(search_text(&prefix, raw.as_deref().unwrap_or(""))))
    };
    Ok(vec![
        Arg::Int(row.try_get("seq").map_err(db_err)?),
        text("subject")?,
        text("body")?,
        text("customer")?,
        text("replies")?,
    ])
}

async fn insert_search_docs(conn: &mut SqliteConnection, docs: &[Vec<Arg>]) -> RepoResult<()> {
    insert_rows(
        conn,
        "INSERT INTO ticket_search (rowid, subject, body, customer, replies)",
        5,
        docs,
    )
    .await
}

/// Rewrites the search document of the ticket with key `seq` from the stored ticket and its
/// sent replies (customer and agent replies, internal notes; not unsent AI drafts). Must run in
/// the write transaction that changed them, so search never sees a half-updated ticket.
async fn refresh_search(conn: &mut SqliteConnection, seq: i64) -> RepoResult<()> {
    sqlx::query::<Sqlite>("DELETE FROM ticket_search WHERE rowid = ?")
        .bind(seq)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!("{SEARCH_SOURCE} WHERE t.seq = ?")))
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    if let Some(row) = row {
        insert_search_docs(conn, &[search_doc(&row)?]).await?;
    }
    Ok(())
}

/// Tickets indexed per transaction while rebuilding the search index.
const REBUILD_BATCH: i64 = 500;

/// Fills the search index from the tickets and their replies if a migration marked it for a
/// rebuild (SQL cannot run the tokeniser), in batches of [`REBUILD_BATCH`] tickets in `seq`
/// order, each batch in its own transaction, then clears the mark. An interrupted rebuild goes
/// on after the highest indexed ticket at the next start.
///
/// # Errors
/// [`RepoError::Unexpected`].
pub(super) async fn rebuild_search_if_marked(pool: &sqlx::SqlitePool) -> RepoResult<()> {
    use sqlx::Row;
    let rebuilt: i64 = sqlx::query_scalar("SELECT rebuilt FROM search_index WHERE id = 1")
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    if rebuilt != 0 {
        return Ok(());
    }
    let mut after: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(rowid), 0) FROM ticket_search")
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    loop {
        let mut tx = pool.begin().await.map_err(db_err)?;
        let rows = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "{SEARCH_SOURCE} WHERE t.seq > ? ORDER BY t.seq LIMIT ?"
        )))
        .bind(after)
        .bind(REBUILD_BATCH)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(last) = rows.last() else {
            sqlx::query::<Sqlite>("UPDATE search_index SET rebuilt = 1 WHERE id = 1")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            return Ok(());
        };
        after = last.try_get("seq").map_err(db_err)?;
        let docs = rows.iter().map(search_doc).collect::<RepoResult<Vec<_>>>()?;
        insert_search_docs(&mut tx, &docs).await?;
        tx.commit().await.map_err(db_err)?;
    }
}

/// The FTS5 `MATCH` expression of a search: every word as a prefix of the tenant's terms
/// (`"t<tenant>invoi"*`, see [`term_prefix`]). The words come from `opsflow_domain::search::tokens`
/// (letters and digits only), and each is quoted anyway (a `"` doubled), so nothing a user
/// types is read as FTS5 syntax (`NEAR`, `-`, `:`, `*`, parentheses, quotes). `None` without
/// words.
fn match_expr(tenant: TenantId, words: &[String]) -> Option<String> {
    if words.is_empty() {
        return None;
    }
    let prefix = term_prefix(tenant);
    let terms: Vec<String> =
        words.iter().map(|w| format!("\"{prefix}{}\"*", w.replace('"', "\"\""))).collect();
    Some(terms.join(" AND "))
}

/// Applies `patch` to the stored ticket and returns the result. Must run inside a write
/// transaction: when the subject or customer changes, the ticket's search document is
/// rewritten in the same transaction, so search never sees a half-updated ticket.
pub(super) async fn patch_ticket(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: TicketId,
    patch: &TicketPatch,
    now: OffsetDateTime,
) -> RepoResult<Ticket> {
    let mut ticket = ticket_in(conn, tenant, id).await?;
    patch.apply_to(&mut ticket, now);
    let seq: i64 = sqlx::query_scalar(
        "UPDATE tickets SET subject = ?, customer_name = ?, customer_email = ?, status = ?, \
         priority = ?, category = ?, assignee_id = ?, updated_at = ? \
         WHERE tenant_id = ? AND id = ? RETURNING seq",
    )
    .bind(ticket.subject.as_str())
    .bind(ticket.customer_name.as_str())
    .bind(ticket.customer_email.as_str())
    .bind(ticket.status.as_str())
    .bind(ticket.priority.map(|p| p.as_str()))
    .bind(ticket.category.map(|c| c.as_str()))
    .bind(ticket.assignee_id.map(|a| blob(a.as_uuid())))
    .bind(nanos(ticket.updated_at)?)
    .bind(blob(tenant.as_uuid()))
    .bind(blob(id.as_uuid()))
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    if patch.changes_search_text() {
        refresh_search(conn, seq).await?;
    }
    Ok(ticket)
}

/// How many matches make a search "broad": below this, the matching tickets are fetched by key
/// from the FTS5 result and sorted; above it, walking the tenant's tickets in the list's order
/// and probing the (materialised) match set is cheaper.
const SELECTIVE_MATCHES: i64 = 2_000;

/// A planned search: the `MATCH` expression (see [`match_expr`]), and the matching documents'
/// rowids (= `tickets.seq`) when there are fewer than [`SELECTIVE_MATCHES`]. One walk of the
/// FTS5 doclists, stopped at [`SELECTIVE_MATCHES`], answers both "is it selective?" and, for a
/// selective search, which tickets match and how many: the page query then looks those tickets
/// up by key and a pure search's count needs no second `MATCH`.
struct SearchPlan {
    expr: String,
    /// The matching rowids, when the search is selective.
    matches: Option<Vec<i64>>,
}

impl SearchPlan {
    const fn is_selective(&self) -> bool {
        self.matches.is_some()
    }

    /// The exact number of matches, when the search is selective.
    fn exact_matches(&self) -> Option<u64> {
        self.matches.as_ref().map(|m| m.len() as u64)
    }
}

/// Plans the query's search (see [`SearchPlan`]); `None` without search words.
async fn plan_search(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    words: &[String],
) -> RepoResult<Option<SearchPlan>> {
    let Some(expr) = match_expr(tenant, words) else {
        return Ok(None);
    };
    let found: Vec<i64> =
        sqlx::query_scalar("SELECT rowid FROM ticket_search WHERE ticket_search MATCH ? LIMIT ?")
            .bind(expr.as_str())
            .bind(SELECTIVE_MATCHES)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
    let selective = i64::try_from(found.len()).unwrap_or(i64::MAX) < SELECTIVE_MATCHES;
    Ok(Some(SearchPlan { expr, matches: selective.then_some(found) }))
}

/// `WHERE` clause and arguments for a ticket list. `search` is the planned search (see
/// [`plan_search`]); when selective, the query is driven by its matches, looked up by key.
fn list_filter(
    tenant: TenantId,
    query: &TicketQuery,
    search: Option<&SearchPlan>,
) -> (String, Vec<Arg>) {
    let tenant_blob = blob(tenant.as_uuid());
    // `+tenant_id` stops SQLite from walking the tenant's index, so it looks the few matching
    // tickets up by key instead (the match expression is confined to the tenant).
    let mut sql = String::from(if search.is_some_and(SearchPlan::is_selective) {
        "+tenant_id = ?"
    } else {
        "tenant_id = ?"
    });
    let mut args = vec![Arg::Blob(tenant_blob)];
    in_list(&mut sql, &mut args, "status", query.statuses.iter().map(|s| s.as_str()));
    in_list(&mut sql, &mut args, "priority", query.priorities.iter().map(|p| p.as_str()));
    if let Some(c) = query.category {
        sql.push_str(" AND category = ?");
        args.push(Arg::Text(c.as_str().to_owned()));
    }
    if let Some(n) = query.number {
        sql.push_str(" AND number = ?");
        args.push(Arg::Int(i64::try_from(n).unwrap_or(-1)));
    }
    match query.assignee {
        Some(AssigneeFilter::User(u)) => {
            sql.push_str(" AND assignee_id = ?");
            args.push(Arg::Blob(blob(u.as_uuid())));
        }
        Some(AssigneeFilter::Unassigned) => sql.push_str(" AND assignee_id IS NULL"),
        None => {}
    }
    match search {
        Some(SearchPlan { matches: Some(rowids), .. }) => {
            // The matches are already known: a JSON array of rowids, read by `json_each`, is
            // one bound argument however many there are.
            sql.push_str(" AND seq IN (SELECT value FROM json_each(?))");
            let list: Vec<String> = rowids.iter().map(i64::to_string).collect();
            args.push(Arg::Text(format!("[{}]", list.join(","))));
        }
        Some(SearchPlan { expr, matches: None }) => {
            sql.push_str(
                " AND seq IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?)",
            );
            args.push(Arg::Text(expr.clone()));
        }
        None => {}
    }
    (sql, args)
}

/// Appends ` AND column IN (?, ...)` for a non-empty list of values.
fn in_list<'a>(
    sql: &mut String,
    args: &mut Vec<Arg>,
    column: &str,
    values: impl ExactSizeIterator<Item = &'a str>,
) {
    if values.len() == 0 {
        return;
    }
    let marks = vec!["?"; values.len()].join(", ");
    for part in [" AND ", column, " IN (", &marks, ")"] {
        sql.push_str(part);
    }
    args.extend(values.map(|v| Arg::Text(v.to_owned())));
}

/// The `ORDER BY` of a ticket list; each has an index that starts with the tenant.
const fn order_by(sort: TicketSort) -> &'static str {
    match sort {
        TicketSort::Created | TicketSort::Relevance => "created_at DESC, id DESC",
        TicketSort::Priority => "priority_rank DESC, created_at ASC, id ASC",
        TicketSort::LastActivity => "updated_at DESC, id DESC",
        TicketSort::OldestWaiting => "created_at ASC, id ASC",
    }
}

/// The count of a broad pure search (search words and no other filter) from the FTS5 index
/// alone: its documents carry their ticket's tenant, so the tickets table is not touched. `None`
/// when the query has other filters (or no search), which need the tickets' columns.
fn search_count(
    query: &TicketQuery,
    search: Option<&SearchPlan>,
    cap: Option<u64>,
) -> Option<(String, Vec<Arg>)> {
    let SearchPlan { expr, .. } = search.filter(|_| !query.has_field_filters())?;
    let mut sql = String::from(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM ticket_search WHERE ticket_search MATCH ?",
    );
    let mut args = vec![Arg::Text(expr.clone())];
    if let Some(cap) = cap {
        sql.push_str(" LIMIT ?");
        args.push(Arg::Int(i64::try_from(cap).unwrap_or(i64::MAX)));
    }
    sql.push(')');
    Some((sql, args))
}

/// ` AND <the rows after the cursor>` for keyset paging, in the order of [`order_by`].
fn after_cursor(cursor: &TicketCursor) -> RepoResult<(&'static str, Vec<Arg>)> {
    let at = Arg::Int(nanos(cursor.at)?);
    let id = Arg::Blob(blob(cursor.id.as_uuid()));
    Ok(match cursor.sort {
        // Relevance has no cursor (the domain refuses one); newest first like its order.
        TicketSort::Created | TicketSort::Relevance => {
            (" AND (created_at, id) < (?, ?)", vec![at, id])
        }
        TicketSort::OldestWaiting => (" AND (created_at, id) > (?, ?)", vec![at, id]),
        TicketSort::LastActivity => (" AND (updated_at, id) < (?, ?)", vec![at, id]),
        // The first conjunct bounds the index range; the second skips the cursor's own rank
        // up to and including the cursor's ticket.
        TicketSort::Priority => (
            " AND priority_rank <= ? AND (priority_rank < ? OR (created_at, id) > (?, ?))",
            vec![Arg::Int(cursor.rank), Arg::Int(cursor.rank), at, id],
        ),
    })
}

/// The planned search (see [`plan_search`]) and the `WHERE` clause with its arguments of a
/// list.
async fn planned_filter(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    query: &TicketQuery,
) -> RepoResult<(Option<SearchPlan>, String, Vec<Arg>)> {
    let search = plan_search(conn, tenant, &query.search).await?;
    let (filter, args) = list_filter(tenant, query, search.as_ref());
    Ok((search, filter, args))
}

/// How many tickets match (at most `cap` when given): for a pure search from the planned
/// matches or the FTS5 index alone, otherwise a `COUNT` over the filter (served by the
/// tenant's indexes).
async fn count_rows(
    conn: &mut SqliteConnection,
    query: &TicketQuery,
    search: Option<&SearchPlan>,
    filter: &str,
    args: &[Arg],
    cap: Option<u64>,
) -> RepoResult<u64> {
    if let Some(n) = search.and_then(SearchPlan::exact_matches)
        && !query.has_field_filters()
    {
        return Ok(cap.map_or(n, |cap| n.min(cap)));
    }
    if let (Some(plan), Some(cap), false) = (search, cap, query.has_field_filters()) {
        // A broad pure search has at least `SELECTIVE_MATCHES` matches, past any cap.
        if !plan.is_selective() && u64::try_from(SELECTIVE_MATCHES).is_ok_and(|m| m >= cap) {
            return Ok(cap);
        }
    }
    let (count_sql, count_args) = search_count(query, search, cap).unwrap_or_else(|| match cap {
        None => (format!("SELECT COUNT(*) AS n FROM tickets WHERE {filter}"), args.to_vec()),
        Some(cap) => {
            let mut args = args.to_vec();
            args.push(Arg::Int(i64::try_from(cap).unwrap_or(i64::MAX)));
            (
                format!("SELECT COUNT(*) AS n FROM (SELECT 1 FROM tickets WHERE {filter} LIMIT ?)"),
                args,
            )
        }
    });
    let mut count = sqlx::query::<Sqlite>(AssertSqlSafe(count_sql));
    for a in &count_args {
        count = bind(count, a);
    }
    let total: i64 = {
        use sqlx::Row;
        let row = count.fetch_one(&mut *conn).await.map_err(db_err)?;
        row.try_get("n").map_err(RepoError::unexpected)?
    };
    u64::try_from(total).map_err(RepoError::unexpected)
}

/// The exact count of a query that filters on status, priority and assignee only (every view
/// of the list) as a sum over the tenant's `ticket_counts` rows, which triggers keep in the
/// transaction of every ticket write. `None` for a query with other filters or a search.
fn counter_sum(tenant: TenantId, query: &TicketQuery) -> Option<(String, Vec<Arg>)> {
    if query.category.is_some() || query.number.is_some() || !query.search.is_empty() {
        return None;
    }
    let mut sql =
        String::from("SELECT COALESCE(SUM(n), 0) AS n FROM ticket_counts WHERE tenant_id = ?");
    let mut args = vec![Arg::Blob(blob(tenant.as_uuid()))];
    in_list(&mut sql, &mut args, "status", query.statuses.iter().map(|s| s.as_str()));
    in_list(&mut sql, &mut args, "priority", query.priorities.iter().map(|p| p.as_str()));
    match query.assignee {
        Some(AssigneeFilter::User(u)) => {
            sql.push_str(" AND assignee_id = ?");
            args.push(Arg::Blob(blob(u.as_uuid())));
        }
        Some(AssigneeFilter::Unassigned) => sql.push_str(" AND assignee_id = x''"),
        None => {}
    }
    Some((sql, args))
}

/// The exact count of `query` from the counters (see [`counter_sum`]), or `None` when the
/// query filters on more than status, priority and assignee.
async fn counted_by_counters(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    query: &TicketQuery,
) -> RepoResult<Option<u64>> {
    let Some((sql, args)) = counter_sum(tenant, query) else {
        return Ok(None);
    };
    let mut q = sqlx::query_scalar::<Sqlite, i64>(AssertSqlSafe(sql));
    for a in &args {
        q = match a {
            Arg::Blob(b) => q.bind(b.clone()),
            Arg::Text(t) => q.bind(t.clone()),
            Arg::Int(n) => q.bind(*n),
            Arg::Null => q.bind(None::<i64>),
        };
    }
    let n = q.fetch_one(&mut *conn).await.map_err(db_err)?;
    u64::try_from(n).map(Some).map_err(RepoError::unexpected)
}

#[async_trait]
impl TicketRepository for SqliteStore {
    async fn count(&self, scope: &TenantScope, query: &TicketQuery) -> RepoResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        if let Some(n) = counted_by_counters(&mut conn, scope.tenant_id(), query).await? {
            return Ok(n);
        }
        let (search, filter, args) = planned_filter(&mut conn, scope.tenant_id(), query).await?;
        count_rows(&mut conn, query, search.as_ref(), &filter, &args, None).await
    }

    async fn create(&self, scope: &TenantScope, ticket: &Ticket) -> RepoResult<u64> {
        let mut tx = self.begin_write().await?;
        let number =
            insert_tickets(&mut tx, scope.tenant_id(), std::slice::from_ref(ticket)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(number)
    }

    async fn create_with_run(
        &self,
        scope: &TenantScope,
        ticket: &Ticket,
        run: &WorkflowRun,
    ) -> RepoResult<u64> {
        let mut tx = self.begin_write().await?;
        let number =
            insert_tickets(&mut tx, scope.tenant_id(), std::slice::from_ref(ticket)).await?;
        super::workflow::insert_run(&mut tx, scope.tenant_id(), ticket.id, run).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(number)
    }

    async fn create_many(
        &self,
        scope: &TenantScope,
        tickets: &[Ticket],
    ) -> RepoResult<Option<u64>> {
        if tickets.is_empty() {
            return Ok(None);
        }
        let mut tx = self.begin_write().await?;
        let first = insert_tickets(&mut tx, scope.tenant_id(), tickets).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(first))
    }

    async fn get_by_number(&self, scope: &TenantScope, number: u64) -> RepoResult<Ticket> {
        let Ok(number) = i64::try_from(number) else {
            return Err(RepoError::NotFound);
        };
        let row = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM tickets WHERE tenant_id = ? AND number = ?",
            rows::TICKET_COLS
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(number)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(RepoError::NotFound)?;
        rows::ticket(&row)
    }

    async fn get(&self, scope: &TenantScope, id: TicketId) -> RepoResult<Ticket> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        ticket_in(&mut conn, scope.tenant_id(), id).await
    }

    async fn list(&self, scope: &TenantScope, query: &TicketQuery) -> RepoResult<TicketListPage> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let tenant = scope.tenant_id();
        let (search, mut filter, mut args) = planned_filter(&mut conn, tenant, query).await?;
        let cap = TicketListPage::COUNT_CAP + 1;
        // Every view (status, priority and assignee filters only) is counted from the counters,
        // a few rows, instead of walking up to `cap` index entries on every page.
        let counted = match counted_by_counters(&mut conn, tenant, query).await? {
            Some(n) => n.min(cap),
            None => {
                count_rows(&mut conn, query, search.as_ref(), &filter, &args, Some(cap)).await?
            }
        };
        let offset = match &query.after {
            Some(cursor) => {
                let (condition, more) = after_cursor(cursor)?;
                filter.push_str(condition);
                args.extend(more);
                0
            }
            None if counted < cap && counted <= query.offset() => {
                return Ok(TicketListPage::from_rows(
                    Vec::new(),
                    query.page_size,
                    query.sort,
                    counted,
                ));
            }
            None => query.offset(),
        };
        let ranked = search.as_ref().filter(|_| query.sort == TicketSort::Relevance);
        let sql = match ranked {
            // Best match first: FTS5's bm25 (lower is better), a word in the subject counting
            // ten times one in the body, the customer four times, the replies once.
            Some(_) => format!(
                "SELECT {} FROM tickets JOIN (SELECT rowid AS hit, \
                 bm25(ticket_search, 10.0, 1.0, 4.0, 1.0) AS score \
                 FROM ticket_search WHERE ticket_search MATCH ?) AS ranked \
                 ON ranked.hit = tickets.seq \
                 WHERE {filter} ORDER BY ranked.score, created_at DESC, id DESC LIMIT ? OFFSET ?",
                rows::TICKET_COLS,
            ),
            None => format!(
                "SELECT {} FROM tickets WHERE {filter} ORDER BY {} LIMIT ? OFFSET ?",
                rows::TICKET_COLS,
                order_by(query.sort)
            ),
        };
        let mut page = sqlx::query::<Sqlite>(AssertSqlSafe(sql));
        if let Some(plan) = ranked {
            page = page.bind(plan.expr.clone());
        }
        for a in &args {
            page = bind(page, a);
        }
        let found = page
            .bind(i64::from(query.page_size) + 1)
            .bind(int(offset)?)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        Ok(TicketListPage::from_rows(
            rows::all(&found, rows::ticket)?,
            query.page_size,
            query.sort,
            counted,
        ))
    }

    async fn update(
        &self,
        scope: &TenantScope,
        id: TicketId,
        patch: &TicketPatch,
        now: OffsetDateTime,
    ) -> RepoResult<Ticket> {
        let mut tx = self.begin_write().await?;
        let ticket = patch_ticket(&mut tx, scope.tenant_id(), id, patch, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ticket)
    }

    async fn open_counts_by_assignee(
        &self,
        scope: &TenantScope,
    ) -> RepoResult<HashMap<UserId, u64>> {
        let found: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "SELECT assignee_id, SUM(n) FROM ticket_counts \
             WHERE tenant_id = ? AND assignee_id != x'' AND status IN ('new', 'open', 'pending') \
             GROUP BY assignee_id HAVING SUM(n) > 0",
        )
        .bind(blob(scope.tenant_id().as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        found
            .into_iter()
            .map(|(id, n)| {
                let id = Uuid::from_slice(&id).map_err(RepoError::unexpected)?;
                let n = u64::try_from(n).map_err(RepoError::unexpected)?;
                Ok((UserId::from_uuid(id), n))
            })
            .collect()
    }
}

/// Removes the unsent AI drafts of a ticket: one AI draft per ticket, and none once a person
/// answered (their text stays in the triage run's `reply_draft` step).
pub(super) async fn retire_ai_drafts(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    ticket_id: TicketId,
) -> RepoResult<()> {
    sqlx::query::<Sqlite>(
        "DELETE FROM ticket_replies WHERE tenant_id = ? AND ticket_id = ? \
         AND author_type = 'ai' AND sent_at IS NULL",
    )
    .bind(blob(tenant.as_uuid()))
    .bind(blob(ticket_id.as_uuid()))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Inserts a reply under `tenant` (the struct's tenant is not trusted). A sent message (a
/// customer or agent reply, an internal note) is activity on the ticket: it moves the ticket's
/// `updated_at` (last activity) up to when it was sent, and its text joins the ticket's search
/// document, in the caller's transaction. Unsent AI drafts do neither.
pub(super) async fn insert_reply(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    ticket_id: TicketId,
    reply: &TicketReply,
) -> RepoResult<()> {
    sqlx::query::<Sqlite>(
        "INSERT INTO ticket_replies (id, tenant_id, ticket_id, author_type, author_id, body, \
         sent_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(blob(reply.id.as_uuid()))
    .bind(blob(tenant.as_uuid()))
    .bind(blob(ticket_id.as_uuid()))
    .bind(reply.author_type.as_str())
    .bind(reply.author_id.map(|a| blob(a.as_uuid())))
    .bind(reply.body.as_str())
    .bind(opt_nanos(reply.sent_at)?)
    .bind(nanos(reply.created_at)?)
    .bind(nanos(reply.updated_at)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    if let Some(sent_at) = reply.sent_at {
        let seq: i64 = sqlx::query_scalar(
            "UPDATE tickets SET updated_at = max(updated_at, ?) \
             WHERE tenant_id = ? AND id = ? RETURNING seq",
        )
        .bind(nanos(sent_at)?)
        .bind(blob(tenant.as_uuid()))
        .bind(blob(ticket_id.as_uuid()))
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or(RepoError::NotFound)?;
        refresh_search(conn, seq).await?;
    }
    Ok(())
}

async fn reply_in(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: ReplyId,
) -> RepoResult<TicketReply> {
    rows::reply(&row_in(conn, "ticket_replies", rows::REPLY_COLS, tenant, id.as_uuid()).await?)
}

impl SqliteStore {
    /// [`ReplyRepository::add`], also inserting `email` into the outbox in the same transaction.
    pub(super) async fn add_reply(
        &self,
        scope: &TenantScope,
        reply: &TicketReply,
        set_status: Option<TicketStatus>,
        consume_draft: Option<ReplyId>,
        email: Option<&OutboxMessage>,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        let tenant = scope.tenant_id();
        if email.is_some_and(|e| {
            e.tenant_id != tenant || e.reply_id != reply.id || e.ticket_id != reply.ticket_id
        }) {
            return Err(RepoError::NotFound);
        }
        let mut tx = self.begin_write().await?;
        // Dropping the transaction on any early return rolls everything back.
        ticket_in(&mut tx, tenant, reply.ticket_id).await?;
        if let Some(draft_id) = consume_draft {
            let draft = reply_in(&mut tx, tenant, draft_id).await?;
            if draft.ticket_id != reply.ticket_id {
                return Err(RepoError::NotFound);
            }
            if !draft.is_draft() || draft.author_type != opsflow_domain::AuthorType::Ai {
                return Err(RepoError::Conflict(Conflict::NotDraft));
            }
            sqlx::query::<Sqlite>("DELETE FROM ticket_replies WHERE tenant_id = ? AND id = ?")
                .bind(blob(tenant.as_uuid()))
                .bind(blob(draft_id.as_uuid()))
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        // A person's (or the customer's) message retires the AI drafts; a note is internal.
        if reply.sent_at.is_some()
            && !matches!(
                reply.author_type,
                opsflow_domain::AuthorType::Ai | opsflow_domain::AuthorType::Note
            )
        {
            retire_ai_drafts(&mut tx, tenant, reply.ticket_id).await?;
        }
        insert_reply(&mut tx, tenant, reply.ticket_id, reply).await?;
        if let Some(email) = email {
            super::outbox::insert_email(&mut tx, email).await?;
        }
        if let Some(status) = set_status {
            sqlx::query::<Sqlite>(
                "UPDATE tickets SET status = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
            )
            .bind(status.as_str())
            .bind(nanos(now)?)
            .bind(blob(tenant.as_uuid()))
            .bind(blob(reply.ticket_id.as_uuid()))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}

#[async_trait]
impl ReplyRepository for SqliteStore {
    async fn add(
        &self,
        scope: &TenantScope,
        reply: &TicketReply,
        set_status: Option<TicketStatus>,
        consume_draft: Option<ReplyId>,
        now: OffsetDateTime,
    ) -> RepoResult<()> {
        self.add_reply(scope, reply, set_status, consume_draft, None, now).await
    }

    async fn list(&self, scope: &TenantScope, ticket_id: TicketId) -> RepoResult<Vec<TicketReply>> {
        let found = sqlx::query::<Sqlite>(AssertSqlSafe(format!(
            "SELECT {} FROM ticket_replies WHERE tenant_id = ? AND ticket_id = ? \
             ORDER BY created_at, id",
            rows::REPLY_COLS
        )))
        .bind(blob(scope.tenant_id().as_uuid()))
        .bind(blob(ticket_id.as_uuid()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows::all(&found, rows::reply)
    }

    async fn update_draft(
        &self,
        scope: &TenantScope,
        id: ReplyId,
        body: &ReplyBody,
        now: OffsetDateTime,
    ) -> RepoResult<TicketReply> {
        let tenant = scope.tenant_id();
        let mut tx = self.begin_write().await?;
        let mut reply = reply_in(&mut tx, tenant, id).await?;
        if !reply.is_draft() {
            return Err(RepoError::Conflict(Conflict::NotDraft));
        }
        sqlx::query::<Sqlite>(
            "UPDATE ticket_replies SET body = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ? AND sent_at IS NULL",
        )
        .bind(body.as_str())
        .bind(nanos(now)?)
        .bind(blob(tenant.as_uuid()))
        .bind(blob(id.as_uuid()))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        reply.body = body.clone();
        reply.updated_at = now;
        Ok(reply)
    }
}
