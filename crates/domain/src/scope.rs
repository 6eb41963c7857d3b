//! The tenant scope every repository call is made under.

use crate::{Role, TenantId, UserId};

/// Who is acting, in which tenant. Built by the HTTP auth layer from a verified token (or by the
/// signup/login services for the user they just authenticated); every repository method takes it
/// first and filters by its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantScope {
    tenant_id: TenantId,
    user_id: UserId,
    role: Role,
}

impl TenantScope {
    /// A scope for `user_id` acting in `tenant_id` with `role`.
    #[must_use]
    pub const fn new(tenant_id: TenantId, user_id: UserId, role: Role) -> Self {
        Self { tenant_id, user_id, role }
    }

    /// The workspace acting for itself: what a channel (inbound email) uses to write into the
    /// tenant when no team member is involved. It has the role [`Role::Agent`] (no admin
    /// rights) and the nil user id, which matches no user, so nothing it writes is attributed
    /// to a person. Only services that take in data for a known tenant build it.
    #[must_use]
    pub const fn system(tenant_id: TenantId) -> Self {
        Self { tenant_id, user_id: UserId::from_uuid(uuid::Uuid::nil()), role: Role::Agent }
    }

    /// Whether this is the workspace's own [`TenantScope::system`] scope.
    #[must_use]
    pub const fn is_system(&self) -> bool {
        self.user_id.as_uuid().is_nil()
    }

    /// The tenant every read and write is confined to.
    #[must_use]
    pub const fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// The acting user.
    #[must_use]
    pub const fn user_id(&self) -> UserId {
        self.user_id
    }

    /// The acting user's role.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Whether the acting user is an admin.
    #[must_use]
    pub const fn is_admin(&self) -> bool {
        matches!(self.role, Role::Admin)
    }
}
