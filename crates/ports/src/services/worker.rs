//! Worker pool that executes queued (asynchronous) triage runs.
