//! Black-box tests of the REST API: each test starts the whole product (`photoshare dev`, every
//! service behind real gRPC) on a random port with a fresh database, and talks HTTP to it.
//! Every scenario runs twice, on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod edge;
mod errors;
mod feed;
mod idempotency;
mod ops;
mod photos;
mod replica;
mod sessions;
mod social;
mod tokens;
mod users;
