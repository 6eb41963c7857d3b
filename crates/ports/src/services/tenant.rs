//! The caller's workspace settings.

use std::sync::Arc;

use opsflow_domain::{Policies, Tenant, TenantName, TenantScope};

use crate::auth::Clock;
use crate::error::{AppError, AppResult, Entity, require_admin};
use crate::repos::TenantRepository;

/// Changes to a workspace; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    /// New name.
    pub name: Option<TenantName>,
    /// New policies text.
    pub policies: Option<Policies>,
}

/// Reads and changes the caller's workspace.
pub struct TenantService {
    tenants: Arc<dyn TenantRepository>,
    clock: Arc<dyn Clock>,
}

impl TenantService {
    /// Wires the service to its ports.
    pub fn new(tenants: Arc<dyn TenantRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { tenants, clock }
    }

    /// The caller's workspace.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    pub async fn get(&self, scope: &TenantScope) -> AppResult<Tenant> {
        self.tenants.get(scope).await.map_err(AppError::from_repo(Entity::Tenant))
    }

    /// Renames the workspace or changes its policies (admin only). The slug does not change.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn update(&self, scope: &TenantScope, patch: TenantPatch) -> AppResult<Tenant> {
        require_admin(scope)?;
        let mut tenant = self.get(scope).await?;
        if let Some(name) = patch.name {
            tenant.name = name;
        }
        if let Some(policies) = patch.policies {
            tenant.policies = policies;
        }
        tenant.updated_at = self.clock.now();
        self.tenants.update(scope, &tenant).await.map_err(AppError::from_repo(Entity::Tenant))?;
        Ok(tenant)
    }
}
