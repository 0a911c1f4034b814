//! Runs the graph service alone, configured by `PHOTOSHARE_*` environment variables and the
//! optional file named by `PHOTOSHARE_CONFIG` (`photoshare serve graph` does the same). It
//! listens on `photoshare_graph::DEFAULT_LISTEN` until the configuration has a graph address.
//!
//! It holds no logic of its own: everything is in the library.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = photoshare_config::Config::from_process_env().context("loading configuration")?;
    let _telemetry = photoshare_telemetry::init(photoshare_graph::SERVICE, &config.telemetry)?;
    let shutdown = photoshare_telemetry::cancel_on_signal();
    photoshare_graph::run(config, shutdown)
        .await
        .context("graph service")
}
