//! The caller's workspace settings.

use std::sync::Arc;

use opsflow_domain::{
    AuditKind, AutoTriageSettings, DetailKey, Policies, ReplyPolicy, Tenant, TenantName,
    TenantScope,
};

use crate::auth::Clock;
use crate::error::{AppError, AppResult, Entity, require_admin};
use crate::repos::TenantRepository;
use crate::services::audit::AuditLog;
use crate::services::auth::AuthContext;

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
    audit: AuditLog,
}

impl TenantService {
    /// Wires the service to its ports.
    pub fn new(tenants: Arc<dyn TenantRepository>, clock: Arc<dyn Clock>, audit: AuditLog) -> Self {
        Self { tenants, clock, audit }
    }

    /// The caller's workspace.
    ///
    /// # Errors
    /// `NotFound`, `Unexpected`.
    pub async fn get(&self, scope: &TenantScope) -> AppResult<Tenant> {
        self.tenants.get(scope).await.map_err(AppError::from_repo(Entity::Tenant))
    }

    /// Renames the workspace or changes its policies (admin only). The slug does not change.
    /// Recorded as `settings_updated`, naming the fields whose value changed (the policies text
    /// itself is not copied into the log); a patch that changes nothing is not recorded.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn update(&self, ctx: &AuthContext, patch: TenantPatch) -> AppResult<Tenant> {
        let scope = &ctx.scope;
        require_admin(scope)?;
        let mut tenant = self.get(scope).await?;
        let mut changed = Vec::new();
        if let Some(name) = patch.name {
            if name != tenant.name {
                changed.push("name");
            }
            tenant.name = name;
        }
        if let Some(policies) = patch.policies {
            if policies != tenant.policies {
                changed.push("policies");
            }
            tenant.policies = policies;
        }
        tenant.updated_at = self.clock.now();
        self.tenants.update(scope, &tenant).await.map_err(AppError::from_repo(Entity::Tenant))?;
        if !changed.is_empty() {
            let mut event = ctx
                .event(AuditKind::SettingsUpdated, tenant.updated_at)
                .with(DetailKey::Fields, changed.join(","));
            if changed.contains(&"name") {
                event = event.with(DetailKey::WorkspaceName, &tenant.name);
            }
            self.audit.record(scope, event).await;
        }
        Ok(tenant)
    }

    /// Replaces the workspace's auto-triage settings (admin only). Recorded as
    /// `settings_updated` naming what changed (`auto_triage.mode`, `auto_triage.thresholds`)
    /// with the new values; saving the same settings again is not recorded.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn set_auto_triage(
        &self,
        ctx: &AuthContext,
        settings: AutoTriageSettings,
    ) -> AppResult<Tenant> {
        let scope = &ctx.scope;
        require_admin(scope)?;
        let mut tenant = self.get(scope).await?;
        let before = tenant.auto_triage;
        if before == settings {
            return Ok(tenant);
        }
        tenant.auto_triage = settings;
        tenant.updated_at = self.clock.now();
        self.tenants.update(scope, &tenant).await.map_err(AppError::from_repo(Entity::Tenant))?;
        let mut changed = Vec::new();
        if before.mode != settings.mode {
            changed.push("auto_triage.mode");
        }
        if before.thresholds != settings.thresholds {
            changed.push("auto_triage.thresholds");
        }
        let t = settings.thresholds;
        let event = ctx
            .event(AuditKind::SettingsUpdated, tenant.updated_at)
            .with(DetailKey::Fields, changed.join(","))
            .with(
                DetailKey::AutoTriage,
                format!(
                    "mode={} category>={} priority>={} assignee>={}",
                    settings.mode, t.category, t.priority, t.assignee
                ),
            );
        self.audit.record(scope, event).await;
        Ok(tenant)
    }

    /// Replaces the workspace's structured reply policies (admin only). Recorded as
    /// `settings_updated` naming the fields that changed (`reply_policy.sign_off`, ...);
    /// saving the same policies again is not recorded.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unexpected`.
    pub async fn set_reply_policy(
        &self,
        ctx: &AuthContext,
        policy: ReplyPolicy,
    ) -> AppResult<Tenant> {
        let scope = &ctx.scope;
        require_admin(scope)?;
        let mut tenant = self.get(scope).await?;
        let before = std::mem::replace(&mut tenant.reply_policy, policy);
        let after = &tenant.reply_policy;
        let changed: Vec<&str> = [
            ("reply_policy.sign_off", before.sign_off != after.sign_off),
            ("reply_policy.support_hours", before.support_hours != after.support_hours),
            ("reply_policy.status_page_url", before.status_page_url != after.status_page_url),
            ("reply_policy.languages", before.languages != after.languages),
            (
                "reply_policy.forbidden_commitments",
                before.forbidden_commitments != after.forbidden_commitments,
            ),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect();
        if changed.is_empty() {
            return Ok(tenant);
        }
        tenant.updated_at = self.clock.now();
        self.tenants.update(scope, &tenant).await.map_err(AppError::from_repo(Entity::Tenant))?;
        let event = ctx
            .event(AuditKind::SettingsUpdated, tenant.updated_at)
            .with(DetailKey::Fields, changed.join(","));
        self.audit.record(scope, event).await;
        Ok(tenant)
    }
}
