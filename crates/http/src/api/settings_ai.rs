//! `/api/settings/ai`: the workspace's AI triage settings: whether new tickets are triaged on
//! arrival (`off`, `suggest`, `apply`) and the confidence each field needs to be applied.
//!
//! The DTOs live here rather than in `dto.rs`: they are used by these operations only.

use std::sync::Arc;

use opsflow_domain::{
    AutoTriageMode, AutoTriageSettings, AutoTriageThresholds, FieldErrors, Tenant, Threshold,
};
use opsflow_ports::error::require_admin;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;

use crate::api::ApiTags;
use crate::auth::BearerAuth;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

/// Whether new tickets are triaged by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename = "AutoTriageMode", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AutoTriageModeDto {
    /// Only people start triage runs.
    Off,
    /// Every new ticket (web, API, email) is triaged through the queue; the results are shown
    /// as suggestions and no ticket field changes.
    Suggest,
    /// Every new ticket is triaged; each field whose confidence reaches its threshold is set,
    /// the others stay suggestions.
    Apply,
}

impl From<AutoTriageModeDto> for AutoTriageMode {
    fn from(m: AutoTriageModeDto) -> Self {
        match m {
            AutoTriageModeDto::Off => Self::Off,
            AutoTriageModeDto::Suggest => Self::Suggest,
            AutoTriageModeDto::Apply => Self::Apply,
        }
    }
}

impl From<AutoTriageMode> for AutoTriageModeDto {
    fn from(m: AutoTriageMode) -> Self {
        match m {
            AutoTriageMode::Off => Self::Off,
            AutoTriageMode::Suggest => Self::Suggest,
            AutoTriageMode::Apply => Self::Apply,
        }
    }
}

/// The confidence (0 to 1) each field's result needs to be applied in `apply` mode.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "AutoTriageThresholds")]
#[serde(deny_unknown_fields)]
pub struct ThresholdsDto {
    /// For the category (default 0.8).
    pub category: f64,
    /// For the priority (default 0.8).
    pub priority: f64,
    /// For the assignee (default 0.9: a wrong assignee costs a hand-off).
    pub assignee: f64,
}

/// The workspace's AI triage settings.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "AiSettings")]
#[serde(deny_unknown_fields)]
pub struct AiSettingsDto {
    /// `off` (default), `suggest` or `apply`.
    pub auto_triage: AutoTriageModeDto,
    /// Per-field confidence thresholds, used in `apply` mode.
    pub thresholds: ThresholdsDto,
}

impl From<&Tenant> for AiSettingsDto {
    fn from(t: &Tenant) -> Self {
        let th = t.auto_triage.thresholds;
        Self {
            auto_triage: t.auto_triage.mode.into(),
            thresholds: ThresholdsDto {
                category: th.category.value(),
                priority: th.priority.value(),
                assignee: th.assignee.value(),
            },
        }
    }
}

impl AiSettingsDto {
    /// Validates the thresholds; errors name the field (`thresholds.priority`).
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(self) -> Result<AutoTriageSettings, FieldErrors> {
        let mut e = FieldErrors::new();
        let th = &self.thresholds;
        let category = e.check("thresholds.category", Threshold::new(th.category));
        let priority = e.check("thresholds.priority", Threshold::new(th.priority));
        let assignee = e.check("thresholds.assignee", Threshold::new(th.assignee));
        e.into_result()?;
        let (Some(category), Some(priority), Some(assignee)) = (category, priority, assignee)
        else {
            return Err(FieldErrors::single("thresholds", "must be numbers from 0 to 1"));
        };
        Ok(AutoTriageSettings {
            mode: self.auto_triage.into(),
            thresholds: AutoTriageThresholds { category, priority, assignee },
        })
    }
}

/// AI settings answer.
#[derive(ApiResponse)]
pub enum AiSettingsResult {
    /// The settings as they now are.
    #[oai(status = 200)]
    Ok(Json<AiSettingsDto>),
}

/// AI triage settings.
pub struct SettingsAiApi;

#[OpenApi(tag = "ApiTags::Workspace")]
impl SettingsAiApi {
    /// The workspace's AI triage settings (any member: agents see why a field was only
    /// suggested).
    #[oai(path = "/settings/ai", method = "get", operation_id = "get_ai_settings")]
    async fn get_ai_settings(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<AiSettingsResult> {
        let t = state.tenants.get(&auth.0.scope).await?;
        Ok(AiSettingsResult::Ok(Json((&t).into())))
    }

    /// Replace the AI triage settings (admin). Thresholds are numbers from 0 to 1; a change is
    /// recorded in the audit log. Runs already queued keep the mode they were queued with.
    #[oai(path = "/settings/ai", method = "put", operation_id = "put_ai_settings")]
    async fn put_ai_settings(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<AiSettingsDto>,
    ) -> ApiResult<AiSettingsResult> {
        require_admin(&auth.0.scope)?;
        let settings = body.0.try_into_domain()?;
        let t = state.tenants.set_auto_triage(&auth.0, settings).await?;
        Ok(AiSettingsResult::Ok(Json((&t).into())))
    }
}
