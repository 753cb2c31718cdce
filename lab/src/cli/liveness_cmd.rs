//! `facematch-lab liveness generate`: synthetic liveness sessions (bona fide and eight attack
//! species), under the kiosk's colours when asked, from a folder of face photos, with the
//! sessions.csv that the device's `facematch liveness eval` reads (docs/liveness.md).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use facematch::intake::encode_jpeg;
use facematch::liveness::geometry::nose_offset;
use facematch::liveness::session::FRONTAL_OFFSET;
use facematch::liveness::Challenge;

use super::args::{LivenessArgs, LivenessCommand, LivenessGenerateArgs};
use super::captures_cmd::{read_photos, Photo};
use crate::session_condition::SessionCondition;
use crate::synthetic_card::Rng;
use crate::synthetic_session::{generate_filmed, ScreenLight, Species};

/// Runs the subcommand.
///
/// # Errors
/// An unreadable photo folder, no usable photo, or an unwritable output folder.
pub fn run(args: LivenessArgs) -> Result<()> {
    match args.command {
        LivenessCommand::Generate(g) => generate_cmd(&g),
    }
}

fn generate_cmd(args: &LivenessGenerateArgs) -> Result<()> {
    let mut photos = read_photos(&args.faces, usize::MAX)?;
    if !args.person.is_empty() {
        photos.retain(|p| args.person.contains(&p.identity));
    }
    // A session starts from a person looking at the camera: only frontal photos are used, at
    // most `per_person` of each person.
    let all = photos.len();
    photos.retain(|p| nose_offset(&p.face.landmarks)[0].abs() < 0.5 * FRONTAL_OFFSET);
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    photos.retain(|p| {
        let n = taken.entry(p.identity.clone()).or_default();
        *n += 1;
        *n <= args.per_person
    });
    eprintln!(
        "liveness generate: {} frontal photos of {} people used (of {all})",
        photos.len(),
        taken.values().filter(|&&n| n > 0).count()
    );
    if photos.is_empty() {
        bail!("no photo with a face in {}", args.faces.display());
    }
    let species: Vec<Species> = if args.species.is_empty() {
        Species::EVERY.to_vec()
    } else {
        args.species.iter().map(|s| s.parse().map_err(anyhow::Error::msg)).collect::<Result<_>>()?
    };
    let mut conditions: Vec<SessionCondition> = Vec::new();
    for name in &args.condition {
        let c: SessionCondition = name.parse().map_err(anyhow::Error::msg)?;
        // Named twice, made once: the same folders and rows would be written twice.
        if !conditions.contains(&c) {
            conditions.push(c);
        }
    }
    if conditions.is_empty() {
        conditions.push(SessionCondition::CLEAN);
    }
    if let Some(s) = args.flash {
        if !(s.is_finite() && (0.0..=2.0).contains(&s)) {
            bail!("--flash must be a strength from 0 to 2, not {s}");
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    // Rendering is the slow part: the photos are shared out between the cores.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(photos.len());
    let rows: Vec<Result<Vec<[String; 8]>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (photos, species, conditions) = (&photos, &species, &conditions);
                scope.spawn(move || {
                    (t..photos.len())
                        .step_by(threads)
                        .map(|i| {
                            let photo = &photos[i];
                            let each = conditions.iter().map(|c| {
                                write_sessions(&args.out, i, photo, species, args.flash, c)
                            });
                            let rows = each.collect::<Result<Vec<_>>>()?.concat();
                            eprintln!("liveness generate: {} done", photo.identity);
                            Ok(rows)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut rows = rows.into_iter().collect::<Result<Vec<_>>>()?.concat();
    rows.sort();
    let header = ["frames", "challenge", "label", "person", "shows", "fps", "flash", "condition"];
    facematch::cli::write_csv(&args.out.join("sessions.csv"), header, &rows)
}

/// One session per species from photo number `i`, written under `out`, under the kiosk's
/// colours at `flash` strength when given, filmed and paced as `condition` says; their CSV
/// rows. Each condition draws the same challenge and colours for a photo and species, so the
/// conditions differ only in how the session was filmed and moved.
fn write_sessions(
    out: &Path,
    i: usize,
    photo: &Photo,
    species: &[Species],
    flash: Option<f32>,
    condition: &SessionCondition,
) -> Result<Vec<[String; 8]>> {
    let mut rows = Vec::new();
    for &species in species {
        // Seeds by the species' place among them all, so a filtered set draws the same.
        let k = Species::EVERY.iter().position(|s| *s == species).unwrap_or(0);
        let seed = 7919 * i as u64 + k as u64;
        let mut rng = Rng(seed);
        let asked = Challenge::draw(|| rng.next());
        let light = flash.map(|strength| ScreenLight::draw(strength, seed));
        let session = generate_filmed(
            &photo.pixels,
            &photo.face,
            species,
            &asked,
            seed,
            light.as_ref(),
            condition,
        );
        let mut name = format!("{}_{i}_{species}", photo.identity);
        if *condition != SessionCondition::CLEAN {
            name = format!("{name}_{condition}");
        }
        let dir = out.join(&name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (n, frame) in session.frames.iter().enumerate() {
            let file = dir.join(format!("{n:03}.jpg"));
            let jpeg = encode_jpeg(frame, condition.jpeg_quality)
                .with_context(|| format!("encoding {}", file.display()))?;
            std::fs::write(&file, jpeg).with_context(|| format!("writing {}", file.display()))?;
        }
        let shows = Challenge(session.shows).to_string();
        rows.push([
            name,
            asked.to_string(),
            species.label().to_string(),
            photo.identity.clone(),
            shows,
            condition.fps.to_string(),
            light.map(|l| l.shown.to_string()).unwrap_or_default(),
            condition.name.to_string(),
        ]);
    }
    Ok(rows)
}
