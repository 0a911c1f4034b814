//! Runs the image worker alone, configured by `PHOTOSHARE_*` environment variables and the
//! optional file named by `PHOTOSHARE_CONFIG` (`photoshare serve image-worker` does the same).

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = photoshare_config::Config::from_process_env().context("loading configuration")?;
    let _telemetry =
        photoshare_telemetry::init(photoshare_image_worker::SERVICE, &config.telemetry)?;
    let shutdown = photoshare_telemetry::cancel_on_signal();
    photoshare_image_worker::run(config, shutdown)
        .await
        .context("image worker")
}
