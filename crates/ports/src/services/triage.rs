//! The ticket triage workflow (AI classification, priority, assignee, reply draft).
