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
