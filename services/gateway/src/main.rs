//! Runs the gateway alone, from `PHOTOSHARE_*` environment variables and an optional config
//! file named by `PHOTOSHARE_CONFIG` (the `photoshare` binary does the same with more).

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let file = env.get("PHOTOSHARE_CONFIG").map(std::path::PathBuf::from);
    let config =
        photoshare_config::Config::load(file.as_deref(), &env).context("loading configuration")?;
    let _telemetry = photoshare_telemetry::init(photoshare_gateway::SERVICE, &config.telemetry)?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        photoshare_telemetry::shutdown_signal().await;
        trigger.cancel();
    });
    photoshare_gateway::run(config, shutdown)
        .await
        .context("gateway")
}
