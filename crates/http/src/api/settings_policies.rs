//! `/api/settings/policies`: the workspace's structured reply policies (sign-off, support hours,
//! status page, languages, forbidden commitments) that every draft honours, the offline
//! engine's included. The free-text `policies` of `PATCH /api/tenant` stay guidance for
//! language models.
//!
//! The DTOs live here rather than in `dto.rs`: they are used by these operations only.

use std::sync::Arc;

use opsflow_domain::policy::{
    ClockTime, ForbiddenCommitments, ForbiddenPhrase, LanguageCode, Languages, SignOff,
    StatusPageUrl, SupportHours, TIME_ZONES, TimeZoneName, Weekday,
};
use opsflow_domain::{FieldErrors, ReplyPolicy, Tenant};
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

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename = "Weekday", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum WeekdayDto {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl From<WeekdayDto> for Weekday {
    fn from(d: WeekdayDto) -> Self {
        match d {
            WeekdayDto::Monday => Self::Monday,
            WeekdayDto::Tuesday => Self::Tuesday,
            WeekdayDto::Wednesday => Self::Wednesday,
            WeekdayDto::Thursday => Self::Thursday,
            WeekdayDto::Friday => Self::Friday,
            WeekdayDto::Saturday => Self::Saturday,
            WeekdayDto::Sunday => Self::Sunday,
        }
    }
}

impl From<Weekday> for WeekdayDto {
    fn from(d: Weekday) -> Self {
        match d {
            Weekday::Monday => Self::Monday,
            Weekday::Tuesday => Self::Tuesday,
            Weekday::Wednesday => Self::Wednesday,
            Weekday::Thursday => Self::Thursday,
            Weekday::Friday => Self::Friday,
            Weekday::Saturday => Self::Saturday,
            Weekday::Sunday => Self::Sunday,
        }
    }
}

/// When the team answers: the same hours on each listed day, in one time zone.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "SupportHours")]
#[serde(deny_unknown_fields)]
pub struct SupportHoursDto {
    /// The days (at least one).
    pub days: Vec<WeekdayDto>,
    /// Opening time, `HH:MM`.
    pub start: String,
    /// Closing time, `HH:MM` (after `start`; `24:00` is midnight).
    pub end: String,
    /// An IANA time zone from `time_zones` (such as `Europe/Berlin`).
    pub time_zone: String,
}

/// The workspace's structured reply policies.
#[derive(Debug, Clone, Object, Deserialize)]
#[oai(rename = "ReplyPolicies")]
#[serde(deny_unknown_fields)]
pub struct ReplyPoliciesDto {
    /// Closes every draft ("Maria, Acme Support"; ≤ 200 characters). `null` or empty: "The
    /// {workspace} team".
    #[serde(default)]
    pub sign_off: Option<String>,
    /// When the team answers; named where a draft promises follow-up. `null`: not mentioned.
    #[serde(default)]
    pub support_hours: Option<SupportHoursDto>,
    /// An `http://` or `https://` URL linked in drafts about high or urgent bugs. `null` or
    /// empty: none.
    #[serde(default)]
    pub status_page_url: Option<String>,
    /// ISO 639-1 codes of the languages drafts may be written in, the default first (≤ 10;
    /// empty: English). The offline engine writes English, Spanish and German.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Phrases no draft may contain and a person's reply needs confirming for ("refund",
    /// "delivery date"; ≤ 20, each ≤ 60 characters).
    #[serde(default)]
    pub forbidden_commitments: Vec<String>,
}

impl From<&ReplyPolicy> for ReplyPoliciesDto {
    fn from(p: &ReplyPolicy) -> Self {
        Self {
            sign_off: p.sign_off.as_ref().map(|s| s.as_str().to_owned()),
            support_hours: p.support_hours.as_ref().map(|h| SupportHoursDto {
                days: h.days().iter().map(|d| (*d).into()).collect(),
                start: h.start().to_string(),
                end: h.end().to_string(),
                time_zone: h.time_zone().as_str().to_owned(),
            }),
            status_page_url: p.status_page_url.as_ref().map(|u| u.as_str().to_owned()),
            languages: p.languages.codes().iter().map(|c| c.as_str().to_owned()).collect(),
            forbidden_commitments: p
                .forbidden_commitments
                .phrases()
                .iter()
                .map(|f| f.as_str().to_owned())
                .collect(),
        }
    }
}

/// `None` for a missing or blank optional text (a cleared form field).
fn present(raw: Option<&String>) -> Option<&str> {
    raw.map(|s| s.as_str()).filter(|s| !s.trim().is_empty())
}

impl ReplyPoliciesDto {
    /// Validates every field; errors name it (`support_hours.time_zone`, `languages[1]`).
    ///
    /// # Errors
    /// Field errors.
    pub fn try_into_domain(self) -> Result<ReplyPolicy, FieldErrors> {
        let mut e = FieldErrors::new();
        let sign_off =
            present(self.sign_off.as_ref()).and_then(|s| e.check("sign_off", SignOff::new(s)));
        let status_page_url = present(self.status_page_url.as_ref())
            .and_then(|s| e.check("status_page_url", StatusPageUrl::parse(s)));
        let support_hours = self.support_hours.as_ref().and_then(|h| {
            let start = e.check("support_hours.start", ClockTime::parse(&h.start));
            let end = e.check("support_hours.end", ClockTime::parse(&h.end));
            let zone = e.check("support_hours.time_zone", TimeZoneName::parse(&h.time_zone));
            let days = h.days.iter().map(|d| (*d).into()).collect();
            let (start, end, zone) = (start?, end?, zone?);
            let field = if h.days.is_empty() { "support_hours.days" } else { "support_hours.end" };
            e.check(field, SupportHours::new(days, start, end, zone))
        });
        let codes: Vec<Option<LanguageCode>> = self
            .languages
            .iter()
            .enumerate()
            .map(|(i, c)| e.check(&format!("languages[{i}]"), LanguageCode::parse(c)))
            .collect();
        let languages = codes
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .and_then(|codes| e.check("languages", Languages::new(codes)));
        let phrases: Vec<Option<ForbiddenPhrase>> = self
            .forbidden_commitments
            .iter()
            .enumerate()
            .map(|(i, p)| e.check(&format!("forbidden_commitments[{i}]"), ForbiddenPhrase::new(p)))
            .collect();
        let forbidden = phrases
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .and_then(|p| e.check("forbidden_commitments", ForbiddenCommitments::new(p)));
        e.into_result()?;
        let (Some(languages), Some(forbidden_commitments)) = (languages, forbidden) else {
            return Err(FieldErrors::single("languages", "is invalid"));
        };
        Ok(ReplyPolicy {
            sign_off,
            support_hours,
            status_page_url,
            languages,
            forbidden_commitments,
        })
    }
}

/// The policies with what the form offers.
#[derive(Debug, Clone, Object)]
#[oai(rename = "ReplyPolicySettings")]
pub struct ReplyPolicySettingsDto {
    /// The policies as they now are.
    pub policies: ReplyPoliciesDto,
    /// The time zones `support_hours.time_zone` accepts.
    pub time_zones: Vec<String>,
    /// The languages the offline engine has reply templates for (ISO 639-1).
    pub engine_languages: Vec<String>,
}

impl From<&Tenant> for ReplyPolicySettingsDto {
    fn from(t: &Tenant) -> Self {
        Self {
            policies: (&t.reply_policy).into(),
            time_zones: TIME_ZONES.iter().map(|z| (*z).to_owned()).collect(),
            engine_languages: ["en", "es", "de"].map(str::to_owned).to_vec(),
        }
    }
}

/// Reply policies answer.
#[derive(ApiResponse)]
pub enum ReplyPoliciesResult {
    /// The policies as they now are.
    #[oai(status = 200)]
    Ok(Json<ReplyPolicySettingsDto>),
}

/// Structured reply policies.
pub struct SettingsPoliciesApi;

#[OpenApi(tag = "ApiTags::Workspace")]
impl SettingsPoliciesApi {
    /// The workspace's structured reply policies (any member: agents see the rules their
    /// replies are checked against).
    #[oai(path = "/settings/policies", method = "get", operation_id = "get_reply_policies")]
    async fn get_reply_policies(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<ReplyPoliciesResult> {
        let t = state.tenants.get(&auth.0.scope).await?;
        Ok(ReplyPoliciesResult::Ok(Json((&t).into())))
    }

    /// Replace the structured reply policies (admin). Each invalid value is a 422 naming its
    /// field; a change is recorded in the audit log. The next draft follows the new policies.
    #[oai(path = "/settings/policies", method = "put", operation_id = "put_reply_policies")]
    async fn put_reply_policies(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: JsonBody<ReplyPoliciesDto>,
    ) -> ApiResult<ReplyPoliciesResult> {
        require_admin(&auth.0.scope)?;
        let policy = body.0.try_into_domain()?;
        let t = state.tenants.set_reply_policy(&auth.0, policy).await?;
        Ok(ReplyPoliciesResult::Ok(Json((&t).into())))
    }
}
