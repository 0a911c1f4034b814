//! Runs the image worker alone, as `photoshare serve image-worker` does: configured by `PHOTOSHARE_*`
//! environment variables and the optional file named by `PHOTOSHARE_CONFIG`.

fn main() -> std::process::ExitCode {
    photoshare_runtime::main(&photoshare_image_worker::SPEC)
}
