//! Runs the feed service alone, configured by `PHOTOSHARE_*` environment variables and the
//! optional file named by `PHOTOSHARE_CONFIG` (`photoshare serve feed` does the same).
//!
//! It holds no logic of its own: everything is in the library.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = photoshare_config::Config::from_process_env().context("loading configuration")?;
    let _telemetry = photoshare_telemetry::init(photoshare_feed::SERVICE, &config.telemetry)?;
    let shutdown = photoshare_telemetry::cancel_on_signal();
    photoshare_feed::run(config, shutdown)
        .await
        .context("feed service")
}
