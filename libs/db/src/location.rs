//! Where a service's database lives: given a PostgreSQL server URL, a database
//! `<prefix><service>` on that server; given none, `<data_dir>/<service>.db`. Which URL is
//! configured is the runtime's resolver's business (`photoshare_runtime::resolve`).

use std::fmt;
use std::path::{Path, PathBuf};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::{Backend, DbError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        server_url: String,
        database: String,
    },
}

impl DatabaseLocation {
    pub fn resolve(
        service: &str,
        postgres_url: Option<&str>,
        database_prefix: &str,
        data_dir: &Path,
    ) -> Result<DatabaseLocation, DbError> {
        match postgres_url {
            Some(url) => {
                let database = format!("{database_prefix}{service}");
                if database.is_empty()
                    || database.len() > 63
                    || !database
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                {
                    return Err(DbError::Location(format!(
                        "database name `{database}` must be 1-63 of a-z, 0-9 and _"
                    )));
                }
                Ok(DatabaseLocation::Postgres {
                    server_url: url.to_owned(),
                    database,
                })
            }
            None => Ok(DatabaseLocation::Sqlite {
                path: data_dir.join(format!("{service}.db")),
            }),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseLocation::Sqlite { .. } => Backend::Sqlite,
            DatabaseLocation::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Makes sure the database can be opened, and returns the URL to open it with.
    pub(crate) async fn prepare(&self) -> Result<String, DbError> {
        match self {
            DatabaseLocation::Sqlite { path } => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|source| DbError::DataDir {
                        path: dir.display().to_string(),
                        source,
                    })?;
                }
                Ok(format!("sqlite://{}?mode=rwc", path.display()))
            }
            DatabaseLocation::Postgres {
                server_url,
                database,
            } => {
                create_postgres_database(server_url, database).await?;
                let mut url = url::Url::parse(server_url).map_err(|error| {
                    DbError::Location(format!("{}: {error}", redact(server_url)))
                })?;
                url.set_path(&format!("/{database}"));
                Ok(url.to_string())
            }
        }
    }
}

impl fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseLocation::Sqlite { path } => write!(f, "SQLite file {}", path.display()),
            DatabaseLocation::Postgres {
                server_url,
                database,
            } => write!(
                f,
                "PostgreSQL database `{database}` at {}",
                redact(server_url)
            ),
        }
    }
}

async fn create_postgres_database(server_url: &str, database: &str) -> Result<(), DbError> {
    let server = redact(server_url);
    let options: PgConnectOptions = server_url.parse().map_err(|source| DbError::Connect {
        target: server.clone(),
        source,
    })?;
    // The URL may name no database; then connect to the maintenance database.
    let options = if server_url_names_database(server_url) {
        options
    } else {
        options.database("postgres")
    };
    let mut admin = options.connect().await.map_err(|source| DbError::Connect {
        target: server.clone(),
        source,
    })?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(database)
        .fetch_optional(&mut admin)
        .await?;
    if exists.is_none() {
        // The name was checked to be [a-z0-9_], so quoting it is safe.
        let created = sqlx::query(&format!("CREATE DATABASE \"{database}\""))
            .execute(&mut admin)
            .await;
        match created {
            Ok(_) => tracing::info!(database, "created database"),
            // Another replica created it first: that is what we wanted.
            Err(error) if is_duplicate_database(&error) => {}
            Err(source) => {
                return Err(DbError::Create {
                    name: database.to_owned(),
                    server,
                    source,
                })
            }
        }
    }
    let _ = admin.close().await;
    Ok(())
}

fn server_url_names_database(url: &str) -> bool {
    url::Url::parse(url)
        .map(|url| !url.path().trim_start_matches('/').is_empty())
        .unwrap_or(false)
}

fn is_duplicate_database(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| {
            // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on pg_database.
            code == "42P04" || code == "23505"
        })
}

/// The URL with its password replaced, fit for logs and error messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_postgres_url_means_a_sqlite_file_in_the_data_dir() {
        let location =
            DatabaseLocation::resolve("users", None, "photoshare_", Path::new("/d")).unwrap();
        assert_eq!(
            location,
            DatabaseLocation::Sqlite {
                path: PathBuf::from("/d/users.db")
            }
        );
    }

    #[test]
    fn a_postgres_url_means_one_database_per_service() {
        let location = DatabaseLocation::resolve(
            "users",
            Some("postgres://u:secret@db:5432"),
            "photoshare_",
            Path::new("/d"),
        )
        .unwrap();
        assert_eq!(location.backend(), Backend::Postgres);
        assert!(
            matches!(&location, DatabaseLocation::Postgres { database, .. } if database == "photoshare_users")
        );
        assert!(!location.to_string().contains("secret"), "{location}");
    }

    #[test]
    fn database_names_that_need_quoting_are_refused() {
        for prefix in ["Photo", "a\"; DROP", "x-y"] {
            assert!(DatabaseLocation::resolve(
                "users",
                Some("postgres://h"),
                prefix,
                Path::new(".")
            )
            .is_err());
        }
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://h:5432"), "postgres://h:5432");
    }

    #[test]
    fn a_url_with_a_path_names_its_admin_database() {
        assert!(server_url_names_database("postgres://h/template1"));
        assert!(!server_url_names_database("postgres://h:5432"));
        assert!(!server_url_names_database("postgres://h:5432/"));
    }
}
