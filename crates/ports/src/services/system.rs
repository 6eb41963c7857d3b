//! The server's own service: store health and shutdown, the clock, and password hashing for the
//! composition root's tools (demo seeding, evaluation, benchmarks) that create users directly.

use std::sync::Arc;

use opsflow_domain::Password;
use time::OffsetDateTime;

use crate::auth::{Clock, HashError, PasswordHasher};
use crate::repos::{StoreAdmin, StoreHealth};

/// Health, lifecycle and the shared clock and hasher.
#[derive(Clone)]
pub struct SystemService {
    store: Arc<dyn StoreAdmin>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
}

impl SystemService {
    /// Wires the service to its ports.
    pub fn new(
        store: Arc<dyn StoreAdmin>,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { store, hasher, clock }
    }

    /// Whether the store answers, and which one it is (`/api/health`).
    pub async fn health(&self) -> StoreHealth {
        self.store.health().await
    }

    /// Closes the store's connections (graceful shutdown).
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Now, by the clock every service uses.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// A PHC hash of `password`, as the services store it.
    ///
    /// # Errors
    /// [`HashError`].
    pub async fn hash_password(&self, password: &Password) -> Result<String, HashError> {
        self.hasher.hash(password).await
    }
}
