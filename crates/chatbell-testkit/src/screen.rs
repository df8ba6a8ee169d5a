//! A screenshot's pixels, to check what the person would see (a painted list, a selected
//! row) rather than what the page's script says.

/// A PNG's pixels, RGB(A) rows.
pub struct Screen {
    width: usize,
    channels: usize,
    data: Vec<u8>,
}

impl Screen {
    /// The PNG at `path`; `None` if it cannot be read (e.g. half written).
    pub fn read(path: &std::path::Path) -> Option<Screen> {
        let mut decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).ok()?));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().ok()?;
        let mut data = vec![0; reader.output_buffer_size()?];
        let frame = reader.next_frame(&mut data).ok()?;
        data.truncate(frame.buffer_size());
        Some(Screen {
            width: frame.width as usize,
            channels: frame.color_type.samples(),
            data,
        })
    }

    /// How many pixels in the area are `like` (given RGB).
    pub fn count(
        &self,
        xs: std::ops::Range<usize>,
        ys: std::ops::Range<usize>,
        like: impl Fn(&[u8]) -> bool,
    ) -> usize {
        let height = self.data.len() / (self.width * self.channels);
        ys.filter(|y| *y < height)
            .flat_map(|y| xs.clone().filter(|x| *x < self.width).map(move |x| (x, y)))
            .filter(|(x, y)| {
                let at = (y * self.width + x) * self.channels;
                like(&self.data[at..at + 3])
            })
            .count()
    }
}

/// A colour, not a grey (avatars, badges; text and backgrounds are greys).
pub fn saturated(p: &[u8]) -> bool {
    p.iter().max().unwrap() - p.iter().min().unwrap() > 60
}
