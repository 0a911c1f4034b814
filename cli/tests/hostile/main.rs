//! The hostile-client suite: what an outside attacker tried against `photoshare dev` (issue 14),
//! kept as regression tests through the public API, on SQLite and on PostgreSQL:
//!
//! - forged, expired and revoked access tokens on every authenticated route (`tokens`);
//! - requests for other people's things: edits, deletes, approvals, private photos and lists
//!   (`idor`);
//! - NUL and other control characters in every string field of every documented request body,
//!   in every path segment and in list cursors, read from the OpenAPI document
//!   (`control_characters`);
//! - a flood of concurrent wrong-password logins from many addresses against the built binary
//!   in a child process, whose memory must stay inside a users pod (`flood`).

// Shared with the API suite, which uses what this one does not.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod control_characters;
mod fixtures;
mod flood;
mod idor;
mod tokens;
