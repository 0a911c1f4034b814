//! Runs the graph service alone, as `photoshare serve graph` does: configured by `PHOTOSHARE_*`
//! environment variables and the optional file named by `PHOTOSHARE_CONFIG`.

fn main() -> std::process::ExitCode {
    photoshare_runtime::main(&photoshare_graph::SPEC)
}
