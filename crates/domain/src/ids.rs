//! Typed identifiers: UUIDv7 wrappers that cannot be mixed up.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The text given for an id is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id: expected a UUID")]
pub struct IdError;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (UUIDv7) id.
            #[must_use]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (for adapters loading stored rows).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// Parses the canonical text form.
            ///
            /// # Errors
            /// [`IdError`] when `raw` is not a UUID.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                Uuid::parse_str(raw.trim()).map(Self).map_err(|_| IdError)
            }

            /// The wrapped UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

define_id!(
    /// Identifies a tenant (an agency workspace).
    TenantId
);
define_id!(
    /// Identifies a user within a tenant.
    UserId
);
define_id!(
    /// Identifies a ticket.
    TicketId
);
define_id!(
    /// Identifies a reply on a ticket.
    ReplyId
);
define_id!(
    /// Identifies a workflow run.
    WorkflowRunId
);
define_id!(
    /// Identifies one step of a workflow run.
    WorkflowStepId
);
define_id!(
    /// Identifies an entry of a workspace's audit log.
    AuditEventId
);
define_id!(
    /// Identifies a file that came with an email.
    AttachmentId
);
define_id!(
    /// Identifies a signed-in session (the `jti` of its access token).
    SessionId
);

define_id!(
    /// Identifies a webhook endpoint.
    WebhookEndpointId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_v7_and_ordered() {
        let a = TicketId::new();
        let b = TicketId::new();
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a <= b);
    }

    #[test]
    fn parse_round_trips_and_rejects_garbage() {
        let id = UserId::new();
        assert_eq!(UserId::parse(&id.to_string()), Ok(id));
        assert_eq!(UserId::parse("not-a-uuid"), Err(IdError));
        assert_eq!(UserId::parse(""), Err(IdError));
    }
}
