//! `photoshare`: `dev` runs the whole product in one process, `serve <service>` runs one
//! service (what containers do), `migrate` applies database migrations.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use photoshare::dev::DevApp;
use photoshare_config::Config;

#[derive(Parser)]
#[command(name = "photoshare", version, about = "The photoshare backend.", after_help = env_help())]
struct Cli {
    /// A TOML config file (also `PHOTOSHARE_CONFIG`). Environment variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in one process on embedded backends (PostgreSQL if PHOTOSHARE_POSTGRES_URL is set).
    Dev {
        /// Where data is kept across restarts.
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
        /// Where the REST API listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Run one service from configuration (for containers).
    Serve {
        /// One of the services of the registry (`photoshare::SERVICES`).
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(photoshare::service_names()))]
        service: String,
    },
    /// Apply every service's database migrations, then exit.
    Migrate,
}

fn env_help() -> String {
    let mut help = String::from("Environment variables:\n");
    for var in photoshare_config::ENV_VARS {
        help.push_str(&format!("  {:<38} {}\n", var.name, var.setting));
    }
    help
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let env: HashMap<String, String> = std::env::vars().collect();
    let file = cli
        .config
        .clone()
        .or_else(|| env.get("PHOTOSHARE_CONFIG").map(PathBuf::from));
    let mut config = Config::load(file.as_deref(), &env).context("loading configuration")?;

    match cli.command {
        Command::Dev { data_dir, listen } => {
            config.data_dir = data_dir;
            config.gateway.listen = listen;
            let _telemetry = photoshare_telemetry::init("photoshare-dev", &config.telemetry)?;
            let mut app = DevApp::start(config).await?;
            println!("photoshare ready at http://{}", app.addr);
            tokio::select! {
                _ = photoshare_runtime::shutdown_signal() => app.stop().await,
                failure = app.wait_for_failure() => failure,
            }
        }
        Command::Serve { service } => {
            photoshare_runtime::run(photoshare::service(&service)?, config).await?;
            Ok(())
        }
        Command::Migrate => {
            let _telemetry = photoshare_telemetry::init("photoshare-migrate", &config.telemetry)?;
            photoshare::migrate(&config).await?;
            println!("migrations applied");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_accepts_exactly_the_registrys_names() {
        for name in photoshare::service_names() {
            let parsed = Cli::try_parse_from(["photoshare", "serve", name]);
            assert!(
                matches!(parsed, Ok(Cli { command: Command::Serve { ref service }, .. }) if service == name),
                "{name} refused"
            );
        }
        let refused = Cli::try_parse_from(["photoshare", "serve", "notifications"])
            .err()
            .expect("an unknown service is refused");
        assert_eq!(refused.kind(), clap::error::ErrorKind::InvalidValue);
    }
}
