//! Compiles the .proto files with protox (pure Rust), so no system `protoc` is needed.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "photoshare/common/v1/common.proto",
    "photoshare/users/v1/users.proto",
    "photoshare/events/v1/events.proto",
    "photoshare/media/v1/media.proto",
    "photoshare/graph/v1/graph.proto",
    "photoshare/engagement/v1/engagement.proto",
    "photoshare/feed/v1/feed.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={}", root.join(proto).display());
    }
    let descriptors = protox::compile(PROTOS, [&root])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
