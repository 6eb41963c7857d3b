//! Closed vocabularies: roles, channels, statuses, priorities, categories.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A text was not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {expected}")]
pub struct ParseEnumError {
    /// The accepted values, comma-separated.
    pub expected: &'static str,
}

macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The accepted texts, comma-separated (for error messages).
            pub const EXPECTED: &'static str = concat!($($text, ", "),+);

            /// The wire text of this value.
            #[must_use]
            pub const fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseEnumError { expected: Self::EXPECTED.trim_end_matches(", ") }),
                }
            }
        }
    };
}

str_enum!(
    /// What a user may do in a tenant.
    Role {
        /// Manages the workspace and its team, and works tickets.
        Admin => "admin",
        /// Works tickets.
        Agent => "agent",
    }
);

str_enum!(
    /// Where a ticket came from.
    Channel {
        /// Email.
        Email => "email",
        /// Web form (the default).
        Web => "web",
        /// Live chat.
        Chat => "chat",
        /// Phone call.
        Phone => "phone",
        /// Another system, through the API.
        Api => "api",
    }
);

// The enums come from one macro, so Default is written out rather than derived.
#[allow(clippy::derivable_impls)]
impl Default for Channel {
    fn default() -> Self {
        Self::Web
    }
}

str_enum!(
    /// Where a ticket is in its life.
    TicketStatus {
        /// Not yet looked at.
        New => "new",
        /// Being worked.
        Open => "open",
        /// Waiting on the customer or a third party.
        Pending => "pending",
        /// A reply was sent.
        Replied => "replied",
        /// Done.
        Closed => "closed",
    }
);

impl TicketStatus {
    /// The statuses of work still waiting on the team: new, open and pending.
    pub const WAITING: &'static [Self] = &[Self::New, Self::Open, Self::Pending];
}

str_enum!(
    /// The order of a ticket list.
    TicketSort {
        /// Newest first (`created_at` desc, then id desc): the default.
        Created => "created",
        /// Most urgent first (urgent, high, medium, low, unset), oldest first within a priority.
        Priority => "priority",
        /// Most recently changed first (`updated_at` desc, then id desc).
        LastActivity => "last_activity",
        /// Oldest first (`created_at` asc, then id asc): who has waited longest.
        OldestWaiting => "oldest_waiting",
        /// Best match first for a search (the SQLite store ranks with FTS5's bm25, a match in
        /// the subject weighing most; the MongoDB store, whose keyword index has no scores,
        /// lists newest first), then newest first. Without search words, the same as
        /// `created`. Paged by page number: there is no cursor for this order.
        Relevance => "relevance",
    }
);

impl TicketSort {
    /// Whether pages in this order continue from a keyset cursor (every order but relevance,
    /// whose ranks are not a key to continue from).
    #[must_use]
    pub const fn has_cursor(self) -> bool {
        !matches!(self, Self::Relevance)
    }
}

#[allow(clippy::derivable_impls)]
impl Default for TicketSort {
    fn default() -> Self {
        Self::Created
    }
}

str_enum!(
    /// A saved view of the ticket list, shown with its count in the sidebar.
    TicketView {
        /// New, open or pending tickets assigned to the caller.
        MyOpen => "my_open",
        /// New, open or pending tickets assigned to nobody.
        Unassigned => "unassigned",
        /// New, open or pending tickets of urgent or high priority, most urgent first.
        UrgentHigh => "urgent_high",
        /// Every new, open or pending ticket.
        AllOpen => "all_open",
        /// Tickets a reply was sent on.
        Replied => "replied",
        /// Closed tickets.
        Closed => "closed",
    }
);

impl TicketView {
    /// The name shown in the sidebar.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::MyOpen => "My open",
            Self::Unassigned => "Unassigned",
            Self::UrgentHigh => "Urgent & high",
            Self::AllOpen => "All open",
            Self::Replied => "Replied",
            Self::Closed => "Closed",
        }
    }

    /// The statuses the view shows.
    #[must_use]
    pub const fn statuses(self) -> &'static [TicketStatus] {
        match self {
            Self::MyOpen | Self::Unassigned | Self::UrgentHigh | Self::AllOpen => {
                TicketStatus::WAITING
            }
            Self::Replied => &[TicketStatus::Replied],
            Self::Closed => &[TicketStatus::Closed],
        }
    }

    /// The priorities the view shows (empty: any).
    #[must_use]
    pub const fn priorities(self) -> &'static [Priority] {
        match self {
            Self::UrgentHigh => &[Priority::Urgent, Priority::High],
            _ => &[],
        }
    }

    /// The view's order when the caller picks none.
    #[must_use]
    pub const fn sort(self) -> TicketSort {
        match self {
            Self::UrgentHigh => TicketSort::Priority,
            Self::Replied | Self::Closed => TicketSort::LastActivity,
            Self::MyOpen | Self::Unassigned | Self::AllOpen => TicketSort::Created,
        }
    }
}

str_enum!(
    /// How soon a ticket needs attention.
    Priority {
        /// Can wait.
        Low => "low",
        /// Normal.
        Medium => "medium",
        /// Soon.
        High => "high",
        /// Now.
        Urgent => "urgent",
    }
);

impl Priority {
    /// The sort rank of an optional priority: urgent 4, high 3, medium 2, low 1, unset 0. Both
    /// stores keep it beside the priority so "most urgent first" is read from an index.
    #[must_use]
    pub const fn rank(priority: Option<Self>) -> i64 {
        match priority {
            Some(Self::Urgent) => 4,
            Some(Self::High) => 3,
            Some(Self::Medium) => 2,
            Some(Self::Low) => 1,
            None => 0,
        }
    }
}

str_enum!(
    /// What kind of request a ticket is.
    Category {
        /// Something is broken.
        Bug => "bug",
        /// A request for something new.
        FeatureRequest => "feature_request",
        /// Invoices, payments, plans, refunds.
        Billing => "billing",
        /// Questions and how-tos.
        General => "general",
        /// Anything else.
        Other => "other",
    }
);

str_enum!(
    /// Who wrote a reply.
    AuthorType {
        /// A team member.
        Human => "human",
        /// The AI triage workflow (always a draft until a person sends it).
        Ai => "ai",
        /// The customer.
        Customer => "customer",
        /// An internal note by a team member: visible to the team only, never sent or emailed
        /// to the customer, and it does not retire the AI draft.
        Note => "note",
    }
);

str_enum!(
    /// Life cycle of a workflow run.
    RunStatus {
        /// Waiting for a worker.
        Queued => "queued",
        /// A worker is executing it.
        Running => "running",
        /// Finished and persisted.
        Succeeded => "succeeded",
        /// Stopped with an error; the ticket is unchanged.
        Failed => "failed",
    }
);

impl RunStatus {
    /// Whether the run is still in flight (queued or running).
    #[must_use]
    pub const fn is_active(&self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

str_enum!(
    /// The steps of the ticket triage workflow, in order.
    StepType {
        /// Category of the ticket.
        Classification => "classification",
        /// Priority of the ticket.
        Priority => "priority",
        /// Suggested assignee from the team.
        AssigneeSuggestion => "assignee_suggestion",
        /// Drafted reply.
        ReplyDraft => "reply_draft",
        /// Atomic write of the results.
        Persist => "persist",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_value() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(*c));
            assert_eq!(serde_json::to_string(c).ok(), Some(format!("\"{}\"", c.as_str())));
        }
        for s in TicketStatus::ALL {
            assert_eq!(s.as_str().parse::<TicketStatus>(), Ok(*s));
        }
        assert_eq!(Channel::default(), Channel::Web);
    }

    #[test]
    fn unknown_values_list_the_accepted_ones() {
        let err = "critical".parse::<Priority>().expect_err("not a priority");
        assert_eq!(err.expected, "low, medium, high, urgent");
        assert!("Bug".parse::<Category>().is_err(), "case-sensitive");
    }
}
