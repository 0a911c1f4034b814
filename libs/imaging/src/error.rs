//! Why an image was refused. Every message is a short sentence for a person: the image worker
//! stores it as the photo's `failure_reason`, so it must not carry paths, offsets of our own
//! memory or anything else internal. [`ErrorKind`] groups the errors the way an API answers them.

use crate::Format;

/// How an API should answer an [`ImagingError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Over a size limit (bytes: 413; pixels: the upload is refused as too large).
    TooLarge,
    /// A real image of a type or variant the pipeline does not take (415).
    Unsupported,
    /// Not an image, or a broken or hostile one (422).
    Invalid,
    /// Our side failed on an image that passed every check (a bug, not the uploader's fault).
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImagingError {
    #[error("the file is {size} bytes, over the limit of {limit} bytes")]
    TooManyBytes { size: usize, limit: usize },
    #[error("the image is {width}x{height} pixels, over the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the image is {width}x{height} pixels, over the limit of {limit} pixels a side")]
    SideTooLong { width: u32, height: u32, limit: u32 },
    #[error("not a supported image: the content is not jpeg, png, gif, webp, heic or heif")]
    NotAnImage,
    #[error("{0} is not supported")]
    Unsupported(String),
    #[error("the {format} image has zero width or height")]
    ZeroSize { format: Format },
    #[error("the {format} file is truncated: {detail}")]
    Truncated {
        format: Format,
        detail: &'static str,
    },
    #[error("the {format} file is corrupt: {detail}")]
    Corrupt { format: Format, detail: String },
    #[error("the {format} file has data after the end of the image")]
    TrailingData { format: Format },
    #[error("the EXIF metadata is malformed: {0}")]
    BadExif(&'static str),
    #[error("making the {variant} variant failed: {detail}")]
    Internal {
        variant: &'static str,
        detail: String,
    },
}

impl ImagingError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ImagingError::TooManyBytes { .. }
            | ImagingError::TooManyPixels { .. }
            | ImagingError::SideTooLong { .. } => ErrorKind::TooLarge,
            ImagingError::Unsupported(_) => ErrorKind::Unsupported,
            ImagingError::Internal { .. } => ErrorKind::Internal,
            _ => ErrorKind::Invalid,
        }
    }

    /// The short human reason (the `Display` text), for a photo's `failure_reason`.
    pub fn reason(&self) -> String {
        self.to_string()
    }

    pub(crate) fn corrupt(format: Format, detail: impl Into<String>) -> ImagingError {
        ImagingError::Corrupt {
            format,
            detail: detail.into(),
        }
    }

    /// A decoder's own error text, cut short: it reaches users, and a hostile file must not be
    /// able to make it long.
    pub(crate) fn decoder(format: Format, error: impl std::fmt::Display) -> ImagingError {
        let mut detail = error.to_string();
        if detail.len() > 160 {
            let mut end = 160;
            while !detail.is_char_boundary(end) {
                end -= 1;
            }
            detail.truncate(end);
            detail.push('…');
        }
        ImagingError::Corrupt { format, detail }
    }

    pub(crate) fn truncated(format: Format, detail: &'static str) -> ImagingError {
        ImagingError::Truncated { format, detail }
    }
}
