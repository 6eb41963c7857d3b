//! Keyset paging of the ticket list: a cursor holds the sort key of the last ticket of a page,
//! and the next page starts strictly after it. Unlike an offset, the cost of a page does not
//! grow with how deep it is, and tickets created or changed meanwhile do not shift the pages.

use time::OffsetDateTime;

use crate::{Priority, Ticket, TicketId, TicketSort};

/// Where a page of the ticket list starts: just after the ticket with this sort key.
///
/// Written to clients as an opaque token ([`TicketCursor::encode`]); a token is only valid for
/// the sort it was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketCursor {
    /// The order the cursor belongs to.
    pub sort: TicketSort,
    /// The ticket's priority rank ([`Priority::rank`]); only the priority order uses it.
    pub rank: i64,
    /// `updated_at` for the last-activity order, else `created_at`.
    pub at: OffsetDateTime,
    /// The tie-breaker.
    pub id: TicketId,
}

/// Why a cursor token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not a token this server wrote.
    #[error("is not a valid cursor (use next_cursor from a previous page)")]
    Malformed,
    /// Written for another sort order.
    #[error("was made for another sort order")]
    OtherSort,
    /// The order has no cursor (relevance): pages are asked for by number.
    #[error("cannot be used with this sort order; ask for pages by number")]
    NoCursor,
}

const VERSION: &str = "t1";

impl TicketCursor {
    /// The cursor just after `ticket` in `sort` order.
    #[must_use]
    pub fn after(ticket: &Ticket, sort: TicketSort) -> Self {
        let at = match sort {
            TicketSort::LastActivity => ticket.updated_at,
            TicketSort::Created
            | TicketSort::Priority
            | TicketSort::OldestWaiting
            | TicketSort::Relevance => ticket.created_at,
        };
        Self { sort, rank: Priority::rank(ticket.priority), at, id: ticket.id }
    }

    /// The token clients pass back (`t1.<sort>.<rank>.<unix nanos>.<id>`; only URL-safe
    /// characters). Clients must treat it as opaque.
    #[must_use]
    pub fn encode(&self) -> String {
        format!(
            "{VERSION}.{}.{}.{}.{}",
            self.sort.as_str(),
            self.rank,
            self.at.unix_timestamp_nanos(),
            self.id.as_uuid().simple()
        )
    }

    /// Reads a token written by [`TicketCursor::encode`] for `sort`.
    ///
    /// # Errors
    /// [`CursorError::Malformed`] for anything else; [`CursorError::OtherSort`] when it was
    /// written for another order; [`CursorError::NoCursor`] for an order without cursors.
    pub fn decode(token: &str, sort: TicketSort) -> Result<Self, CursorError> {
        if !sort.has_cursor() {
            return Err(CursorError::NoCursor);
        }
        let mut parts = token.split('.');
        let mut next = || parts.next().ok_or(CursorError::Malformed);
        if next()? != VERSION {
            return Err(CursorError::Malformed);
        }
        let token_sort: TicketSort = next()?.parse().map_err(|_| CursorError::Malformed)?;
        let rank: i64 = next()?.parse().map_err(|_| CursorError::Malformed)?;
        // Stores keep nanoseconds in 64 bits (years 1677 to 2262).
        let nanos: i64 = next()?.parse().map_err(|_| CursorError::Malformed)?;
        let id = TicketId::parse(next()?).map_err(|_| CursorError::Malformed)?;
        if parts.next().is_some() || !(0..=4).contains(&rank) {
            return Err(CursorError::Malformed);
        }
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
            .map_err(|_| CursorError::Malformed)?;
        if token_sort != sort {
            return Err(CursorError::OtherSort);
        }
        Ok(Self { sort, rank, at, id })
    }
}

/// One page of the ticket list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketListPage {
    /// The tickets, in the requested order.
    pub items: Vec<Ticket>,
    /// How many tickets match, counted up to [`TicketListPage::COUNT_CAP`].
    pub total: u64,
    /// `false` when more than [`TicketListPage::COUNT_CAP`] match (`total` is then the cap:
    /// "1,000+").
    pub total_exact: bool,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<TicketCursor>,
}

impl TicketListPage {
    /// Lists count matching tickets exactly up to this many; beyond, they say "at least".
    pub const COUNT_CAP: u64 = 1_000;

    /// A page from up to `page_size + 1` tickets read in order: the extra one only tells that
    /// there is a next page. `counted` is a count of at most `COUNT_CAP + 1`.
    #[must_use]
    pub fn from_rows(
        mut rows: Vec<Ticket>,
        page_size: u32,
        sort: TicketSort,
        counted: u64,
    ) -> Self {
        let size = usize::try_from(page_size).unwrap_or(usize::MAX);
        let more = rows.len() > size;
        rows.truncate(size);
        // A rank is not a key to continue from: relevance is paged by page number.
        let next = if more && sort.has_cursor() {
            rows.last().map(|t| TicketCursor::after(t, sort))
        } else {
            None
        };
        Self {
            items: rows,
            total: counted.min(Self::COUNT_CAP),
            total_exact: counted <= Self::COUNT_CAP,
            next,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn cursor(sort: TicketSort) -> TicketCursor {
        TicketCursor {
            sort,
            rank: 3,
            at: datetime!(2026-12-01 10:00:00.123456789 UTC),
            id: TicketId::new(),
        }
    }

    #[test]
    fn tokens_round_trip_for_every_sort_and_are_url_safe() {
        for &sort in TicketSort::ALL.iter().filter(|s| s.has_cursor()) {
            let c = cursor(sort);
            let token = c.encode();
            assert!(token.chars().all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch)));
            assert_eq!(TicketCursor::decode(&token, sort), Ok(c));
        }
    }

    #[test]
    fn relevance_pages_by_number_without_a_cursor() {
        let token = cursor(TicketSort::Created).encode();
        assert_eq!(TicketCursor::decode(&token, TicketSort::Relevance), Err(CursorError::NoCursor));
        let ticket = |n: u64| Ticket {
            id: TicketId::new(),
            tenant_id: crate::TenantId::new(),
            number: n,
            subject: crate::TicketSubject::new("Invoice").expect("subject"),
            body: crate::TicketBody::new("body").expect("body"),
            channel: crate::Channel::Web,
            status: crate::TicketStatus::Open,
            priority: None,
            category: None,
            customer_name: crate::PersonName::new("Ann").expect("name"),
            customer_email: crate::Email::parse("ann@example.com").expect("email"),
            assignee_id: None,
            created_by_id: None,
            created_at: datetime!(2026-12-01 10:00 UTC),
            updated_at: datetime!(2026-12-01 10:00 UTC),
        };
        let rows = vec![ticket(1), ticket(2), ticket(3)];
        let page = TicketListPage::from_rows(rows.clone(), 2, TicketSort::Relevance, 3);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, None, "a ranked page has no cursor");
        let page = TicketListPage::from_rows(rows, 2, TicketSort::Created, 3);
        assert!(page.next.is_some());
    }

    #[test]
    fn foreign_or_altered_tokens_are_refused() {
        let token = cursor(TicketSort::Created).encode();
        assert_eq!(TicketCursor::decode(&token, TicketSort::Priority), Err(CursorError::OtherSort));
        for bad in [
            "",
            "garbage",
            "t1.created",
            "t2.created.0.1.0196a1b2c3d4e5f60718293a4b5c6d7e",
            "t1.sideways.0.1.0196a1b2c3d4e5f60718293a4b5c6d7e",
            "t1.created.9.1.0196a1b2c3d4e5f60718293a4b5c6d7e",
            "t1.created.0.x.0196a1b2c3d4e5f60718293a4b5c6d7e",
            "t1.created.0.1.not-a-uuid",
            "t1.created.0.1.0196a1b2c3d4e5f60718293a4b5c6d7e.extra",
            "t1.created.0.99999999999999999999999999999.0196a1b2c3d4e5f60718293a4b5c6d7e",
        ] {
            assert_eq!(
                TicketCursor::decode(bad, TicketSort::Created),
                Err(CursorError::Malformed),
                "{bad}"
            );
        }
    }
}
