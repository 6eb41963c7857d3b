//! `JsonBody<T>`: a JSON request payload whose parse errors name the offending field.
//!
//! poem-openapi's own `Json<T>` reports object parse failures without the field; this payload
//! documents the same schema (from `T: Type`) but parses with serde and `serde_path_to_error`,
//! caps the body size, and fails with a [`BodyError`] that the error layer turns into
//! `{"error": {"code": "invalid_body", "fields": {"<field>": "..."}}}`.

use std::ops::Deref;

use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;
use tokio::io::AsyncReadExt as _;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A request body that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Larger than [`MAX_BODY_BYTES`].
    #[error("the request body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// Not JSON, or not the right shape; `field` is the JSON path of the problem (`""` for the
    /// whole body).
    #[error("{message}")]
    Invalid {
        /// JSON path of the offending field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The `Content-Type` is not JSON.
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// The `Content-Type` of an inbound email is not a raw message.
    #[error(
        "the request body must be a raw email message (Content-Type: message/rfc822 or \
         application/octet-stream)"
    )]
    NotRawMessage,
}

impl poem::error::ResponseError for BodyError {
    fn status(&self) -> poem::http::StatusCode {
        match self {
            Self::TooLarge => poem::http::StatusCode::PAYLOAD_TOO_LARGE,
            Self::Invalid { .. } => poem::http::StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType | Self::NotRawMessage => {
                poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
        }
    }
}

/// A JSON request body of type `T`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T> Deref for JsonBody<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "application"
            && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Turns a serde error into the JSON path and a message without Rust jargon.
fn describe(err: &serde_path_to_error::Error<serde_json::Error>) -> (String, String) {
    let inner = err.inner().to_string();
    let path = err.path().to_string();
    // "missing field `subject` at line 1 column 2": the path is the parent object.
    if let Some(rest) = inner.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path == "." { name.to_owned() } else { format!("{path}.{name}") };
        return (field, "is required".to_owned());
    }
    if let Some(rest) = inner.strip_prefix("duplicate field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path == "." { name.to_owned() } else { format!("{path}.{name}") };
        return (field, "is given more than once".to_owned());
    }
    if let Some(rest) = inner.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path == "." { name.to_owned() } else { path };
        return (field, "is not an accepted field".to_owned());
    }
    let message = if err.inner().is_syntax() {
        // Valid JSON (checked before), so this is a value of the wrong kind for an enum.
        "has the wrong type or an unknown value".to_owned()
    } else {
        inner.split(" at line ").next().unwrap_or(&inner).to_owned()
    };
    let field = if path == "." { String::new() } else { path };
    (field, message)
}

impl<T: Type + DeserializeOwned> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let mut data = Vec::new();
        body.take()?
            .into_async_read()
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut data)
            .await
            .map_err(|e| BodyError::Invalid { field: String::new(), message: e.to_string() })?;
        if data.len() > MAX_BODY_BYTES {
            return Err(BodyError::TooLarge.into());
        }
        if data.iter().all(u8::is_ascii_whitespace) {
            return Err(BodyError::Invalid {
                field: String::new(),
                message: "a JSON object body is required".to_owned(),
            }
            .into());
        }
        // Syntax first: serde_json reports some type mismatches (a number where an enum's
        // string belongs) as syntax errors, which must still name their field.
        serde_json::from_slice::<serde::de::IgnoredAny>(&data).map_err(|e| BodyError::Invalid {
            field: String::new(),
            message: format!("malformed JSON: {e}"),
        })?;
        let de = &mut serde_json::Deserializer::from_slice(&data);
        let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
            let (field, message) = describe(&e);
            BodyError::Invalid { field, message }
        })?;
        Ok(Self(value))
    }
}

impl<'a, T: Type + DeserializeOwned> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(ct) if <Self as Payload>::check_content_type(ct) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            _ => Err(BodyError::UnsupportedMediaType.into()),
        }
    }
}

/// A raw RFC 5322 message (`Content-Type: message/rfc822`, or `application/octet-stream`), read
/// by the handler itself, which knows the size limit.
pub struct RawMessage(pub poem::Body);

impl Payload for RawMessage {
    const CONTENT_TYPE: &'static str = "message/rfc822";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m)
            if (m.type_() == "message" && m.subtype() == "rfc822")
                || (m.type_() == "application" && m.subtype() == "octet-stream"))
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(poem_openapi::registry::MetaSchema {
            format: Some("binary"),
            ..poem_openapi::registry::MetaSchema::new("string")
        }))
    }
}

impl ParsePayload for RawMessage {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Self(body.take()?))
    }
}

impl<'a> ApiExtractor<'a> for RawMessage {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![
                MetaMediaType {
                    content_type: "message/rfc822",
                    schema: <Self as Payload>::schema_ref(),
                },
                MetaMediaType {
                    content_type: "application/octet-stream",
                    schema: <Self as Payload>::schema_ref(),
                },
            ],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(ct) if <Self as Payload>::check_content_type(ct) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            _ => Err(BodyError::NotRawMessage.into()),
        }
    }
}

/// How much of an oversized body is read and thrown away before answering 413, so a client
/// that sends it all still reads the answer (beyond this the connection is simply closed).
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

impl RawMessage {
    /// The bytes, or [`BodyError::TooLarge`] past `max` bytes.
    ///
    /// # Errors
    /// [`BodyError::TooLarge`]; [`BodyError::Invalid`] when reading fails.
    pub async fn read(self, max: usize) -> Result<Vec<u8>, BodyError> {
        let mut reader = self.0.into_async_read();
        let mut data = Vec::new();
        (&mut reader)
            .take(max as u64 + 1)
            .read_to_end(&mut data)
            .await
            .map_err(|e| BodyError::Invalid { field: String::new(), message: e.to_string() })?;
        if data.len() > max {
            drop(data);
            let _ = tokio::io::copy(&mut reader.take(DRAIN_LIMIT), &mut tokio::io::sink()).await;
            return Err(BodyError::TooLarge);
        }
        Ok(data)
    }
}
