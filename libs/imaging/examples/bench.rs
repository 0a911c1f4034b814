//! Times `process()` (decode, three variants, BlurHash) on the 12 MP camera JPEG and on every
//! accepted corpus file, with the peak resident memory of each, and times `vipsthumbnail`
//! making only the 1080 variant of the same 12 MP file, for a ratio.
//!
//!     cargo run --release -p photoshare-imaging --example bench
//!
//! `PHOTOSHARE_TEST_IMAGES` points at the corpus (default `../shared/testdata/images` beside
//! the repository); `BENCH_RUNS` sets the runs per file (default 7). Peak memory is VmHWM
//! from /proc/self/status, reset before each file through /proc/self/clear_refs, so it covers
//! the whole process (the loaded file included), not just the pipeline.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use photoshare_imaging::{process, Limits};

const TWELVE_MP: &str = "camera_olympus_ep3_12mp.jpg";

fn corpus_dir() -> PathBuf {
    match std::env::var_os("PHOTOSHARE_TEST_IMAGES").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/testdata/images"
        )),
    }
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

/// VmHWM in MiB, or 0 where /proc is not there.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Resets VmHWM to the current RSS (Linux: writing 5 to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn time_ours(path: &Path, runs: usize) -> (f64, f64) {
    let bytes = std::fs::read(path).expect("corpus file");
    let limits = Limits::default();
    reset_peak();
    // One untimed run warms the caches and the allocator.
    process(&bytes, &limits).expect("accepted file");
    let samples = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let processed = process(&bytes, &limits).expect("accepted file");
            let elapsed = start.elapsed();
            std::hint::black_box(processed);
            elapsed
        })
        .collect();
    (median(samples), peak_rss_mib())
}

fn time_vips(path: &Path, runs: usize) -> Result<f64, String> {
    let out = std::env::temp_dir().join("photoshare-bench-vips.jpg");
    let target = format!("{}[Q=82]", out.display());
    let run = || -> Result<Duration, String> {
        let start = Instant::now();
        let status = Command::new("vipsthumbnail")
            .arg(path)
            .args(["-s", "1080", "-o"])
            .arg(&target)
            .status()
            .map_err(|e| format!("cannot run vipsthumbnail ({e}); install libvips-tools"))?;
        let elapsed = start.elapsed();
        if !status.success() {
            return Err(format!("vipsthumbnail failed: {status}"));
        }
        Ok(elapsed)
    };
    run()?;
    let samples = (0..runs).map(|_| run()).collect::<Result<Vec<_>, _>>()?;
    let _ = std::fs::remove_file(&out);
    Ok(median(samples))
}

fn main() {
    let dir = corpus_dir();
    let manifest = dir.join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); set PHOTOSHARE_TEST_IMAGES",
            manifest.display()
        )
    });
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(7);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("photoshare-imaging bench: median of {runs} runs, {threads} CPUs");

    let twelve = dir.join(TWELVE_MP);
    let (ours, rss) = time_ours(&twelve, runs);
    println!("\n{TWELVE_MP} (4032x3024, 12.2 MP)");
    println!(
        "  ours  process() -> thumb+medium+large+blurhash  {ours:8.1} ms   peak RSS {rss:6.1} MiB"
    );
    match time_vips(&twelve, runs) {
        Ok(vips) => {
            println!("  vips  vipsthumbnail -s 1080 (one variant)      {vips:8.1} ms");
            println!(
                "  ratio ours/vips                                {:8.2}",
                ours / vips
            );
        }
        Err(e) => println!("  vips  not measured: {e}"),
    }

    println!("\nevery accepted corpus file:");
    println!(
        "  {:<40} {:>10} {:>14}",
        "file", "median ms", "peak RSS MiB"
    );
    let mut worst_rss: f64 = 0.0;
    for line in text.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() < 8 || columns[7] != "accept" {
            continue;
        }
        let (ms, rss) = time_ours(&dir.join(columns[0]), runs);
        worst_rss = worst_rss.max(rss);
        println!("  {:<40} {ms:>10.1} {rss:>14.1}", columns[0]);
    }
    println!("\nhighest peak RSS over all files: {worst_rss:.1} MiB");
}
