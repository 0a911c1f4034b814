//! Runs the media service alone, as `photoshare serve media` does: configured by `PHOTOSHARE_*`
//! environment variables and the optional file named by `PHOTOSHARE_CONFIG`.

fn main() -> std::process::ExitCode {
    photoshare_runtime::main(&photoshare_media::SPEC)
}
