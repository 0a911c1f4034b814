//! The one photoshare binary's library: the registry of services, `dev` mode (every service in
//! one process, each behind its own loopback port, exactly as in production), and `migrate`.
//!
//! It wires services together and must hold no business logic of its own: `dev`, `serve` and
//! `migrate` only iterate [`SERVICES`].

pub mod dev;

use photoshare_config::Config;
use photoshare_runtime::{RuntimeError, ServiceSpec};

/// Every service of photoshare. Adding a service is one entry here (and its crate).
pub static SERVICES: &[&ServiceSpec] = &[
    &photoshare_gateway::SPEC,
    &photoshare_users::SPEC,
    &photoshare_media::SPEC,
    &photoshare_image_worker::SPEC,
    &photoshare_graph::SPEC,
    &photoshare_engagement::SPEC,
    &photoshare_feed::SPEC,
    &photoshare_feed::WORKER_SPEC,
];

/// The names `photoshare serve` accepts, in registry order.
pub fn service_names() -> Vec<&'static str> {
    SERVICES.iter().map(|spec| spec.name).collect()
}

/// The service `photoshare serve <name>` runs.
pub fn service(name: &str) -> Result<&'static ServiceSpec, RuntimeError> {
    ServiceSpec::find(SERVICES, name)
}

/// Applies every service's pending migrations.
pub async fn migrate(config: &Config) -> Result<(), RuntimeError> {
    photoshare_runtime::migrate(SERVICES, config).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_a_name_of_its_own() {
        let mut names = service_names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SERVICES.len());
    }

    #[test]
    fn serve_knows_exactly_the_registry() {
        assert_eq!(
            service_names(),
            [
                "gateway",
                "users",
                "media",
                "image-worker",
                "graph",
                "engagement",
                "feed",
                "feed-worker"
            ]
        );
        assert_eq!(service("feed-worker").unwrap().name, "feed-worker");
        let error = service("notifications").unwrap_err().to_string();
        assert!(error.contains("`notifications`"), "{error}");
        assert!(error.contains("gateway, users, media"), "{error}");
    }
}
