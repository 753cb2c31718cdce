//! Camera-like document captures: a synthetic card (see [`crate::synthetic_card`]) as the
//! kiosk camera or a phone photographs it, in one named [`Condition`] at a time, so that
//! document detection and matching can be measured per condition (docs/accuracy.md "Documents
//! photographed by a camera").
//!
//! The card is a plane seen by a pinhole camera (focal length 1000 px) in a 1280×720 frame
//! over a desk-like background, with sensor noise and a slight defocus; each condition adds
//! its effect on top. Every draw comes from the seed, so a set can be regenerated exactly.

use image::{imageops, Rgb, RgbImage, Rgba, RgbaImage};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};

use crate::synthetic_card::{draw_card, encode_jpeg, print_card, CardStyle, Rng, CARD_SIZE};

/// Camera frame size.
pub const FRAME_SIZE: (u32, u32) = (1280, 720);
/// Focal length of the simulated camera, pixels.
const FOCAL_PX: f32 = 1000.0;

/// One way a document arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Condition {
    /// Flatbed scan of the card (856×540, blur, JPEG 55-80): the cards of `lab/tests/cards.rs`.
    Scan,
    /// Card 400-450 px wide in the frame, facing the camera.
    Small,
    /// Aadhaar-like card (small greyscale photo), 600 px wide.
    SmallGreyscalePhoto,
    /// Card 500 px wide, tilted 15-30 degrees away from the camera.
    Tilt,
    /// Card 500 px wide, JPEG quality 40.
    Jpeg40,
    /// Card 500 px wide, 5 px motion blur.
    MotionBlur,
    /// Card 500 px wide, a bright reflection over the photo.
    Glare,
    /// Card 500 px wide, light falling off from one side to the other.
    UnevenLight,
    /// Card 500 px wide, a greyscale camera.
    Greyscale,
    /// Card 500 px wide, the frame turned a quarter turn.
    Turned90,
    /// Card 500 px wide, the frame upside down.
    Turned180,
    /// Card 500 px wide, tilted 15-30 degrees, and 5 px motion blur: a phone held at an angle
    /// by a moving hand.
    TiltMotionBlur,
    /// Aadhaar-like card filling a phone's frame, the photo sent at 600 px wide in JPEG 60, as
    /// messaging apps and web forms shrink it.
    PhoneAadhaar600,
    /// Card 400-600 px wide, tilted 15-30 degrees, glare, 5 px motion blur, JPEG 40.
    AllEffects,
    /// Flatbed scan of a card whose photo shows a second person, nearer the camera and partly
    /// cut off, beside the holder ([`crate::synthetic_card::portrait_with_bystander`]).
    Bystander,
}

impl Condition {
    /// Every condition, in docs/accuracy.md's order.
    pub const ALL: [Condition; 15] = [
        Condition::Scan,
        Condition::Small,
        Condition::SmallGreyscalePhoto,
        Condition::Tilt,
        Condition::Jpeg40,
        Condition::MotionBlur,
        Condition::Glare,
        Condition::UnevenLight,
        Condition::Greyscale,
        Condition::Turned90,
        Condition::Turned180,
        Condition::TiltMotionBlur,
        Condition::PhoneAadhaar600,
        Condition::AllEffects,
        Condition::Bystander,
    ];

    /// The name used on the command line, in folder names and in docs/accuracy.md.
    pub fn name(self) -> &'static str {
        match self {
            Condition::Scan => "scan",
            Condition::Small => "small",
            Condition::SmallGreyscalePhoto => "aadhaar-like",
            Condition::Tilt => "tilt",
            Condition::Jpeg40 => "jpeg40",
            Condition::MotionBlur => "motion-blur",
            Condition::Glare => "glare",
            Condition::UnevenLight => "uneven-light",
            Condition::Greyscale => "greyscale",
            Condition::Turned90 => "turned-90",
            Condition::Turned180 => "turned-180",
            Condition::TiltMotionBlur => "tilt-motion-blur",
            Condition::PhoneAadhaar600 => "phone-aadhaar-600",
            Condition::AllEffects => "all-effects",
            Condition::Bystander => "bystander",
        }
    }
}

impl std::str::FromStr for Condition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Condition::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Condition::ALL.iter().map(|c| c.name()).collect();
            format!("unknown condition {s:?}; one of {}", names.join(", "))
        })
    }
}

/// The parameters one capture is drawn with.
struct Shot {
    card_width: f32,
    tilt_degrees: f32,
    glare: bool,
    motion_blur: bool,
    uneven_light: bool,
    greyscale: bool,
    quality: u8,
    quarter_turns: u8,
    /// The frame is shrunk to this width before encoding, when set.
    sent_width: Option<u32>,
    /// How far the card's centre may stray from the frame's, as a share of the usual range.
    off_centre: f32,
}

impl Shot {
    fn draw(condition: Condition, rng: &mut Rng) -> Shot {
        let mut shot = Shot {
            card_width: 500.0,
            tilt_degrees: 0.0,
            glare: false,
            motion_blur: false,
            uneven_light: false,
            greyscale: false,
            quality: 85,
            quarter_turns: 0,
            sent_width: None,
            off_centre: 1.0,
        };
        match condition {
            Condition::Scan | Condition::Bystander => {}
            Condition::Small => shot.card_width = rng.range(400.0, 450.0),
            Condition::SmallGreyscalePhoto => shot.card_width = 600.0,
            Condition::Tilt => shot.tilt_degrees = rng.range(15.0, 30.0),
            Condition::Jpeg40 => shot.quality = 40,
            Condition::MotionBlur => shot.motion_blur = true,
            Condition::Glare => shot.glare = true,
            Condition::UnevenLight => shot.uneven_light = true,
            Condition::Greyscale => shot.greyscale = true,
            Condition::Turned90 => shot.quarter_turns = 1 + 2 * (rng.next() % 2) as u8,
            Condition::Turned180 => shot.quarter_turns = 2,
            Condition::TiltMotionBlur => {
                shot.tilt_degrees = rng.range(15.0, 30.0);
                shot.motion_blur = true;
            }
            Condition::PhoneAadhaar600 => {
                // Centred, as a person framing a card on a phone does: the whole card stays in
                // the frame at any roll.
                shot.card_width = rng.range(850.0, 950.0);
                shot.quality = 60;
                shot.sent_width = Some(600);
                shot.off_centre = 0.1;
            }
            Condition::AllEffects => {
                shot.card_width = rng.range(400.0, 600.0);
                shot.tilt_degrees = rng.range(15.0, 30.0);
                shot.glare = true;
                shot.motion_blur = true;
                shot.quality = 40;
            }
        }
        shot
    }
}

/// The holder's `portrait` printed on a card drawn from `seed` and captured in `condition`,
/// as JPEG bytes. For [`Condition::Bystander`] the portrait must already show the bystander.
pub fn capture(portrait: &RgbImage, condition: Condition, seed: u64) -> Vec<u8> {
    if matches!(condition, Condition::Scan | Condition::Bystander) {
        return print_card(portrait, seed);
    }
    let mut rng = Rng(seed);
    let style = match condition {
        Condition::SmallGreyscalePhoto | Condition::PhoneAadhaar600 => CardStyle::SmallGreyscale,
        _ => CardStyle::Standard,
    };
    let (card, photo) = draw_card(portrait, &mut rng, style);
    let shot = Shot::draw(condition, &mut rng);
    let corners = card_corners(&shot, &mut rng);
    let mut frame = desk(&mut rng);
    place(&mut frame, &card, corners);
    let pw = photo.w / CARD_SIZE.0 as f32;
    if shot.glare {
        // A reflection somewhere on the photo, about half the photo wide.
        let u = (photo.x + photo.w * rng.range(0.2, 0.8)) / CARD_SIZE.0 as f32;
        let v = (photo.y + photo.h * rng.range(0.2, 0.8)) / CARD_SIZE.1 as f32;
        let centre = on_card(corners, u, v);
        let radius = pw * shot.card_width * rng.range(0.25, 0.4);
        add_glare(&mut frame, centre, radius, rng.range(100.0, 160.0));
    }
    if shot.uneven_light {
        uneven_light(&mut frame, rng.range(0.35, 0.5));
    }
    let mut frame = imageops::blur(&frame, 0.7);
    if shot.motion_blur {
        frame = motion_blur(&frame, 5, rng.next().is_multiple_of(2));
    }
    add_noise(&mut frame, &mut rng, 4.0);
    if shot.greyscale {
        let grey = imageops::grayscale(&frame);
        frame = RgbImage::from_fn(frame.width(), frame.height(), |x, y| {
            let v = grey.get_pixel(x, y)[0];
            Rgb([v, v, v])
        });
    }
    let frame = match shot.quarter_turns {
        1 => imageops::rotate90(&frame),
        2 => imageops::rotate180(&frame),
        3 => imageops::rotate270(&frame),
        _ => frame,
    };
    let frame = match shot.sent_width {
        Some(width) => {
            let height = (frame.height() * width).div_ceil(frame.width());
            imageops::resize(&frame, width, height, imageops::FilterType::Triangle)
        }
        None => frame,
    };
    encode_jpeg(&frame, shot.quality)
}

/// Where the card's corners land in the frame: the card as a plane turned `tilt_degrees` about
/// a random axis in its own plane, at the distance that makes it `card_width` px wide, with a
/// small roll and an offset from the frame's centre.
fn card_corners(shot: &Shot, rng: &mut Rng) -> [(f32, f32); 4] {
    let (cw, ch) = (CARD_SIZE.0 as f32, CARD_SIZE.1 as f32);
    let distance = FOCAL_PX * cw / shot.card_width;
    let axis = rng.range(0.0, std::f32::consts::TAU);
    let tilt = shot.tilt_degrees.to_radians();
    let roll = rng.range(-6.0, 6.0).to_radians();
    let (fw, fh) = (FRAME_SIZE.0 as f32, FRAME_SIZE.1 as f32);
    let off = shot.off_centre;
    let centre =
        (fw / 2.0 + rng.range(-0.12, 0.12) * off * fw, fh / 2.0 + rng.range(-0.1, 0.1) * off * fh);
    let (ax, ay) = (axis.cos(), axis.sin());
    [(-cw / 2.0, -ch / 2.0), (cw / 2.0, -ch / 2.0), (cw / 2.0, ch / 2.0), (-cw / 2.0, ch / 2.0)]
        .map(|(x, y)| {
            let (x, y) = (x * roll.cos() - y * roll.sin(), x * roll.sin() + y * roll.cos());
            // Rodrigues' rotation about the in-plane axis (ax, ay, 0).
            let along = x * ax + y * ay;
            let (px, py) = (x - along * ax, y - along * ay);
            let (x, y, z) = (along * ax + px * tilt.cos(), along * ay + py * tilt.cos(), {
                // The perpendicular part's out-of-plane component.
                (ax * py - ay * px) * tilt.sin()
            });
            let depth = distance + z;
            (centre.0 + FOCAL_PX * x / depth, centre.1 + FOCAL_PX * y / depth)
        })
}

/// The frame point of the card point at fractions (u, v) of its width and height.
fn on_card(corners: [(f32, f32); 4], u: f32, v: f32) -> (f32, f32) {
    let (cw, ch) = (CARD_SIZE.0 as f32, CARD_SIZE.1 as f32);
    let from = [(0.0, 0.0), (cw, 0.0), (cw, ch), (0.0, ch)];
    match Projection::from_control_points(from, corners) {
        Some(p) => p * (u * cw, v * ch),
        None => corners[0],
    }
}

/// A desk under the card: a warm grey gradient with a faint grain.
fn desk(rng: &mut Rng) -> RgbImage {
    let base = [rng.range(90.0, 160.0), rng.range(80.0, 140.0), rng.range(70.0, 120.0)];
    let (fw, fh) = FRAME_SIZE;
    RgbImage::from_fn(fw, fh, |x, y| {
        let shade = 0.85 + 0.3 * (x as f32 / fw as f32) - 0.1 * (y as f32 / fh as f32);
        let grain = (((x * 7 + y * 13) % 17) as f32 - 8.0) * 0.8;
        Rgb(base.map(|c| (c * shade + grain).clamp(0.0, 255.0) as u8))
    })
}

/// Draws a flat picture (a card, a print, a screen) onto the frame through the perspective map
/// that sends its corners (clockwise from the top left) to `corners`, with anti-aliased edges.
pub(crate) fn place(frame: &mut RgbImage, card: &RgbImage, corners: [(f32, f32); 4]) {
    let (cw, ch) = (card.width() as f32, card.height() as f32);
    let Some(projection) =
        Projection::from_control_points([(0.0, 0.0), (cw, 0.0), (cw, ch), (0.0, ch)], corners)
    else {
        return;
    };
    let card = RgbaImage::from_fn(card.width(), card.height(), |x, y| {
        let p = card.get_pixel(x, y);
        Rgba([p[0], p[1], p[2], 255])
    });
    let mut layer = RgbaImage::new(frame.width(), frame.height());
    warp_into(
        &card,
        projection,
        Interpolation::Bilinear,
        Border::Constant(Rgba([0, 0, 0, 0])),
        &mut layer,
    );
    for (dst, src) in frame.pixels_mut().zip(layer.pixels()) {
        let a = f32::from(src[3]) / 255.0;
        for c in 0..3 {
            dst[c] = (f32::from(src[c]) * a + f32::from(dst[c]) * (1.0 - a)) as u8;
        }
    }
}

/// A specular reflection: white added with a Gaussian fall-off around `centre`.
fn add_glare(frame: &mut RgbImage, centre: (f32, f32), radius: f32, strength: f32) {
    let two_sigma2 = 2.0 * (radius / 2.0).powi(2);
    for (x, y, p) in frame.enumerate_pixels_mut() {
        let d2 = (x as f32 - centre.0).powi(2) + (y as f32 - centre.1).powi(2);
        let add = strength * (-d2 / two_sigma2).exp();
        if add > 0.5 {
            for c in 0..3 {
                p[c] = (f32::from(p[c]) + add).min(255.0) as u8;
            }
        }
    }
}

/// Light falling from full on the left to `darkest` on the right.
fn uneven_light(frame: &mut RgbImage, darkest: f32) {
    let width = frame.width() as f32;
    for (x, _, p) in frame.enumerate_pixels_mut() {
        let gain = 1.1 - (1.1 - darkest) * (x as f32 / width);
        for c in 0..3 {
            p[c] = (f32::from(p[c]) * gain).min(255.0) as u8;
        }
    }
}

/// A straight motion blur `length` px long, horizontal or vertical.
fn motion_blur(frame: &RgbImage, length: u32, horizontal: bool) -> RgbImage {
    let weights = vec![1.0 / length as f32; length as usize];
    let (w, h) = if horizontal { (length, 1) } else { (1, length) };
    imageproc::filter::filter_clamped::<_, f32, u8>(
        frame,
        imageproc::kernel::Kernel::new(&weights, w, h),
    )
}

/// Sensor noise: uniform, `amplitude` grey levels either way.
pub(crate) fn add_noise(frame: &mut RgbImage, rng: &mut Rng, amplitude: f32) {
    for p in frame.pixels_mut() {
        let n = rng.range(-amplitude, amplitude);
        for c in 0..3 {
            p[c] = (f32::from(p[c]) + n).clamp(0.0, 255.0) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn portrait() -> RgbImage {
        RgbImage::from_fn(300, 400, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]))
    }

    #[test]
    fn same_seed_same_capture_and_frame_sizes() {
        let p = portrait();
        for condition in Condition::ALL {
            let a = capture(&p, condition, 3);
            assert_eq!(a, capture(&p, condition, 3), "{condition:?}");
            let frame = image::load_from_memory(&a).unwrap();
            let expected = match condition {
                Condition::Scan | Condition::Bystander => CARD_SIZE,
                Condition::Turned90 => (FRAME_SIZE.1, FRAME_SIZE.0),
                Condition::PhoneAadhaar600 => (600, 338),
                _ => FRAME_SIZE,
            };
            assert_eq!((frame.width(), frame.height()), expected, "{condition:?}");
        }
    }

    #[test]
    fn the_phone_photo_keeps_the_whole_card_in_the_frame() {
        for seed in 0..200 {
            let mut rng = Rng(seed);
            let shot = Shot::draw(Condition::PhoneAadhaar600, &mut rng);
            for (x, y) in card_corners(&shot, &mut rng) {
                let inside = (0.0..FRAME_SIZE.0 as f32).contains(&x)
                    && (0.0..FRAME_SIZE.1 as f32).contains(&y);
                assert!(inside, "seed {seed}: corner ({x}, {y}) outside the frame");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for condition in Condition::ALL {
            assert_eq!(condition.name().parse::<Condition>(), Ok(condition));
        }
        assert!("sideways".parse::<Condition>().unwrap_err().contains("all-effects"));
    }

    #[test]
    fn untilted_card_has_the_asked_width_and_tilt_foreshortens() {
        let mut rng = Rng(1);
        let mut shot = Shot::draw(Condition::Jpeg40, &mut rng);
        let c = card_corners(&shot, &mut rng);
        let width = ((c[1].0 - c[0].0).powi(2) + (c[1].1 - c[0].1).powi(2)).sqrt();
        assert!((width - 500.0).abs() < 1.0, "{width}");
        // Tilted 30 degrees: the card's area in the frame shrinks by about cos 30.
        let area = |c: [(f32, f32); 4]| {
            0.5 * (0..4)
                .map(|i| c[i].0 * c[(i + 1) % 4].1 - c[(i + 1) % 4].0 * c[i].1)
                .sum::<f32>()
                .abs()
        };
        shot.tilt_degrees = 30.0;
        let tilted = card_corners(&shot, &mut Rng(1));
        let ratio = area(tilted) / area(c);
        assert!((0.8..0.93).contains(&ratio), "{ratio}");
    }
}
