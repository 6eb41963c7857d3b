//! MongoDB store (production adapter).
