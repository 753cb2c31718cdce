//! Liveness sessions made from one photo, so the liveness logic can be tested and measured
//! without a camera (`facematch-lab liveness generate`, README "Liveness"). They test the logic
//! (order, geometry, tracking), not how real attack instruments look to a real camera.
//!
//! - **bona fide**: the photo rendered as a 2.5-D head turning (a paraboloid the size of the
//!   face plus a nose ridge, from the five landmarks; average adult proportions), doing the
//!   asked movements out and back;
//! - **print**: the photo on paper, tilted by hand to follow the asked movements;
//! - **screen**: the photo on a phone (bezel, moiré, bluish light), tilted the same way;
//! - **video replay**: a bona fide rendering doing *another* random order, on a screen;
//! - **card**: the photo printed on an ID card, held up close and tilted;
//! - **static**: one frontal frame, frozen (sensor noise only);
//! - **mask**: a rigid mask of the head (its shape and the photo's colours), moved as a head;
//! - **splice**: a bona fide recording of the asked movements, made under an earlier attempt's
//!   colours, injected as clean frames (no screen between). Clips cut at the centre between
//!   movements look here as one take does: every movement starts and ends at the centre;
//! - **bent print**: the print bent round an upright cylinder through the nose (radius 0.9 face
//!   widths), turned as the solid it is ([`PrintShape`]);
//! - **folded print**: the print folded along the upright through the nose, each half turned
//!   back 20-35°, the ridge toward the camera, turned as the solid it is.
//!
//! Under the screen's light ([`ScreenLight`]) every surface in front of the camera is lit by the
//! colours the kiosk shows, as a Lambertian surface facing the screen: a head by its normals,
//! a print by its plane's, a bent or folded print by its shape's. A screen gives off its own
//! light and shows what was recorded, lit (if at all) by the colours of an earlier attempt.
//!
//! Frames are 640×480 at 15 frames/s with the face about 190 px wide; every draw comes from
//! the seed. [`LiveHead`] films a bona fide head one frame at a time under whatever light the
//! caller gives, so the kiosk's own colours, drawn when its attempt starts, can be answered.

use std::fmt;
use std::str::FromStr;

use image::{imageops, Rgb, RgbImage};

use crate::print_shape::{draw_turned, Held, PrintShape};
use crate::session_condition::SessionCondition;
use crate::synthetic_capture::{add_noise, place};
use crate::synthetic_card::{draw_card, portrait_crop, CardStyle, Rng};
use facematch::domain::Face;
use facematch::liveness::flash::{linear, srgb, FlashSequence};
use facematch::liveness::{Challenge, Direction};

/// Frame size of a generated session.
pub const FRAME_SIZE: (u32, u32) = (640, 480);
/// Frames per second the timelines are drawn at.
pub const FPS: f32 = 15.0;
/// Width of the face box in a bona fide frame, pixels.
const FACE_WIDTH: f32 = 190.0;
/// The desk behind a held picture (shaded across the frame).
const BACKGROUND: Rgb<u8> = Rgb([150, 146, 138]);

/// What is in front of the camera, as ISO/IEC 30107-3 names it: bona fide or an attack species.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Species {
    /// A living person doing the challenge.
    BonaFide,
    /// A paper print of the photo.
    Print,
    /// The photo on a phone screen.
    Screen,
    /// A video of the person doing another order of movements, on a screen.
    VideoReplay,
    /// The ID card held up.
    Card,
    /// A frozen frame.
    Static,
    /// A rigid mask of the head, moved as a head.
    Mask,
    /// A bona fide recording cut per movement into the asked order, injected as clean frames.
    Splice,
    /// A print bent round an upright cylinder.
    BentPrint,
    /// A print folded along the upright through the nose.
    FoldedPrint,
}

impl Species {
    /// The six the movement test was built against, bona fide first: the first six of
    /// [`Species::EVERY`].
    pub const ALL: &'static [Species] = Species::EVERY.split_at(6).0;

    /// All ten: [`Species::ALL`], the attacks the screen's light is for, and the folded print.
    pub const EVERY: [Species; 10] = [
        Species::BonaFide,
        Species::Print,
        Species::Screen,
        Species::VideoReplay,
        Species::Card,
        Species::Static,
        Species::Mask,
        Species::Splice,
        Species::BentPrint,
        Species::FoldedPrint,
    ];

    /// The label used in `sessions.csv` (`bona_fide`, `print`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Species::BonaFide => "bona_fide",
            Species::Print => "print",
            Species::Screen => "screen",
            Species::VideoReplay => "video_replay",
            Species::Card => "card",
            Species::Static => "static",
            Species::Mask => "mask",
            Species::Splice => "splice",
            Species::BentPrint => "bent_print",
            Species::FoldedPrint => "folded_print",
        }
    }
}

impl fmt::Display for Species {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Species {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Species::EVERY
            .into_iter()
            .find(|k| k.label() == s)
            .ok_or_else(|| format!("unknown species {s:?}"))
    }
}

/// One generated session.
#[derive(Debug, Clone)]
pub struct GeneratedSession {
    /// The frames, in order.
    pub frames: Vec<RgbImage>,
    /// The movements the frames show (differs from the asked ones for a replay; none for a
    /// static frame).
    pub shows: Vec<Direction>,
}

/// The kiosk screen's light in a generated session.
#[derive(Debug, Clone)]
pub struct ScreenLight {
    /// The colours the kiosk shows in this attempt, from its first frame on.
    pub shown: FlashSequence,
    /// The colours of an earlier attempt, which lit what a replay or a splice recorded.
    pub recorded: FlashSequence,
    /// The screen's light on a surface facing it, relative to the room's light (linear).
    pub strength: f32,
    /// The camera's latency, seconds: a frame shows the colour on screen this long before.
    pub latency: f32,
}

impl ScreenLight {
    /// Draws the sequences and the latency from `seed`, at `strength`.
    pub fn draw(strength: f32, seed: u64) -> ScreenLight {
        let rng = &mut Rng(seed ^ 0xF1A5_4000);
        ScreenLight {
            shown: FlashSequence::draw(|| rng.next()),
            recorded: FlashSequence::draw(|| rng.next()),
            strength,
            latency: rng.range(0.05, 0.25),
        }
    }

    /// The light of `sequence` on frame `n` at `fps`, per channel, times the strength.
    fn on_frame(&self, sequence: &FlashSequence, n: usize, fps: f32) -> [f32; 3] {
        let t = n as f32 / fps - self.latency;
        sequence.at(t).map_or([0.0; 3], |(tint, _)| tint.light().map(|l| l * self.strength))
    }
}

/// Where the screen is seen from the face: in front, a little below the camera (x right, y
/// down, z toward the camera).
const TO_SCREEN: [f32; 3] = [0.0, 0.287, 0.958];

/// A session of `species` made from `photo` whose face is `face`, asked `asked`, without the
/// screen's light.
pub fn generate(
    photo: &RgbImage,
    face: &Face,
    species: Species,
    asked: &Challenge,
    seed: u64,
) -> GeneratedSession {
    generate_filmed(photo, face, species, asked, seed, None, &SessionCondition::CLEAN)
}

/// A session of `species` made from `photo` whose face is `face`, asked `asked`, under the
/// screen's light `light` when given, filmed and paced as `condition` says.
pub fn generate_filmed(
    photo: &RgbImage,
    face: &Face,
    species: Species,
    asked: &Challenge,
    seed: u64,
    light: Option<&ScreenLight>,
    condition: &SessionCondition,
) -> GeneratedSession {
    // The scene is drawn at 640×480, then filmed by the condition's camera.
    let fps = condition.fps;
    let mut rng = Rng(seed ^ 0x5EED_0F11_FE00);
    let (frontal, head) = stage(photo, face);
    let shows = match species {
        Species::VideoReplay => Challenge::draw(|| rng.next()).0,
        Species::Static => Vec::new(),
        _ => asked.0.clone(),
    };
    let light_of = |recording: bool, n: usize| {
        light.map_or([0.0; 3], |l| {
            l.on_frame(if recording { &l.recorded } else { &l.shown }, n, fps)
        })
    };
    let shown = |n: usize| light_of(false, n);
    let recorded = |n: usize| light_of(true, n);
    let frames = match species {
        Species::BonaFide | Species::Mask | Species::Splice => {
            let poses = timeline(&shows, (17.0, 25.0), condition, &mut rng);
            let splice = species == Species::Splice;
            let mask = species == Species::Mask;
            poses
                .iter()
                .enumerate()
                .map(|(n, &p)| {
                    let light = light_of(splice, n);
                    let frame = head_frame(&frontal, &head, p, light, condition.neck, &mut rng);
                    if mask {
                        resin(frame)
                    } else {
                        frame
                    }
                })
                .collect()
        }
        Species::Static => {
            let n = timeline(&asked.0, (0.0, 0.0), condition, &mut rng).len();
            (0..n).map(|_| camera(frontal.clone(), &mut rng)).collect()
        }
        Species::Print
        | Species::Screen
        | Species::Card
        | Species::BentPrint
        | Species::FoldedPrint => {
            let (picture, pivot, scale) = match species {
                Species::Print | Species::BentPrint | Species::FoldedPrint => {
                    (as_print(&frontal), centre(&frontal), 0.8)
                }
                Species::Screen => (as_screen(&frontal, &mut rng), centre(&frontal), 0.75),
                _ => held_card(photo, face, &mut rng),
            };
            // A bent or folded print leaves its plane along the upright through the nose.
            let column = head.landmarks[2][0] + print_margin(&frontal) as f32;
            let shape = match species {
                Species::BentPrint => {
                    Some(PrintShape::Bent { column, radius: 0.9 * FACE_WIDTH / scale })
                }
                Species::FoldedPrint => {
                    Some(PrintShape::Folded { column, angle: rng.range(20.0, 35.0).to_radians() })
                }
                _ => None,
            };
            let picture = match &shape {
                Some(s) => s.front(&picture, BACKGROUND),
                None => picture,
            };
            let poses = timeline(&shows, (25.0, 40.0), condition, &mut rng);
            poses
                .iter()
                .enumerate()
                .map(|(n, &p)| {
                    // A screen gives off its own light; paper and card reflect the kiosk's.
                    let lit = match species {
                        Species::Screen => picture.clone(),
                        _ => light_picture(&picture, p, shown(n), shape.as_ref()),
                    };
                    held_frame(&lit, pivot, scale, p, shape.as_ref(), &mut rng)
                })
                .collect()
        }
        Species::VideoReplay => {
            let poses = timeline(&shows, (17.0, 25.0), condition, &mut rng);
            let drift = (rng.range(-4.0, 4.0), rng.range(-4.0, 4.0));
            poses
                .iter()
                .enumerate()
                .map(|(n, &p)| {
                    let shown =
                        head_frame(&frontal, &head, p, recorded(n), condition.neck, &mut rng);
                    let screen = as_screen(&shown, &mut rng);
                    held_frame(&screen, centre(&screen), 0.85, drift, None, &mut rng)
                })
                .collect()
        }
    };
    if *condition == SessionCondition::CLEAN {
        return GeneratedSession { frames, shows };
    }
    let mut camera_rng = Rng(seed ^ 0xC0DE_CA3E);
    let frames = frames.into_iter().map(|f| condition.film(f, &mut camera_rng)).collect();
    GeneratedSession { frames, shows }
}

/// A living person in front of the kiosk, filmed frame by frame: the head does a session's
/// movements (as [`generate_filmed`]'s bona fide species does) and each frame is lit by the
/// light the caller gives for it. A kiosk that draws its colours when an attempt starts can so
/// be answered as a person answers it, which a session generated beforehand cannot.
pub struct LiveHead {
    frontal: RgbImage,
    head: Face,
    poses: Vec<(f32, f32)>,
    condition: SessionCondition,
    rng: Rng,
    camera_rng: Rng,
}

impl LiveHead {
    /// The person of `photo`, whose face is `face`, who will do `asked` at `condition`'s pace,
    /// filmed by its camera.
    pub fn new(
        photo: &RgbImage,
        face: &Face,
        asked: &Challenge,
        seed: u64,
        condition: &SessionCondition,
    ) -> LiveHead {
        let mut rng = Rng(seed ^ 0x11FE_4EAD);
        let (frontal, head) = stage(photo, face);
        let poses = timeline(&asked.0, (17.0, 25.0), condition, &mut rng);
        LiveHead {
            frontal,
            head,
            poses,
            condition: *condition,
            rng,
            camera_rng: Rng(seed ^ 0xC0DE_CA3E),
        }
    }

    /// Frames the movements take, from the first still one to the last.
    pub fn frames(&self) -> usize {
        self.poses.len()
    }

    /// Frame `n` of the movements (before 0 and after the last: looking straight at the
    /// camera), lit by `light` from the screen (per channel, relative to the room's light, on
    /// a surface facing the screen).
    pub fn frame(&mut self, n: Option<usize>, light: [f32; 3]) -> RgbImage {
        let pose = n.and_then(|n| self.poses.get(n)).copied().unwrap_or((0.0, 0.0));
        let neck = self.condition.neck;
        let frame = head_frame(&self.frontal, &self.head, pose, light, neck, &mut self.rng);
        if self.condition == SessionCondition::CLEAN {
            frame
        } else {
            self.condition.film(frame, &mut self.camera_rng)
        }
    }
}

/// `rgb` (sRGB) lit also by `light` (per channel, relative to the room's light) on a surface
/// turned `facing` (the cosine to the screen) toward it.
fn add_light(rgb: Rgb<u8>, light: [f32; 3], facing: f32) -> Rgb<u8> {
    Rgb([0, 1, 2].map(|c| srgb(linear(rgb[c]) * (1.0 + light[c] * facing.max(0.0)))))
}

/// A surface normal (x right, y down, z toward the camera) turned to `pose` as a head turns:
/// yaw, then pitch. `head_frame`'s map turns by each from the unturned depth, the same for the
/// poses a session makes (a turn or a nod, never both at once).
fn turn(n: [f32; 3], pose: (f32, f32)) -> [f32; 3] {
    let (sy, cy) = pose.0.to_radians().sin_cos();
    let (sp, cp) = pose.1.to_radians().sin_cos();
    let (x, z) = (n[0] * cy + n[2] * sy, -n[0] * sy + n[2] * cy);
    let (y, z) = (n[1] * cp - z * sp, n[1] * sp + z * cp);
    [x, y, z]
}

/// The cosine between a surface's normal `n` and the way to the screen.
fn facing(n: [f32; 3]) -> f32 {
    n[0] * TO_SCREEN[0] + n[1] * TO_SCREEN[1] + n[2] * TO_SCREEN[2]
}

/// A picture, flat or of `shape`, turned to `pose`, lit by `light` from the screen.
fn light_picture(
    picture: &RgbImage,
    pose: (f32, f32),
    light: [f32; 3],
    shape: Option<&PrintShape>,
) -> RgbImage {
    if light == [0.0; 3] {
        return picture.clone();
    }
    let columns: Vec<f32> = (0..picture.width())
        .map(|x| {
            let angle = shape.map_or(0.0, |s| s.slope(x as f32));
            facing(turn([angle.sin(), 0.0, angle.cos()], pose))
        })
        .collect();
    RgbImage::from_fn(picture.width(), picture.height(), |x, y| {
        add_light(*picture.get_pixel(x, y), light, columns[x as usize])
    })
}

/// A rigid mask's surface: the photo's colours painted on resin, a little flatter and greyer
/// than skin.
fn resin(frame: RgbImage) -> RgbImage {
    RgbImage::from_fn(frame.width(), frame.height(), |x, y| {
        let p = frame.get_pixel(x, y);
        let grey = (u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2])) as f32 / 3.0;
        Rgb([0, 1, 2].map(|c| (0.85 * f32::from(p[c]) + 0.15 * grey) as u8))
    })
}

/// The pose of [`posed`]'s other photo for the kiosk demo's card (`card --other-photo`): far
/// enough from the frontal photo that the two are not one photo for the kiosk's copy rule,
/// near enough to match (`lab/tests/recording.rs` checks both on the bundled sample).
pub const OTHER_PHOTO_POSE: (f32, f32) = (26.0, 5.0);

/// `photo`, whose face is `face`, re-rendered as another photograph of the same person: the
/// head turned to `pose` ((yaw, pitch) in degrees, as in a session), lit more from the
/// person's left, in a frame of its own. Not a copy of `photo` (the kiosk's copy rule tells
/// the two apart), so the kiosk's demo can print it on the card beside a selfie made from
/// `photo` itself.
pub fn posed(photo: &RgbImage, face: &Face, pose: (f32, f32), seed: u64) -> RgbImage {
    let mut rng = Rng(seed ^ 0x0905_ED00);
    let (frontal, head) = stage(photo, face);
    let turned = head_frame(&frontal, &head, pose, [0.0; 3], 0.0, &mut rng);
    let (x0, x1) = (head.bbox.x, head.bbox.x + head.bbox.w);
    RgbImage::from_fn(turned.width(), turned.height(), |x, y| {
        // Brighter on the person's left (the picture's right), darker on the other side.
        let t = ((x as f32 - x0) / (x1 - x0).max(1.0)).clamp(0.0, 1.0);
        let light = 0.78 + 0.34 * t;
        let p = turned.get_pixel(x, y);
        Rgb([0, 1, 2]
            .map(|c| (f32::from(p[c]) * light + [4.0, 0.0, -6.0][c]).clamp(0.0, 255.0) as u8))
    })
}

fn centre(image: &RgbImage) -> (f32, f32) {
    (image.width() as f32 / 2.0, image.height() as f32 / 2.0)
}

/// The photo scaled and cropped into a frame with the face [`FACE_WIDTH`] wide, centred a
/// little above the middle, and the face's landmarks in that frame.
fn stage(photo: &RgbImage, face: &Face) -> (RgbImage, Face) {
    let s = FACE_WIDTH / face.bbox.w.max(1.0);
    let (fx, fy) = face.bbox.centre();
    let (w, h) = (FRAME_SIZE.0 as f32, FRAME_SIZE.1 as f32);
    let (ox, oy) = (fx - w / 2.0 / s, fy - 0.45 * h / s);
    let fill = Rgb([196, 200, 204]);
    let frame = RgbImage::from_fn(FRAME_SIZE.0, FRAME_SIZE.1, |x, y| {
        let (px, py) = (ox + x as f32 / s, oy + y as f32 / s);
        if px < 0.0
            || py < 0.0
            || px >= photo.width() as f32 - 1.0
            || py >= photo.height() as f32 - 1.0
        {
            return fill;
        }
        imageops::interpolate_bilinear(photo, px, py).unwrap_or(fill)
    });
    let map = |[x, y]: [f32; 2]| [(x - ox) * s, (y - oy) * s];
    let b = &face.bbox;
    let bbox =
        facematch::domain::FaceBox { x: (b.x - ox) * s, y: (b.y - oy) * s, w: b.w * s, h: b.h * s };
    (frame, Face { bbox, score: face.score, landmarks: face.landmarks.map(map) })
}

/// (yaw, pitch) in degrees per frame at `condition`'s rate: still while the kiosk frames the face and shows
/// the first arrow (1.3 s), each movement out to a peak drawn from `peak`, held, and back at
/// its pace, then still while the selfie is chosen (0.8 s); positive yaw is the person's left,
/// positive pitch chin up.
fn timeline(
    moves: &[Direction],
    peak: (f32, f32),
    condition: &SessionCondition,
    rng: &mut Rng,
) -> Vec<(f32, f32)> {
    let (pace, frames) = (&condition.pace, |seconds| condition.frames(seconds));
    let mut poses = vec![(0.0, 0.0); frames(1.3)];
    for d in moves {
        let a = rng.range(peak.0, peak.1);
        let target = match d {
            Direction::Left => (a, 0.0),
            Direction::Right => (-a, 0.0),
            Direction::Up => (0.0, a),
            Direction::Down => (0.0, -a),
        };
        let step = (pace.out.1 - pace.out.0) / 3.0;
        let ramp = frames(pace.out.0 + (rng.next() % 4) as f32 * step);
        let out = (0..=ramp).map(|i| i as f32 / ramp as f32);
        let hold = std::iter::repeat_n(1.0, frames(pace.hold));
        let back = (0..ramp).rev().map(|i| i as f32 / ramp as f32);
        for t in out.chain(hold).chain(back) {
            // Ease in and out, as a head moves.
            let t = 0.5 - 0.5 * (t * std::f32::consts::PI).cos();
            poses.push((target.0 * t, target.1 * t));
        }
        poses.extend(std::iter::repeat_n((0.0, 0.0), frames(pace.pause)));
    }
    poses.extend(std::iter::repeat_n((0.0, 0.0), frames(0.8)));
    poses
}

/// The frontal frame re-rendered with the head turned to `pose`: each pixel moves by the
/// rotation of a surface point at its depth (a paraboloid over the face plus a nose ridge),
/// found by inverting the forward map with a few fixed-point steps. The head is also lit by
/// `light` from the screen, by its turned normals. With `neck` (eye distances behind the face,
/// [`crate::session_condition::NECK`]) the turn is about an axis there: the whole head, its
/// outline too, moves across the room, which stays put (the head's share of the move fading out
/// past its outline, over the neck and shoulders).
fn head_frame(
    frontal: &RgbImage,
    head: &Face,
    pose: (f32, f32),
    light: [f32; 3],
    neck: f32,
    rng: &mut Rng,
) -> RgbImage {
    let l = &head.landmarks;
    let iod = (l[1][0] - l[0][0]).hypot(l[1][1] - l[0][1]).max(1.0);
    let cx = (l[0][0] + l[1][0]) / 2.0;
    let cy = (l[0][1] + l[1][1] + l[3][1] + l[4][1]) / 4.0;
    let (a, b) = (1.15 * iod, 1.6 * iod);
    let nose = l[2];
    let depth = |x: f32, y: f32| {
        let r2 = ((x - cx) / a).powi(2) + ((y - cy) / b).powi(2);
        let skull = 0.9 * iod * (1.0 - r2).max(0.0);
        // The nose: highest at its tip, a narrow ridge fading out well below the eyes.
        let ridge = 0.25
            * iod
            * (-((x - nose[0]) / (0.16 * iod)).powi(2) / 2.0
                - ((y - nose[1] + 0.12 * iod) / (0.24 * iod)).powi(2) / 2.0)
                .exp();
        (skull + ridge, (1.0 - r2).clamp(0.0, 1.0))
    };
    let (sy, cyaw) = pose.0.to_radians().sin_cos();
    let (sp, cp) = pose.1.to_radians().sin_cos();
    let (jx, jy) = (rng.range(-1.0, 1.0), rng.range(-1.0, 1.0));
    let pivot = neck * iod;
    // The share of the neck's move a point takes: all of it on the head, none past twice the
    // head's ellipse. Fading over a whole ellipse keeps the map from folding over (a 25° turn
    // moves the head 0.63 eye distances; the fade is 1.15 wide).
    let carried = |x: f32, y: f32| {
        let r = (((x - cx) / a).powi(2) + ((y - cy) / b).powi(2)).sqrt();
        (2.0 - r).clamp(0.0, 1.0)
    };
    let forward = |x: f32, y: f32| {
        let (z, inside) = depth(x, y);
        let z = if pivot > 0.0 { z + pivot * carried(x, y) } else { z };
        (
            x + inside * (x - cx) * (cyaw - 1.0) + z * sy + jx,
            y + inside * (y - cy) * (cp - 1.0) - z * sp + jy,
        )
    };
    let fill = Rgb([196, 200, 204]);
    // Only the head moves: outside its ellipse (with a margin for the turn, and on a neck for
    // the fading and the head's whole move) the map is the hand's jitter alone.
    let (reach, steps) = if pivot > 0.0 { ((2.1, 2.1), 10) } else { ((1.4, 1.3), 5) };
    let travel = pivot * sy.abs().max(sp.abs());
    let (x0, x1) = (cx - reach.0 * a - travel, cx + reach.0 * a + travel);
    let (y0, y1) = (cy - reach.1 * b - travel, cy + reach.1 * b + travel);
    let frame = RgbImage::from_fn(frontal.width(), frontal.height(), |x, y| {
        let (tx, ty) = (x as f32, y as f32);
        let (mut sx, mut sy_) = (tx - jx, ty - jy);
        let on_head = (x0..x1).contains(&tx) && (y0..y1).contains(&ty);
        if on_head {
            for _ in 0..steps {
                let (fx, fy) = forward(sx, sy_);
                sx += (tx - fx) * 0.8;
                sy_ += (ty - fy) * 0.8;
            }
        }
        let pixel = imageops::interpolate_bilinear(frontal, sx, sy_).unwrap_or(fill);
        if !on_head || light == [0.0; 3] {
            return pixel;
        }
        // The surface's normal there from its depth's slopes, turned with the head; the room
        // behind the head is too far from the screen to be lit by it.
        if depth(sx, sy_).1 <= 0.0 {
            return pixel;
        }
        let dzdx = (depth(sx + 1.0, sy_).0 - depth(sx - 1.0, sy_).0) / 2.0;
        let dzdy = (depth(sx, sy_ + 1.0).0 - depth(sx, sy_ - 1.0).0) / 2.0;
        let norm = (dzdx * dzdx + dzdy * dzdy + 1.0).sqrt();
        let normal = turn([-dzdx / norm, -dzdy / norm, 1.0 / norm], pose);
        add_light(pixel, light, facing(normal))
    });
    camera(frame, rng)
}

/// What the camera adds to any frame: sensor noise (the resampling already softens it).
fn camera(mut frame: RgbImage, rng: &mut Rng) -> RgbImage {
    add_noise(&mut frame, rng, 3.0);
    frame
}

/// The white margin round a print of `photo`, pixels.
fn print_margin(photo: &RgbImage) -> u32 {
    photo.width() / 14
}

/// The photo as a paper print: white margin, lower contrast, a warm cast.
fn as_print(photo: &RgbImage) -> RgbImage {
    let margin = print_margin(photo);
    let mut paper = RgbImage::from_pixel(
        photo.width() + 2 * margin,
        photo.height() + 2 * margin,
        Rgb([238, 234, 224]),
    );
    let printed = RgbImage::from_fn(photo.width(), photo.height(), |x, y| {
        let p = photo.get_pixel(x, y);
        Rgb([0, 1, 2].map(|c| {
            let v = 30.0 + 0.8 * f32::from(p[c]) + [6.0, 2.0, -6.0][c];
            v.clamp(0.0, 255.0) as u8
        }))
    });
    imageops::replace(&mut paper, &printed, i64::from(margin), i64::from(margin));
    paper
}

/// The picture on a phone screen: black bezel, brighter and bluish, with the moiré a camera
/// sees on a pixel grid.
fn as_screen(picture: &RgbImage, rng: &mut Rng) -> RgbImage {
    let bezel = picture.width() / 18;
    let mut phone = RgbImage::from_pixel(
        picture.width() + 2 * bezel,
        picture.height() + 3 * bezel,
        Rgb([12, 12, 14]),
    );
    let angle = rng.range(0.2, 1.2);
    let period = rng.range(2.6, 3.6);
    let (s, c) = angle.sin_cos();
    let lit = RgbImage::from_fn(picture.width(), picture.height(), |x, y| {
        let p = picture.get_pixel(x, y);
        let wave =
            1.0 + 0.07 * ((x as f32 * c + y as f32 * s) * std::f32::consts::TAU / period).sin();
        Rgb([0, 1, 2].map(|ch| {
            let v = (12.0 + 1.05 * f32::from(p[ch]) + [-8.0, 0.0, 12.0][ch]) * wave;
            v.clamp(0.0, 255.0) as u8
        }))
    });
    imageops::replace(&mut phone, &lit, i64::from(bezel), i64::from(bezel));
    phone
}

/// The ID card with the holder's photo, the point of the card at the photo's centre, and the
/// scale at which the card is held so that its printed face is about as wide as a selfie's.
fn held_card(photo: &RgbImage, face: &Face, rng: &mut Rng) -> (RgbImage, (f32, f32), f32) {
    let portrait = portrait_crop(photo, &face.bbox);
    let (card, on_card) = draw_card(&portrait, rng, CardStyle::Standard);
    let scale = 0.8 * FACE_WIDTH / (0.55 * on_card.w);
    (card, on_card.centre(), scale)
}

/// A `picture` held in front of a room-like background: its point `pivot` near the frame's
/// centre, `scale` frame pixels per picture pixel when facing the camera, turned to `pose`
/// (degrees, as a head would), with a little hand shake. Flat, or the front view of a print
/// of `shape`, turned as that solid.
fn held_frame(
    picture: &RgbImage,
    pivot: (f32, f32),
    scale: f32,
    pose: (f32, f32),
    shape: Option<&PrintShape>,
    rng: &mut Rng,
) -> RgbImage {
    let (w, h) = (FRAME_SIZE.0 as f32, FRAME_SIZE.1 as f32);
    let mut frame = RgbImage::from_fn(FRAME_SIZE.0, FRAME_SIZE.1, |x, y| {
        let shade = 0.8 + 0.3 * (y as f32 / h) - 0.1 * (x as f32 / w);
        Rgb(BACKGROUND.0.map(|c| (f32::from(c) * shade).min(255.0) as u8))
    });
    let at = (w / 2.0 + rng.range(-3.0, 3.0), 0.45 * h + rng.range(-3.0, 3.0));
    let roll = rng.range(-1.5, 1.5).to_radians();
    let distance = 600.0;
    if let Some(shape) = shape {
        let held = Held { pivot, at, scale, roll, pose, distance };
        draw_turned(&mut frame, picture, shape, &held);
        return camera(frame, rng);
    }
    let (syaw, cyaw) = pose.0.to_radians().sin_cos();
    let (sp, cp) = pose.1.to_radians().sin_cos();
    let (pw, ph) = (picture.width() as f32, picture.height() as f32);
    let corners = [(0.0, 0.0), (pw, 0.0), (pw, ph), (0.0, ph)].map(|(x, y)| {
        let (x, y) = ((x - pivot.0) * scale, (y - pivot.1) * scale);
        let (x, y) = (x * roll.cos() - y * roll.sin(), x * roll.sin() + y * roll.cos());
        // Turned like a head: the picture's normal toward +x for a left turn, toward -y for
        // chin up; z toward the camera.
        let (x, z) = (x * cyaw, -x * syaw);
        let (y, z) = (y * cp, z + y * sp);
        let depth = distance - z;
        (at.0 + distance * x / depth, at.1 + distance * y / depth)
    });
    place(&mut frame, picture, corners);
    camera(frame, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session_condition::NECK;
    use facematch::domain::FaceBox;

    fn photo() -> (RgbImage, Face) {
        let photo = RgbImage::from_fn(400, 500, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let landmarks =
            [[170.0, 220.0], [230.0, 220.0], [200.0, 255.0], [176.0, 285.0], [224.0, 285.0]];
        let face = Face {
            bbox: FaceBox { x: 140.0, y: 170.0, w: 120.0, h: 150.0 },
            score: 0.9,
            landmarks,
        };
        (photo, face)
    }

    #[test]
    fn sessions_are_reproducible_and_replays_show_their_own_order() {
        let (photo, face) = photo();
        let asked: Challenge = "left".parse().unwrap();
        for &species in Species::ALL {
            let a = generate(&photo, &face, species, &asked, 3);
            let b = generate(&photo, &face, species, &asked, 3);
            assert!(a.frames.len() > 25, "{species}");
            assert_eq!(a.frames[16], b.frames[16], "{species}");
            assert_eq!(a.frames[0].dimensions(), FRAME_SIZE);
            match species {
                Species::VideoReplay | Species::Static => {}
                _ => assert_eq!(a.shows, asked.0, "{species}"),
            }
        }
        assert_eq!("video_replay".parse(), Ok(Species::VideoReplay));
    }

    #[test]
    fn a_turned_head_moves_the_nose_region_more_than_the_cheeks() {
        let (photo, face) = photo();
        let (frontal, head) = stage(&photo, &face);
        let mut rng = Rng(1);
        let turned = head_frame(&frontal, &head, (22.0, 0.0), [0.0; 3], 0.0, &mut rng);
        let still = head_frame(&frontal, &head, (0.0, 0.0), [0.0; 3], 0.0, &mut rng);
        let differs = |x: f32, y: f32| {
            let (a, b) =
                (turned.get_pixel(x as u32, y as u32), still.get_pixel(x as u32, y as u32));
            (0..3).map(|c| (i32::from(a[c]) - i32::from(b[c])).abs()).sum::<i32>()
        };
        let nose = head.landmarks[2];
        let corner = (5.0, 5.0);
        assert!(differs(nose[0], nose[1]) > 10);
        assert!(differs(corner.0, corner.1) < 30);
    }

    #[test]
    fn a_head_on_a_neck_carries_its_outline_and_a_relief_does_not() {
        // A photo whose red rises steadily across it, so that how far a pixel's content moved
        // sideways reads off its red.
        let (_, face) = photo();
        let photo = RgbImage::from_fn(400, 500, |x, y| {
            Rgb([(x * 255 / 399) as u8, (y * 255 / 499) as u8, 90])
        });
        let (frontal, head) = stage(&photo, &face);
        // The head's edge (its ellipse) on the row through the eyes.
        let l = head.landmarks;
        let iod = l[1][0] - l[0][0];
        let (x, y) = (((l[0][0] + l[1][0]) / 2.0 + 1.15 * iod) as u32, l[0][1] as u32);
        let moved = |neck: f32| {
            let turned = head_frame(&frontal, &head, (22.0, 0.0), [0.0; 3], neck, &mut Rng(1));
            let still = head_frame(&frontal, &head, (0.0, 0.0), [0.0; 3], neck, &mut Rng(1));
            let red = |image: &RgbImage, x: u32| f32::from(image.get_pixel(x, y)[0]);
            let slope = (red(&still, x + 20) - red(&still, x - 20)) / 40.0;
            (red(&still, x) - red(&turned, x)) / slope
        };
        // Turned 22° about an axis 1.5 eye distances back, the head moves 0.56 eye distances
        // (1.5 · sin 22°), and what now shows at its old edge is cheek from further in, whose
        // own depth adds to that; never more than the axis is deep. The relief's edge stays.
        let (relief, necked) = (moved(0.0).abs(), moved(NECK).abs());
        assert!(relief <= 0.1 * iod, "the relief moved its outline {relief} px");
        assert!((0.5 * iod..NECK * iod).contains(&necked), "the neck moved it {necked} px");
    }
}
