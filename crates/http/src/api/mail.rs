//! The email channel at the edge: the inbound endpoint (raw messages posted by an MTA or a
//! forwarding service, authorised by the workspace's secret token in the path), the admin view
//! of that address, and ticket attachment downloads.

use std::sync::Arc;

use opsflow_domain::{AttachmentId, TicketId};
use opsflow_ports::mail_intake::{IntakeError, IntakeOutcome, MailIntake as _};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, OpenApi};

use crate::api::{ApiTags, parse_id};
use crate::auth::BearerAuth;
use crate::body::{BodyError, RawMessage};
use crate::dto::{InboundAddressDto, InboundOutcomeDto, InboundResultDto};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::state::AppState;

/// Email channel operations.
pub struct MailApi;

/// What became of a posted message.
#[derive(ApiResponse)]
pub enum InboundAccepted {
    /// A new ticket was opened.
    #[oai(status = 201)]
    Created(Json<InboundResultDto>),
    /// Taken in without a new ticket: appended to a ticket, a duplicate, or ignored on purpose
    /// (automatic mail, the workspace's own address).
    #[oai(status = 202)]
    Accepted(Json<InboundResultDto>),
}

/// The inbound address.
#[derive(ApiResponse)]
pub enum InboundAddressResult {
    /// The token and the path to post raw messages to.
    #[oai(status = 200)]
    Ok(Json<InboundAddressDto>),
}

/// A file download.
#[derive(ApiResponse)]
pub enum AttachmentDownload {
    /// The file's bytes.
    #[oai(status = 200)]
    Ok(
        Binary<Vec<u8>>,
        /// The stored type for images, PDF and plain text; `application/octet-stream` else.
        #[oai(header = "Content-Type")]
        String,
        /// `attachment` with the file name for anything not shown inline.
        #[oai(header = "Content-Disposition")]
        Option<String>,
        /// Always `nosniff`.
        #[oai(header = "X-Content-Type-Options")]
        String,
    ),
}

/// Types a browser may show inline; everything else is downloaded as opaque bytes so a
/// customer's HTML or SVG never runs in the desk's origin.
const INLINE_TYPES: [&str; 5] =
    ["image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain"];

/// RFC 5987 percent-encoding of a file name for `filename*=UTF-8''…`.
fn encode_filename(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn not_found() -> ApiError {
    ApiError::NotFound(Json(ErrorBody::new(ErrorCode::NotFound, "not found")))
}

fn address(state: &AppState, token: String) -> InboundAddressDto {
    InboundAddressDto {
        path: format!("/api/inbound/email/{token}"),
        token,
        max_message_bytes: state.inbound_mail.max_message_bytes() as u64,
    }
}

#[OpenApi(tag = "ApiTags::Email")]
impl MailApi {
    /// Take in one raw email (RFC 5322, `Content-Type: message/rfc822`) for the workspace whose
    /// secret token is in the path; no session. A new conversation opens a ticket (201); a
    /// follow-up joins its ticket, and duplicates and automatic mail change nothing (202). An
    /// unknown token is 404, a message over the size limit 413, an unusable one 422.
    #[oai(path = "/inbound/email/:token", method = "post", operation_id = "inbound_email")]
    async fn inbound(
        &self,
        state: Data<&Arc<AppState>>,
        /// The workspace's inbound token.
        token: Path<String>,
        body: RawMessage,
    ) -> ApiResult<InboundAccepted> {
        let Some(tenant) = state.inbound_mail.tenant_for_token(&token.0).await? else {
            return Err(not_found());
        };
        let max = state.inbound_mail.max_message_bytes();
        let raw = match body.read(max).await {
            Ok(raw) => raw,
            Err(BodyError::TooLarge) => {
                return Err(ApiError::PayloadTooLarge(Json(ErrorBody::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the message is larger than the limit of {max} bytes"),
                ))));
            }
            Err(e) => return Err(ApiError::bad_field("body", e.to_string())),
        };
        let outcome = state.inbound_mail.take_in(tenant, &raw).await.map_err(|e| match e {
            IntakeError::Rejected(why) => ApiError::Unprocessable(Json(ErrorBody::new(
                ErrorCode::MessageRejected,
                format!("the message was not taken in: {why}"),
            ))),
            IntakeError::Store(e) => ApiError::from(opsflow_ports::error::AppError::from(e)),
        })?;
        let dto = |outcome, ticket_id: Option<TicketId>, number, reason| InboundResultDto {
            outcome,
            ticket_id: ticket_id.map(|t| t.as_uuid()),
            number,
            reason,
        };
        Ok(match outcome {
            IntakeOutcome::Created { ticket_id, number } => InboundAccepted::Created(Json(dto(
                InboundOutcomeDto::Created,
                Some(ticket_id),
                Some(number),
                None,
            ))),
            IntakeOutcome::Appended { ticket_id } => InboundAccepted::Accepted(Json(dto(
                InboundOutcomeDto::Appended,
                Some(ticket_id),
                None,
                None,
            ))),
            IntakeOutcome::Duplicate => {
                InboundAccepted::Accepted(Json(dto(InboundOutcomeDto::Duplicate, None, None, None)))
            }
            IntakeOutcome::Ignored { reason } => InboundAccepted::Accepted(Json(dto(
                InboundOutcomeDto::Ignored,
                None,
                None,
                Some(reason),
            ))),
        })
    }

    /// The workspace's inbound email address (admin only): the secret path an MTA or
    /// forwarding service posts raw messages to. Made on first request.
    #[oai(path = "/settings/email/inbound", method = "get", operation_id = "get_inbound_address")]
    async fn get_address(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<InboundAddressResult> {
        let token = state.inbound_mail.inbound_token(&auth.0).await?;
        Ok(InboundAddressResult::Ok(Json(address(&state, token))))
    }

    /// Replace the inbound token (admin only): the old address stops working at once.
    #[oai(
        path = "/settings/email/inbound/rotate",
        method = "post",
        operation_id = "rotate_inbound_address"
    )]
    async fn rotate(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
    ) -> ApiResult<InboundAddressResult> {
        let token = state.inbound_mail.rotate_inbound_token(&auth.0).await?;
        Ok(InboundAddressResult::Ok(Json(address(&state, token))))
    }

    /// Download a file that came with an email on the ticket.
    #[oai(
        path = "/tickets/:id/attachments/:attachment_id",
        method = "get",
        operation_id = "download_attachment"
    )]
    async fn attachment(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// The ticket's id.
        id: Path<String>,
        /// The attachment's id.
        attachment_id: Path<String>,
    ) -> ApiResult<AttachmentDownload> {
        let id: TicketId = parse_id("id", &id.0)?;
        let attachment_id: AttachmentId = parse_id("attachment_id", &attachment_id.0)?;
        let file = state.inbound_mail.attachment(&auth.0.scope, id, attachment_id).await?;
        let inline = INLINE_TYPES.contains(&file.meta.content_type.as_str());
        let (content_type, disposition) = if inline {
            (file.meta.content_type.clone(), None)
        } else {
            (
                "application/octet-stream".to_owned(),
                Some(format!(
                    "attachment; filename*=UTF-8''{}",
                    encode_filename(&file.meta.filename)
                )),
            )
        };
        Ok(AttachmentDownload::Ok(
            Binary(file.data),
            content_type,
            disposition,
            "nosniff".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(encode_filename("report 1.pdf"), "report%201.pdf");
        assert_eq!(encode_filename("ä\";x.html"), "%C3%A4%22%3Bx.html");
    }
}
