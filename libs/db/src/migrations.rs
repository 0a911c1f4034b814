//! Migrations compiled into the binary, so a container needs no SQL files beside it.

use std::borrow::Cow;

use futures::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType};

/// One `migrations/<service>/<version>_<description>.sql` file, embedded with `include_str!`.
///
/// A migration that several services apply is a `MigrationFile` too, defined once by the library
/// that owns its tables (the outbox: `photoshare_events::OUTBOX_MIGRATION`); each service lists it
/// in its own `embed_migrations!` at its own version ([`MigrationFile::shared`]). sqlx checksums
/// `sql`, so a released migration never changes: a change is a new migration.
#[derive(Debug, Clone, Copy)]
pub struct MigrationFile {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

impl MigrationFile {
    /// The shared migration `shared` as migration `version` of a service (its own version is
    /// ignored: each service numbers its migrations).
    pub const fn shared(version: i64, shared: MigrationFile) -> MigrationFile {
        MigrationFile { version, ..shared }
    }
}

/// Embeds a service's migration files, relative to the calling file:
/// `embed_migrations!("../../migrations/users", 1 => "0001_init")` reads `0001_init.sql` as
/// version 1. A shared migration is listed by its path instead of a file name:
/// `2 => shared(photoshare_events::OUTBOX_MIGRATION)`.
#[macro_export]
macro_rules! embed_migrations {
    ($dir:literal, $($version:literal => $(shared($shared:path))? $($file:literal)?),+ $(,)?) => {
        &[$($crate::__migration_file!($dir, $version, $(shared $shared)? $($file)?)),+]
    };
}

/// One entry of [`embed_migrations!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __migration_file {
    ($dir:literal, $version:literal, shared $shared:path) => {
        $crate::MigrationFile::shared($version, $shared)
    };
    ($dir:literal, $version:literal, $file:literal) => {
        $crate::MigrationFile {
            version: $version,
            description: $file,
            sql: include_str!(concat!($dir, "/", $file, ".sql")),
        }
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

/// The `.sql` files in `dir` that `embedded` does not list: a migration written but forgotten in
/// `embed_migrations!` would never run. Each service's tests assert this is empty.
pub fn unembedded_migrations(
    dir: &std::path::Path,
    embedded: &[MigrationFile],
) -> std::io::Result<Vec<String>> {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|extension| extension != "sql") {
            continue;
        }
        let stem = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !embedded.iter().any(|file| file.description == stem) {
            missing.push(stem);
        }
    }
    missing.sort();
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHARED: MigrationFile = MigrationFile {
        version: 0,
        description: "shared_table",
        sql: "CREATE TABLE IF NOT EXISTS shared_table (id BIGINT PRIMARY KEY);",
    };

    static MIXED: &[MigrationFile] = crate::embed_migrations!(
        "../tests/migrations",
        1 => "0001_sample",
        2 => shared(SHARED),
        3 => "0002_second",
    );

    #[test]
    fn files_and_shared_migrations_mix_in_one_list() {
        let listed: Vec<(i64, &str)> = MIXED
            .iter()
            .map(|file| (file.version, file.description))
            .collect();
        assert_eq!(
            listed,
            [(1, "0001_sample"), (2, "shared_table"), (3, "0002_second")]
        );
        assert_eq!(MIXED[1].sql, SHARED.sql);
        assert_eq!(
            MIXED[0].sql,
            include_str!("../tests/migrations/0001_sample.sql")
        );
    }

    #[test]
    fn files_on_disk_that_are_not_embedded_are_named() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["0001_init.sql", "0002_more.sql", "README.md"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let embedded = [MigrationFile {
            version: 1,
            description: "0001_init",
            sql: "",
        }];
        assert_eq!(
            unembedded_migrations(dir.path(), &embedded).unwrap(),
            vec!["0002_more".to_owned()]
        );
    }
}
