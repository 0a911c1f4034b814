//! What a service tells the runtime about itself: one static [`ServiceSpec`] per service crate
//! (`photoshare_users::SPEC`), listed once in the binary's registry.

use std::net::SocketAddr;

use futures::future::BoxFuture;
use photoshare_config::Config;
use photoshare_db::MigrationFile;

use crate::{RuntimeError, ServiceContext};

/// A service, as the runtime starts it.
pub struct ServiceSpec {
    /// `photoshare serve <name>`, the `service` label of its metrics and the name of its logs.
    pub name: &'static str,
    /// The database it owns, opened with its migrations applied before it starts and closed
    /// after it stops.
    pub database: Option<DatabaseSpec>,
    /// It writes events into an outbox table of its database: the runtime runs the relay that
    /// publishes them, from before the service starts until after it has drained.
    pub outbox_relay: bool,
    /// Where `photoshare serve <name>` binds it.
    pub listen: fn(&Config) -> SocketAddr,
    /// How `photoshare dev` runs it.
    pub dev: Dev,
    /// Runs the service until its context's shutdown, then drains. Started by the runtime,
    /// which alone opens and closes what the spec declares.
    pub start: fn(ServiceContext) -> BoxFuture<'static, Result<(), RuntimeError>>,
}

/// The database of a service: `<prefix><name>` on PostgreSQL, `<data_dir>/<name>.db` on SQLite.
pub struct DatabaseSpec {
    /// Several services may share one (the feed and its worker).
    pub name: &'static str,
    pub migrations: &'static [MigrationFile],
    /// Whether this configuration uses it ([`crate::resolve::always`], or
    /// [`crate::resolve::posts_in_database`] for the feed's SQL post store).
    pub used: fn(&Config) -> bool,
}

impl DatabaseSpec {
    /// A database the service owns alone, used by every configuration.
    pub const fn owned(name: &'static str, migrations: &'static [MigrationFile]) -> DatabaseSpec {
        DatabaseSpec {
            name,
            migrations,
            used: crate::resolve::always,
        }
    }
}

/// How `photoshare dev`, which runs every service in one process, runs this one.
pub enum Dev {
    /// On a loopback port the OS picks, when `runs` says so; `announce` writes its URL
    /// (`http://127.0.0.1:<port>`) into the configuration of the others, like the
    /// `PHOTOSHARE_*_URL` variables do in production.
    Loopback {
        runs: fn(&Config) -> bool,
        announce: fn(&mut Config, &str),
    },
    /// On its configured address (the gateway, which `--listen` moves).
    Configured,
}

/// The declarations; the functions print as nothing useful and are left out.
impl std::fmt::Debug for ServiceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSpec")
            .field("name", &self.name)
            .field(
                "database",
                &self.database.as_ref().map(|database| database.name),
            )
            .field("outbox_relay", &self.outbox_relay)
            .finish_non_exhaustive()
    }
}

impl Dev {
    /// Always run, on a loopback port that `announce` tells the others.
    pub const fn loopback(announce: fn(&mut Config, &str)) -> Dev {
        Dev::Loopback {
            runs: crate::resolve::always,
            announce,
        }
    }
}

impl ServiceSpec {
    /// The spec named `name` in `registry`, or an error that lists the names there are.
    pub fn find<'a>(
        registry: &[&'a ServiceSpec],
        name: &str,
    ) -> Result<&'a ServiceSpec, RuntimeError> {
        registry
            .iter()
            .find(|spec| spec.name == name)
            .copied()
            .ok_or_else(|| RuntimeError::UnknownService {
                name: name.to_owned(),
                known: registry
                    .iter()
                    .map(|spec| spec.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The database this configuration uses, if any.
    pub fn database_used(&self, config: &Config) -> Option<&DatabaseSpec> {
        self.database
            .as_ref()
            .filter(|database| (database.used)(config))
    }
}
