//! Runs the engagement service alone, configured by `PHOTOSHARE_*` environment variables and the
//! optional file named by `PHOTOSHARE_CONFIG`. It holds no logic: that is the library's.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = photoshare_config::Config::from_process_env().context("loading configuration")?;
    let _telemetry = photoshare_telemetry::init(photoshare_engagement::SERVICE, &config.telemetry)?;
    let shutdown = photoshare_telemetry::cancel_on_signal();
    photoshare_engagement::run(config, shutdown)
        .await
        .context("engagement service")
}
