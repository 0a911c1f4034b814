//! Migrations compiled into the binary, so a container needs no SQL files beside it.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType};

/// One `migrations/<service>/<version>_<description>.sql` file, embedded with `include_str!`.
#[derive(Debug)]
pub struct MigrationFile {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// Embeds a service's migration files, relative to the calling file:
/// `embed_migrations!("../../migrations/users", 1 => "0001_init")` reads `0001_init.sql` as
/// version 1.
#[macro_export]
macro_rules! embed_migrations {
    ($dir:literal, $($version:literal => $file:literal),+ $(,)?) => {
        &[$($crate::MigrationFile {
            version: $version,
            description: $file,
            sql: include_str!(concat!($dir, "/", $file, ".sql")),
        }),+]
    };
}

#[derive(Debug)]
pub(crate) struct Embedded(pub &'static [MigrationFile]);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|file| {
                    Migration::new(
                        file.version,
                        Cow::Borrowed(file.description),
                        MigrationType::Simple,
                        Cow::Borrowed(file.sql),
                        false,
                    )
                })
                .collect())
        })
    }
}
