//! Runs every file of the shared image corpus (`shared/testdata/images`, rules in its README)
//! through `probe` and `process`: each `accept` row must give its upright size and three
//! metadata-free progressive JPEG variants of the right sizes; each `reject` row must be refused
//! with an error (never a panic). The corpus must be present: a missing corpus fails the run
//! and says where it looked.

use std::path::PathBuf;

use photoshare_imaging::{probe, process, ErrorKind, Format, ImagingError, Limits, Processed};

struct Row {
    file: String,
    format: String,
    width: u32,
    height: u32,
    bytes: u64,
    expected: String,
    note: String,
}

fn corpus_dir() -> PathBuf {
    match std::env::var_os("PHOTOSHARE_TEST_IMAGES").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/testdata/images"
        )),
    }
}

fn manifest() -> (PathBuf, Vec<Row>) {
    let dir = corpus_dir();
    let path = dir.join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the image corpus is missing: cannot read {} ({e}). Set PHOTOSHARE_TEST_IMAGES to the \
             directory holding MANIFEST.tsv, or check out shared/ beside the repository.",
            path.display()
        )
    });
    let rows: Vec<Row> = text
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            assert!(c.len() >= 9, "malformed manifest line: {line}");
            Row {
                file: c[0].to_owned(),
                format: c[2].to_owned(),
                width: c[3].parse().expect("width"),
                height: c[4].parse().expect("height"),
                bytes: c[5].parse().expect("bytes"),
                expected: c[7].to_owned(),
                note: c[8].to_owned(),
            }
        })
        .collect();
    assert!(!rows.is_empty(), "{} lists no files", path.display());
    (dir, rows)
}

/// The upright size: the note's "upright after EXIF orientation: WxH", else the stored size.
fn upright(row: &Row) -> (u32, u32) {
    const MARK: &str = "upright after EXIF orientation: ";
    match row.note.find(MARK) {
        Some(at) => {
            let size = row.note[at + MARK.len()..].trim();
            let (w, h) = size.split_once('x').expect("WxH after the upright mark");
            (
                w.parse().expect("upright width"),
                h.parse().expect("upright height"),
            )
        }
        None => (row.width, row.height),
    }
}

/// The variant sizes the product promises, computed here independently of the crate.
fn expected_variants(width: u32, height: u32) -> [(&'static str, u32, u32); 3] {
    let fit = |max: u32| -> (u32, u32) {
        if width <= max && height <= max {
            return (width, height);
        }
        let long = f64::from(width.max(height));
        let scale = |side: u32| ((f64::from(side) * f64::from(max) / long).round() as u32).max(1);
        if width >= height {
            (max, scale(height))
        } else {
            (scale(width), max)
        }
    };
    let thumb = width.min(height).min(150);
    let (mw, mh) = fit(640);
    let (lw, lh) = fit(1080);
    [
        ("thumb", thumb, thumb),
        ("medium", mw, mh),
        ("large", lw, lh),
    ]
}

/// The JPEG markers before the first scan (where APPn metadata lives), or an error.
fn markers_before_scan(jpeg: &[u8]) -> Result<Vec<u8>, String> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return Err("no SOI".into());
    }
    let mut pos = 2;
    let mut markers = Vec::new();
    loop {
        if jpeg.get(pos) != Some(&0xFF) {
            return Err(format!("no marker at {pos}"));
        }
        let marker = *jpeg.get(pos + 1).ok_or("cut")?;
        markers.push(marker);
        if marker == 0xDA {
            return Ok(markers);
        }
        let len = u16::from_be_bytes([
            *jpeg.get(pos + 2).ok_or("cut")?,
            *jpeg.get(pos + 3).ok_or("cut")?,
        ]);
        pos += 2 + usize::from(len);
    }
}

fn check_accepted(row: &Row, processed: &Processed) -> Result<(), String> {
    let (w, h) = upright(row);
    if (processed.width, processed.height) != (w, h) {
        return Err(format!(
            "upright size {}x{}, expected {w}x{h}",
            processed.width, processed.height
        ));
    }
    let expected = expected_variants(w, h);
    if processed.variants.len() != 3 {
        return Err(format!("{} variants", processed.variants.len()));
    }
    for (variant, (name, ew, eh)) in processed.variants.iter().zip(expected) {
        let label = format!("variant {}", variant.name);
        if variant.name != name || (variant.width, variant.height) != (ew, eh) {
            return Err(format!(
                "{label} is {}x{}, expected {name} {ew}x{eh}",
                variant.width, variant.height
            ));
        }
        if variant.content_type != "image/jpeg" {
            return Err(format!("{label} has content type {}", variant.content_type));
        }
        let markers = markers_before_scan(&variant.bytes).map_err(|e| format!("{label}: {e}"))?;
        if markers.contains(&0xE1) {
            return Err(format!("{label} has an APP1 (EXIF/XMP) segment"));
        }
        if !markers.contains(&0xC2) {
            return Err(format!("{label} is not progressive"));
        }
        if variant.bytes.windows(6).any(|w| w == b"Exif\0\0") {
            return Err(format!("{label} contains an EXIF header"));
        }
        let mut decoder = jpeg_decoder::Decoder::new(&variant.bytes[..]);
        decoder
            .decode()
            .map_err(|e| format!("{label} does not decode: {e}"))?;
        let info = decoder.info().ok_or("no info")?;
        if (u32::from(info.width), u32::from(info.height)) != (ew, eh) {
            return Err(format!("{label} decodes as {}x{}", info.width, info.height));
        }
    }
    let hash = &processed.blurhash;
    if hash.len() != 28 || blurhash::decode(hash, 8, 8, 1.0).is_err() {
        return Err(format!("bad blurhash {hash:?}"));
    }
    Ok(())
}

fn check_rejected(row: &Row, result: Result<Processed, ImagingError>) -> Result<String, String> {
    let error = match result {
        Ok(p) => return Err(format!("accepted as {}x{}", p.width, p.height)),
        Err(error) => error,
    };
    let declared_pixels = u64::from(row.width) * u64::from(row.height);
    let wanted = if row.bytes > 20 * 1024 * 1024 {
        Some(ErrorKind::TooLarge)
    } else if row.format == "avif" {
        Some(ErrorKind::Unsupported)
    } else if declared_pixels > Limits::default().max_pixels {
        Some(ErrorKind::TooLarge)
    } else {
        None
    };
    match wanted {
        Some(kind) if error.kind() != kind => Err(format!(
            "refused as {:?} ({error}), expected {kind:?}",
            error.kind()
        )),
        None if error.kind() != ErrorKind::Invalid => Err(format!(
            "refused as {:?} ({error}), expected Invalid",
            error.kind()
        )),
        _ => Ok(error.reason()),
    }
}

#[test]
fn every_corpus_file_is_accepted_or_refused_as_the_manifest_says() {
    let (dir, rows) = manifest();
    let limits = Limits::default();
    let mut failures = Vec::new();
    for row in &rows {
        let path = dir.join(&row.file);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        assert_eq!(
            bytes.len() as u64,
            row.bytes,
            "{} has the wrong length",
            row.file
        );
        let result = std::panic::catch_unwind(|| process(&bytes, &limits));
        let outcome = match (row.expected.as_str(), result) {
            (_, Err(_)) => Err("panicked".to_owned()),
            ("accept", Ok(Ok(processed))) => check_accepted(row, &processed).map(|()| {
                format!(
                    "{}x{} blurhash {}",
                    processed.width, processed.height, processed.blurhash
                )
            }),
            ("accept", Ok(Err(error))) => Err(format!("refused: {error}")),
            ("reject", Ok(result)) => check_rejected(row, result),
            (other, _) => Err(format!("unknown expectation {other:?}")),
        };
        match outcome {
            Ok(detail) => eprintln!("ok   {:<42} {:<7} {detail}", row.file, row.expected),
            Err(problem) => {
                eprintln!("FAIL {:<42} {:<7} {problem}", row.file, row.expected);
                failures.push(format!("{}: {problem}", row.file));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus files failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn probe_reads_the_stored_size_of_every_accepted_file() {
    let (dir, rows) = manifest();
    for row in rows.iter().filter(|r| r.expected == "accept") {
        let bytes = std::fs::read(dir.join(&row.file)).expect("corpus file");
        let probed =
            probe(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", row.file));
        let size = (probed.width, probed.height);
        // HEIF's ispe is the coded size, before the file's own rotation (irot).
        let rotated = probed.format == Format::Heic || probed.format == Format::Heif;
        assert!(
            size == (row.width, row.height) || (rotated && size == (row.height, row.width)),
            "{}: probe says {size:?}, manifest {}x{}",
            row.file,
            row.width,
            row.height
        );
        assert!(
            probed
                .format
                .matches_content_type(&format!("image/{}", row.format)),
            "{}",
            row.file
        );
    }
}

/// The eight `orientation_N_portrait.jpg` photos are one picture stored eight ways: upright,
/// their thumbnails must agree with orientation 1's.
#[test]
fn all_eight_orientations_come_out_the_same_way_up() {
    let (dir, rows) = manifest();
    let thumb_pixels = |file: &str| -> Vec<u8> {
        let bytes = std::fs::read(dir.join(file)).expect("corpus file");
        let processed = process(&bytes, &Limits::default()).expect(file);
        let mut decoder = jpeg_decoder::Decoder::new(&processed.variants[0].bytes[..]);
        decoder.decode().expect("thumb decodes")
    };
    let files: Vec<&str> = rows
        .iter()
        .map(|r| r.file.as_str())
        .filter(|f| f.starts_with("orientation_") && f.ends_with("_portrait.jpg"))
        .collect();
    assert_eq!(
        files.len(),
        8,
        "the corpus has the eight orientation photos"
    );
    let reference = thumb_pixels("orientation_1_portrait.jpg");
    for file in files {
        let pixels = thumb_pixels(file);
        assert_eq!(pixels.len(), reference.len(), "{file}");
        let diff: u64 = pixels
            .iter()
            .zip(&reference)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = diff as f64 / pixels.len() as f64;
        // A wrong turn or flip of a photo differs by tens of levels on average.
        assert!(
            mean < 8.0,
            "{file}: mean difference {mean:.1} from orientation 1"
        );
    }
}
