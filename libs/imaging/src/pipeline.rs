//! From decoded pixels to the finished variants: the large variant is scaled from the decoded
//! picture, the medium from the large, the thumbnail from the smallest of those that still has
//! enough pixels, each turned upright and encoded; the BlurHash comes from a tiny copy of the
//! medium variant. Scaling happens in the stored orientation and only the variants are turned,
//! so the full-size picture is never copied for rotation. The large variant is encoded on a
//! second thread while the smaller ones are encoded on this one.

use fast_image_resize::Resizer;

use crate::bitmap::Bitmap;
use crate::geometry::{square_crop, variant_size, VariantSpec, LARGE, MEDIUM, THUMB};
use crate::resize::{resize, Region};
use crate::{color, encode, Decoded, Format, ImagingError, Processed, Variant};

/// The BlurHash is computed on a copy this small: it keeps 12 cosine components, so more pixels
/// change nothing visible and cost time.
const BLURHASH_SIDE: u32 = 32;

fn internal(variant: &'static str) -> impl Fn(String) -> ImagingError {
    move |detail| ImagingError::Internal { variant, detail }
}

pub(crate) fn run(format: Format, decoded: Decoded) -> Result<Processed, ImagingError> {
    let Decoded {
        image,
        full_width,
        full_height,
        orientation,
        icc,
    } = decoded;
    let mut resizer = Resizer::new();
    let size = |spec: VariantSpec| variant_size(spec, full_width, full_height);

    let (w, h) = size(LARGE);
    let large = resize(&mut resizer, &image, Region::Whole, w, h).map_err(internal(LARGE.name))?;
    let (w, h) = size(MEDIUM);
    let medium =
        resize(&mut resizer, &large, Region::Whole, w, h).map_err(internal(MEDIUM.name))?;
    let (side, _) = size(THUMB);
    // The thumbnail needs `side` pixels across the short side; a panorama's medium and large
    // variants can be thinner than that, and then it comes from the decoded picture.
    let source = [&medium, &large, &image]
        .into_iter()
        .find(|b| b.width.min(b.height) >= side)
        .unwrap_or(&image);
    let crop = square_crop(source.width, source.height, side);
    let thumb = resize(&mut resizer, source, Region::Square(crop), side, side)
        .map_err(internal(THUMB.name))?;
    drop(image);

    let tiny = {
        let (w, h) = crate::geometry::fit_within(medium.width, medium.height, BLURHASH_SIDE);
        resize(&mut resizer, &medium, Region::Whole, w, h).map_err(internal("blurhash"))?
    };
    let blurhash = blurhash_of(orientation.apply(tiny)).map_err(internal("blurhash"))?;

    let to_srgb = icc.as_deref().and_then(color::ToSrgb::from_icc);
    let finish = |spec: VariantSpec, bitmap: Bitmap| -> Result<Variant, ImagingError> {
        let mut upright = orientation.apply(bitmap);
        if let Some(to_srgb) = &to_srgb {
            to_srgb.apply(&mut upright);
        }
        let bytes = encode::jpeg(&upright).map_err(internal(spec.name))?;
        Ok(Variant {
            name: spec.name,
            width: upright.width,
            height: upright.height,
            content_type: "image/jpeg",
            bytes,
        })
    };
    // A picture that fits in 640 gives medium the very pixels of large: encode them once.
    let same_pixels = (medium.width, medium.height) == (large.width, large.height);
    let (thumb, medium, large) = std::thread::scope(|scope| {
        // The large variant is the costliest to encode; a second core does it meanwhile.
        let large_job = (!same_pixels).then(|| scope.spawn(|| finish(LARGE, large)));
        let thumb = finish(THUMB, thumb);
        let medium = finish(MEDIUM, medium);
        let large = match large_job {
            Some(job) => job
                .join()
                .unwrap_or_else(|_| Err(internal(LARGE.name)("the encoder panicked".into()))),
            None => medium.clone().map(|medium| Variant {
                name: LARGE.name,
                ..medium
            }),
        };
        (thumb, medium, large)
    });
    let variants = vec![thumb?, medium?, large?];
    let (width, height) = orientation.upright(full_width, full_height);
    Ok(Processed {
        format,
        width,
        height,
        variants,
        blurhash,
    })
}

/// 4x3 components for landscape pictures, 3x4 for portrait: the usual BlurHash choice.
fn blurhash_of(upright: Bitmap) -> Result<String, String> {
    let (x, y) = if upright.width >= upright.height {
        (4, 3)
    } else {
        (3, 4)
    };
    let rgb = upright.into_rgb();
    let rgba: Vec<u8> = rgb
        .data
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    blurhash::encode(x, y, rgb.width, rgb.height, &rgba).map_err(|e| e.to_string())
}
