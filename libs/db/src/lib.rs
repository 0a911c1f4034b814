//! Database access for photoshare services: one sqlx pool per service on either an embedded
//! SQLite file or a PostgreSQL server (one database per service, created on first start), and
//! that service's migrations, embedded in its binary and applied on start.
//!
//! Services write portable SQL (`$1` placeholders, `BIGINT` ids and millisecond times,
//! `ON CONFLICT`, `RETURNING`) against [`sqlx::AnyPool`], so one query runs on both backends.
//! Flags are `BIGINT` 0/1, not `BOOLEAN`: the Any driver cannot decode SQLite booleans.
//! This crate knows no service's tables.

mod location;
mod migrations;

use std::sync::Once;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use location::{redact, DatabaseLocation};
pub use migrations::{unembedded_migrations, MigrationFile};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot reach {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create database `{name}` on {server}: {source}")]
    Create {
        name: String,
        server: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("invalid database location: {0}")]
    Location(String),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("query failed: {0}")]
    Query(#[from] sqlx::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool to one service's database.
#[derive(Clone, Debug)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
}

impl Database {
    /// Connects, creating the database (PostgreSQL) or the file (SQLite) if it does not exist.
    pub async fn open(location: &DatabaseLocation) -> Result<Database, DbError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);

        let url = location.prepare().await?;
        let options: AnyConnectOptions = url.parse().map_err(|source| DbError::Connect {
            target: location.to_string(),
            source,
        })?;
        let backend = location.backend();
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Postgres => 16,
                Backend::Sqlite => 8,
            })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |connection, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; busy_timeout makes a
                        // second writer wait for the lock instead of failing at once.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA busy_timeout = 5000",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA synchronous = NORMAL",
                        ] {
                            connection.execute(pragma).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|source| DbError::Connect {
                target: location.to_string(),
                source,
            })?;
        Ok(Database { pool, backend })
    }

    /// Applies the migrations not applied yet, in version order, each in a transaction.
    pub async fn migrate(&self, files: &'static [MigrationFile]) -> Result<(), DbError> {
        let migrator = sqlx::migrate::Migrator::new(migrations::Embedded(files)).await?;
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Round-trips a trivial query: the readiness check.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// True when `error` is a violated unique constraint (a duplicate key), on either backend.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db_error| db_error.is_unique_violation())
}
