//! The unread count drawn into the tray icon: a red pill in the top-right corner with white
//! digits from a built-in 5×7 pixel font (no font files, no text shaping: the same pixels on
//! every platform); and the alert mark while a customer's wait is urgent: an amber disc with a
//! white "!" in the bottom-left corner, so both can show at once. Pure, on RGBA buffers, so it
//! is tested without a tray.

/// An RGBA image, 8 bits per channel, rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// What the badge says: nothing at 0, the count up to 99, then "99+".
pub fn label(unread: u64) -> Option<String> {
    match unread {
        0 => None,
        1..=99 => Some(unread.to_string()),
        _ => Some("99+".into()),
    }
}

const GLYPH_W: u32 = 5;
const GLYPH_H: u32 = 7;

fn glyph(c: char) -> [u8; 7] {
    match c {
        '0' => [
            0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110,
        ],
        '1' => [
            0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
        ],
        '2' => [
            0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111,
        ],
        '3' => [
            0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110,
        ],
        '4' => [
            0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010,
        ],
        '5' => [
            0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110,
        ],
        '6' => [
            0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110,
        ],
        '7' => [
            0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000,
        ],
        '8' => [
            0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110,
        ],
        '9' => [
            0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100,
        ],
        '+' => [
            0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000,
        ],
        '!' => [
            0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00100,
        ],
        _ => [0; 7],
    }
}

const RED: [u8; 3] = [0xE5, 0x39, 0x35];
/// The alert's colour: apart from the badge's red, so "urgent" and "unread" read differently.
const AMBER: [u8; 3] = [0xFB, 0x8C, 0x00];
const WHITE: [u8; 3] = [0xFF, 0xFF, 0xFF];

impl Canvas {
    fn blend(&mut self, x: u32, y: u32, color: [u8; 3], coverage: f32) {
        if x >= self.width || y >= self.height || coverage <= 0.0 {
            return;
        }
        let i = ((y * self.width + x) * 4) as usize;
        let a = coverage.min(1.0);
        for (c, value) in color.iter().enumerate() {
            let under = self.rgba[i + c] as f32;
            self.rgba[i + c] = (under + (*value as f32 - under) * a).round() as u8;
        }
        let alpha = self.rgba[i + 3] as f32;
        self.rgba[i + 3] = (alpha + (255.0 - alpha) * a).round() as u8;
    }

    /// Fills a pill (a rectangle with fully rounded ends), anti-aliased by 4×4 supersampling.
    fn pill(&mut self, left: f32, top: f32, width: f32, height: f32, color: [u8; 3]) {
        let r = height / 2.0;
        let inside = |px: f32, py: f32| {
            let cx = px.clamp(left + r, left + width - r);
            let (dx, dy) = (px - cx, py - (top + r));
            dx * dx + dy * dy <= r * r
        };
        for y in top.floor() as u32..(top + height).ceil() as u32 {
            for x in left.floor() as u32..(left + width).ceil() as u32 {
                let mut hits = 0;
                for sy in 0..4 {
                    for sx in 0..4 {
                        let px = x as f32 + (sx as f32 + 0.5) / 4.0;
                        let py = y as f32 + (sy as f32 + 0.5) / 4.0;
                        hits += inside(px, py) as u32;
                    }
                }
                self.blend(x, y, color, hits as f32 / 16.0);
            }
        }
    }

    fn text(&mut self, left: u32, top: u32, text: &str, scale: u32) {
        for (i, c) in text.chars().enumerate() {
            let x0 = left + i as u32 * (GLYPH_W + 1) * scale;
            for (row, bits) in glyph(c).iter().enumerate() {
                for col in 0..GLYPH_W {
                    if bits & (1 << (GLYPH_W - 1 - col)) != 0 {
                        for dy in 0..scale {
                            for dx in 0..scale {
                                self.blend(
                                    x0 + col * scale + dx,
                                    top + row as u32 * scale + dy,
                                    WHITE,
                                    1.0,
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The icon with the badge drawn over its top-right corner.
pub fn draw(base: &Canvas, label: &str) -> Canvas {
    let mut out = base.clone();
    let n = label.chars().count() as u32;
    let size = base.width.min(base.height) as f32;
    // Bigger digits when there are fewer of them; at least 1 px per font pixel.
    let scale = ((size / 64.0) * if n <= 2 { 3.0 } else { 2.0 })
        .round()
        .max(1.0) as u32;
    let text_w = n * (GLYPH_W + 1) * scale - scale;
    let text_h = GLYPH_H * scale;
    let height = (text_h as f32 + 2.0 * scale as f32 * 1.5).max(size * 0.42);
    let width = (text_w as f32 + height * 0.6).max(height);
    let ring = (size / 32.0).max(1.0);
    let left = base.width as f32 - width - ring;
    let top = ring;
    // A light ring keeps the badge apart from the glyph under it.
    out.pill(
        left - ring,
        top - ring,
        width + 2.0 * ring,
        height + 2.0 * ring,
        WHITE,
    );
    out.pill(left, top, width, height, RED);
    let tx = (left + (width - text_w as f32) / 2.0).round().max(0.0) as u32;
    let ty = (top + (height - text_h as f32) / 2.0).round().max(0.0) as u32;
    out.text(tx, ty, label, scale);
    out
}

/// The icon with the alert mark (some customer's wait has turned urgent) over its bottom-left
/// corner, away from the count's badge; as tall as the badge, so the two look like one family.
pub fn alert(base: &Canvas) -> Canvas {
    let mut out = base.clone();
    let size = base.width.min(base.height) as f32;
    let scale = ((size / 64.0) * 3.0).round().max(1.0) as u32;
    let text_h = GLYPH_H * scale;
    let diameter = (text_h as f32 + 2.0 * scale as f32 * 1.5).max(size * 0.42);
    let ring = (size / 32.0).max(1.0);
    let left = ring;
    let top = base.height as f32 - diameter - ring;
    out.pill(
        left - ring,
        top - ring,
        diameter + 2.0 * ring,
        diameter + 2.0 * ring,
        WHITE,
    );
    out.pill(left, top, diameter, diameter, AMBER);
    // The "!" sits in the glyph's middle column: centring the 5-column cell centres it.
    let text_w = GLYPH_W * scale;
    let tx = (left + (diameter - text_w as f32) / 2.0).round().max(0.0) as u32;
    let ty = (top + (diameter - text_h as f32) / 2.0).round().max(0.0) as u32;
    out.text(tx, ty, "!", scale);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank(size: u32) -> Canvas {
        Canvas {
            width: size,
            height: size,
            rgba: vec![0; (size * size * 4) as usize],
        }
    }

    fn px(c: &Canvas, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * c.width + x) * 4) as usize;
        [c.rgba[i], c.rgba[i + 1], c.rgba[i + 2], c.rgba[i + 3]]
    }

    #[test]
    fn labels_follow_the_count() {
        let cases = [
            (0, None),
            (1, Some("1")),
            (9, Some("9")),
            (42, Some("42")),
            (99, Some("99")),
            (100, Some("99+")),
            (u64::MAX, Some("99+")),
        ];
        for (n, want) in cases {
            assert_eq!(label(n).as_deref(), want, "{n}");
        }
    }

    #[test]
    fn the_badge_is_red_with_white_digits_in_the_top_right_only() {
        let base = blank(64);
        for text in ["1", "42", "99+"] {
            let out = draw(&base, text);
            let mut red = 0;
            let mut white_inside = 0;
            for y in 0..64 {
                for x in 0..64 {
                    let [r, g, b, a] = px(&out, x, y);
                    if [r, g, b] == RED && a == 255 {
                        red += 1;
                        // Wider counts make a wider pill, but always along the top edge.
                        assert!(
                            x >= 8 && y <= 36,
                            "{text}: red at ({x},{y}) outside the top band"
                        );
                    }
                    if [r, g, b, a] == [255, 255, 255, 255] && x > 24 && y > 2 && y < 34 {
                        white_inside += 1;
                    }
                }
            }
            assert!(red > 150, "{text}: {red} red pixels");
            assert!(white_inside > 30, "{text}: digits drawn ({white_inside})");
            // The bottom half, where the bell's mouth and the bubble's tail are, is untouched.
            assert!(
                (0..64).all(|x| (40..64).all(|y| px(&out, x, y) == [0, 0, 0, 0])),
                "{text}"
            );
        }
    }

    #[test]
    fn the_alert_is_an_amber_disc_with_a_white_mark_in_the_bottom_left_only() {
        let base = blank(64);
        let out = alert(&base);
        let mut amber = 0;
        let mut white_inside = 0;
        for y in 0..64 {
            for x in 0..64 {
                let [r, g, b, a] = px(&out, x, y);
                if [r, g, b] == AMBER && a == 255 {
                    amber += 1;
                    assert!(x <= 36 && y >= 28, "amber at ({x},{y}) outside the corner");
                }
                if [r, g, b, a] == [255, 255, 255, 255]
                    && (13..=21).contains(&x)
                    && (35..=59).contains(&y)
                {
                    white_inside += 1;
                }
            }
        }
        assert!(amber > 300, "{amber} amber pixels");
        assert!(white_inside > 40, "the mark is drawn ({white_inside})");
        // The top-right quarter, where the count's badge goes, is untouched.
        assert!((32..64).all(|x| (0..28).all(|y| px(&out, x, y) == [0, 0, 0, 0])));
        // Both at once: the badge is drawn over the alerted icon and keeps its own corner.
        let both = draw(&out, "3");
        assert_eq!(px(&both, 12, 50), px(&out, 12, 50));
        assert_ne!(both, out);
    }

    #[test]
    fn the_alert_scales_with_the_icon() {
        for size in [16, 22, 32, 256] {
            let out = alert(&blank(size));
            assert_eq!((out.width, out.height), (size, size));
            let corner = px(&out, size / 5, size - size / 5);
            assert_eq!(
                &corner[..3],
                &AMBER[..],
                "{size}: amber near the bottom-left"
            );
        }
    }

    #[test]
    fn different_counts_draw_different_badges_at_any_size() {
        let base = blank(32);
        let a = draw(&base, "1");
        let b = draw(&base, "7");
        assert_ne!(a, b);
        assert_eq!(a.rgba.len(), base.rgba.len());
        let big = draw(&blank(256), "99+");
        assert_eq!((big.width, big.height), (256, 256));
    }
}
