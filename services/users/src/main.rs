//! Runs the users service alone, as `photoshare serve users` does: configured by `PHOTOSHARE_*`
//! environment variables and the optional file named by `PHOTOSHARE_CONFIG`.

fn main() -> std::process::ExitCode {
    photoshare_runtime::main(&photoshare_users::SPEC)
}
