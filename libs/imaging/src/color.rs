//! Colour: variants carry no ICC profile (it is metadata, and a hostile one is an attack on
//! every viewer), so pixels encoded for another colour space (Display P3 from iPhones, Adobe
//! RGB from cameras) are converted to sRGB here with `qcms`, Firefox's colour management in
//! Rust. A profile that does not parse, or that is already sRGB, is ignored: the pixels are
//! then taken as sRGB, which is what a viewer without the profile would show anyway.

use qcms::{DataType, Intent, Profile, Transform};

use crate::bitmap::Bitmap;

/// Past this size an embedded profile is not a plausible display profile; ignore it.
const MAX_PROFILE_BYTES: usize = 1 << 20;

pub(crate) enum ToSrgb {
    Rgb(Transform),
    /// A gray profile: gray pixels become RGB.
    Gray(Transform),
}

impl ToSrgb {
    pub fn from_icc(icc: &[u8]) -> Option<ToSrgb> {
        if icc.len() > MAX_PROFILE_BYTES {
            return None;
        }
        // The data colour space of the ICC header decides which pixels the profile describes;
        // qcms must only be asked for a transform that matches it.
        let space = icc.get(16..20)?;
        let source = Profile::new_from_slice(icc, false)?;
        if source.is_sRGB() {
            return None;
        }
        let mut srgb = Profile::new_sRGB();
        srgb.precache_output_transform();
        match space {
            b"RGB " => {
                Transform::new(&source, &srgb, DataType::RGB8, Intent::Perceptual).map(ToSrgb::Rgb)
            }
            b"GRAY" => Transform::new_to(
                &source,
                &srgb,
                DataType::Gray8,
                DataType::RGB8,
                Intent::Perceptual,
            )
            .map(ToSrgb::Gray),
            _ => None,
        }
    }

    /// Converts in place; a gray picture with a gray profile becomes RGB. A profile that does
    /// not describe the picture's channels (an RGB profile on a gray JPEG) is ignored.
    pub fn apply(&self, image: &mut Bitmap) {
        match (self, image.channels) {
            (ToSrgb::Rgb(transform), 3) => transform.apply(&mut image.data),
            (ToSrgb::Gray(transform), 1) => {
                let mut out = vec![0; image.data.len() * 3];
                transform.convert(&image.data, &mut out);
                image.data = out;
                image.channels = 3;
            }
            _ => {}
        }
    }
}
