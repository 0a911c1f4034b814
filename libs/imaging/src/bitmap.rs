//! The one in-memory pixel layout the pipeline works on after decoding: 8-bit, opaque, either
//! gray (1 channel) or RGB (3 channels), rows packed without padding. Every decoder converts
//! into it (alpha flattened onto white, CMYK to RGB, 16-bit to 8-bit), so resizing, orienting
//! and encoding each handle exactly two layouts. It does not decide sizes or formats.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bitmap {
    pub width: u32,
    pub height: u32,
    /// 1 (gray) or 3 (RGB).
    pub channels: u8,
    pub data: Vec<u8>,
}

impl Bitmap {
    pub fn new(width: u32, height: u32, channels: u8, data: Vec<u8>) -> Bitmap {
        debug_assert!(channels == 1 || channels == 3);
        debug_assert_eq!(
            data.len(),
            width as usize * height as usize * channels as usize
        );
        Bitmap {
            width,
            height,
            channels,
            data,
        }
    }

    /// Expands gray to RGB; returns RGB unchanged.
    pub fn into_rgb(self) -> Bitmap {
        if self.channels == 3 {
            return self;
        }
        let data = self.data.iter().flat_map(|&v| [v, v, v]).collect();
        Bitmap::new(self.width, self.height, 3, data)
    }
}

/// Composites one channel over white: transparent areas become white, as they look on a page.
#[inline]
fn over_white(value: u8, alpha: u8) -> u8 {
    let (v, a) = (u32::from(value), u32::from(alpha));
    ((v * a + 255 * (255 - a) + 127) / 255) as u8
}

/// Flattens interleaved pixels of `channels` colour channels plus one alpha channel onto white,
/// in place, and drops the alpha: the buffer shrinks from `channels + 1` to `channels` bytes a
/// pixel, so no second full-size buffer is needed.
pub(crate) fn flatten_alpha_in_place(data: &mut Vec<u8>, channels: usize) {
    let stride = channels + 1;
    let pixels = data.len() / stride;
    for pixel in 0..pixels {
        let alpha = data[pixel * stride + channels];
        for c in 0..channels {
            data[pixel * channels + c] = over_white(data[pixel * stride + c], alpha);
        }
    }
    data.truncate(pixels * channels);
}

/// Converts CMYK (as the JPEG decoder hands it: 0 = no ink) to RGB in place, 4 to 3 bytes.
pub(crate) fn cmyk_to_rgb_in_place(data: &mut Vec<u8>) {
    let pixels = data.len() / 4;
    for pixel in 0..pixels {
        let k = 255 - u32::from(data[pixel * 4 + 3]);
        for c in 0..3 {
            let ink = 255 - u32::from(data[pixel * 4 + c]);
            data[pixel * 3 + c] = ((ink * k + 127) / 255) as u8;
        }
    }
    data.truncate(pixels * 3);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_flattens_onto_white() {
        let mut rgba = vec![10, 20, 30, 255, 10, 20, 30, 0, 0, 0, 0, 128];
        flatten_alpha_in_place(&mut rgba, 3);
        assert_eq!(rgba, vec![10, 20, 30, 255, 255, 255, 127, 127, 127]);
        let mut gray_alpha = vec![0, 0, 200, 255];
        flatten_alpha_in_place(&mut gray_alpha, 1);
        assert_eq!(gray_alpha, vec![255, 200]);
    }

    #[test]
    fn cmyk_converts() {
        let mut cmyk = vec![0, 0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 255];
        cmyk_to_rgb_in_place(&mut cmyk);
        assert_eq!(cmyk, vec![255, 255, 255, 0, 0, 0, 0, 255, 255, 0, 0, 0]);
    }

    #[test]
    fn gray_expands_to_rgb() {
        let gray = Bitmap::new(2, 1, 1, vec![7, 9]);
        assert_eq!(gray.into_rgb().data, vec![7, 7, 7, 9, 9, 9]);
    }
}
