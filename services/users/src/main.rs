//! Runs the users service alone, configured by `PHOTOSHARE_*` environment variables and the
//! optional file named by `PHOTOSHARE_CONFIG` (`photoshare serve users` does the same).

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = photoshare_config::Config::from_process_env().context("loading configuration")?;
    let _telemetry = photoshare_telemetry::init(photoshare_users::SERVICE, &config.telemetry)?;
    let shutdown = photoshare_telemetry::cancel_on_signal();
    photoshare_users::run(config, shutdown)
        .await
        .context("users service")
}
