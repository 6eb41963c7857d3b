//! [`parse`](crate::parse) behind the inbound-mail service's parser port.

use opsflow_domain::email::InboundEmail;
use opsflow_ports::services::inbound_mail::{InboundParser, UnreadableMail};

use crate::{Limits, ParseError};

/// The MIME parser of this crate as the inbound-mail service's [`InboundParser`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MimeParser;

impl InboundParser for MimeParser {
    fn parse(&self, raw: &[u8], max_bytes: usize) -> Result<InboundEmail, UnreadableMail> {
        crate::parse(raw, &Limits { max_message_bytes: max_bytes }).map_err(|e| match e {
            ParseError::TooLarge { size, limit } => UnreadableMail::TooLarge { size, limit },
            other => UnreadableMail::Unusable(other.to_string()),
        })
    }
}
