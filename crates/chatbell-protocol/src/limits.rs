/// Bounds on what a frame may contain. A frame over any bound is rejected with a
/// [`ParseError`](crate::ParseError) naming the bound; the raw frame is still the caller's to log.
///
/// The defaults are generous for chat traffic (a Telegram message is at most 4,096 characters)
/// and small enough that a hostile peer cannot make one frame cost more than a few megabytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in one frame.
    pub max_frame_bytes: usize,
    /// Nesting of JSON arrays and objects, the envelope itself counting as 1.
    pub max_depth: usize,
    /// Bytes in message text (`text`, `first_message`).
    pub max_text_bytes: usize,
    /// Bytes in names and short labels (`user_name`, `username`, `source`, `event`).
    pub max_name_bytes: usize,
    /// Bytes in `file_path`.
    pub max_path_bytes: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_frame_bytes: 256 * 1024,
        max_depth: 16,
        max_text_bytes: 64 * 1024,
        max_name_bytes: 512,
        max_path_bytes: 4096,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
