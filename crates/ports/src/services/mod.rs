//! Application services: the use cases, written against the ports they are given.

pub mod auth;
pub mod runs;
pub mod team;
pub mod tenant;
pub mod throttle;
pub mod tickets;
pub mod triage;
pub mod worker;
