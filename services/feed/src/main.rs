//! Runs the feed service alone, as `photoshare serve feed` does (with an in-process cache, its
//! fan-out worker too): configured by `PHOTOSHARE_*` environment variables and the optional file
//! named by `PHOTOSHARE_CONFIG`.

fn main() -> std::process::ExitCode {
    photoshare_runtime::main(&photoshare_feed::SPEC)
}
