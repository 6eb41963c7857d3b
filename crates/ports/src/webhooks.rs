//! Webhook ports and signing: Standard Webhooks signatures (HMAC-SHA256 over
//! `{webhook-id}.{webhook-timestamp}.{body}` with a `whsec_` secret), the HTTP sender and host
//! resolver ports, and the address check that keeps deliveries off private networks.

use std::net::{IpAddr, SocketAddr};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use opsflow_domain::webhook::{UrlHost, WebhookUrl, classify_ip, is_local_name};
use sha2::Sha256;

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A signing secret that is not `whsec_` followed by base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is whsec_ followed by base64")]
pub struct BadSecret;

/// A new secret: `whsec_` and the base64 of 32 random bytes.
#[must_use]
pub fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

fn key_of(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(b64).map_err(|_| BadSecret)
}

/// The `webhook-signature` header value for a message: `v1,<base64 HMAC-SHA256>` of
/// `{msg_id}.{timestamp}.{body}` under the secret's decoded key.
///
/// # Errors
/// [`BadSecret`] when the secret is not base64 after its prefix.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    let key = key_of(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())))
}

/// Whether one of the space-separated signatures of a `webhook-signature` header is valid for
/// the message (compared in constant time), as a receiver checks it.
#[must_use]
pub fn verify(secret: &str, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Ok(expected) = sign(secret, msg_id, timestamp, body) else { return false };
    header.split(' ').any(|sig| {
        use subtle::ConstantTimeEq as _;
        sig.len() == expected.len() && bool::from(sig.as_bytes().ct_eq(expected.as_bytes()))
    })
}

/// Why an endpoint's address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressRefused {
    /// The host resolves to (or is) an address of a non-public network.
    #[error("{host} is {class} ({ip}); private and local addresses are not allowed")]
    NotPublic {
        /// The host as given.
        host: String,
        /// The offending address.
        ip: IpAddr,
        /// What kind it is.
        class: &'static str,
    },
    /// `localhost` and `*.localhost`.
    #[error("{0} is a local host name; private and local addresses are not allowed")]
    LocalName(String),
    /// The name does not resolve.
    #[error("{host} could not be resolved: {reason}")]
    Unresolvable {
        /// The host.
        host: String,
        /// The resolver's words.
        reason: String,
    },
}

/// Resolves host names (the system resolver in production).
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait HostResolver: Send + Sync + 'static {
    /// Every address of `host`.
    ///
    /// # Errors
    /// The resolver's message when the name does not resolve.
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String>;
}

/// The addresses a delivery to `url` may connect to: the literal address, or every address
/// the name resolves to. Unless `allow_private`, every one must be public (one private address
/// refuses the whole name, so a name that mixes them cannot be used to reach the private one).
///
/// # Errors
/// [`AddressRefused`].
pub async fn checked_addresses(
    resolver: &dyn HostResolver,
    url: &WebhookUrl,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, AddressRefused> {
    let port = url.port();
    let (host, ips) = match url.host() {
        UrlHost::Ip(ip) => (ip.to_string(), vec![*ip]),
        UrlHost::Name(name) => {
            if !allow_private && is_local_name(name) {
                return Err(AddressRefused::LocalName(name.clone()));
            }
            let ips = resolver
                .resolve(name, port)
                .await
                .map_err(|reason| AddressRefused::Unresolvable { host: name.clone(), reason })?;
            if ips.is_empty() {
                return Err(AddressRefused::Unresolvable {
                    host: name.clone(),
                    reason: "no addresses".to_owned(),
                });
            }
            (name.clone(), ips)
        }
    };
    if !allow_private {
        for ip in &ips {
            let class = classify_ip(*ip);
            if !class.is_public() {
                return Err(AddressRefused::NotPublic {
                    host: host.clone(),
                    ip: *ip,
                    class: class.describe(),
                });
            }
        }
    }
    Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, port)).collect())
}

/// One signed POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRequest {
    /// The endpoint.
    pub url: WebhookUrl,
    /// The addresses checked for it; the sender connects only to these (no second lookup, so
    /// DNS rebinding cannot swap in a private address).
    pub addresses: Vec<SocketAddr>,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature` and the content type.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: String,
}

/// The endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// HTTP status.
    pub status: u16,
    /// The start of the body.
    pub excerpt: String,
}

/// Sends webhook requests (reqwest in production): no redirects followed, a 10 s timeout.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync + 'static {
    /// POSTs the request to one of its addresses.
    ///
    /// # Errors
    /// A description of the network failure (connect, TLS, timeout).
    async fn post(&self, request: &WebhookRequest) -> Result<WebhookResponse, String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_test_vector_signs_exactly() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
            "v1,bm9wZQ== v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ));
        assert!(!verify(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_331,
            br#"{"test": 2432232314}"#,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ));
        assert_eq!(sign("whsec_***", "m", 1, b""), Err(BadSecret));
    }

    #[test]
    fn new_secrets_hold_32_random_bytes() {
        let a = generate_secret();
        assert!(a.starts_with("whsec_"));
        assert_eq!(key_of(&a).unwrap().len(), 32);
        assert_ne!(a, generate_secret());
    }

    struct Fixed(Vec<IpAddr>);

    #[async_trait]
    impl HostResolver for Fixed {
        async fn resolve(&self, _host: &str, _port: u16) -> Result<Vec<IpAddr>, String> {
            Ok(self.0.clone())
        }
    }

    #[tokio::test]
    async fn names_resolving_to_any_private_address_are_refused_unless_allowed() {
        let url = WebhookUrl::parse("https://hooks.example.com/x").unwrap();
        let mixed = Fixed(vec!["93.184.216.34".parse().unwrap(), "10.0.0.1".parse().unwrap()]);
        assert!(matches!(
            checked_addresses(&mixed, &url, false).await,
            Err(AddressRefused::NotPublic { .. })
        ));
        assert_eq!(checked_addresses(&mixed, &url, true).await.unwrap().len(), 2);
        let public = Fixed(vec!["93.184.216.34".parse().unwrap()]);
        assert_eq!(
            checked_addresses(&public, &url, false).await.unwrap(),
            vec!["93.184.216.34:443".parse().unwrap()]
        );
        let local = WebhookUrl::parse("http://localhost:8080/").unwrap();
        assert!(matches!(
            checked_addresses(&public, &local, false).await,
            Err(AddressRefused::LocalName(_))
        ));
        let metadata = WebhookUrl::parse("http://169.254.169.254/latest").unwrap();
        assert!(checked_addresses(&public, &metadata, false).await.is_err());
    }
}
