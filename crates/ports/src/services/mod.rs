//! Application services: the use cases, generic over nothing but the ports they are given.

pub mod auth;
pub mod team;
pub mod tenant;
pub mod tickets;
