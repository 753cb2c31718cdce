//! `facematch-lab captures`: writes an evaluation set of camera-like document captures from a
//! folder of face photos, one sub-folder and one `pairs.csv` per condition, for `eval`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use image::RgbImage;

use super::args::CapturesArgs;
use super::load_engine;
use crate::synthetic_capture::{capture, Condition};
use crate::synthetic_card::{portrait_crop, portrait_with_bystander};
use facematch::detection::find_faces;
use facematch::domain::{Face, Role};

/// A face photo of the set, with its face.
pub(super) struct Photo {
    /// The file.
    pub path: PathBuf,
    /// The person (the photo's folder name).
    pub identity: String,
    /// The decoded photo.
    pub pixels: RgbImage,
    /// Its largest face.
    pub face: Face,
}

/// Runs the subcommand.
///
/// # Errors
/// An unreadable photo folder, a photo without a face, or an unwritable output folder.
pub fn run(args: CapturesArgs) -> Result<()> {
    let photos = read_photos(&args.faces, args.per_person)?;
    let conditions =
        if args.condition.is_empty() { Condition::ALL.to_vec() } else { args.condition.clone() };
    for condition in conditions {
        let dir = args.out.join(condition.name());
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut captures = Vec::new();
        for (i, photo) in photos.iter().enumerate() {
            let portrait = match condition {
                Condition::Bystander => {
                    // The next person in the set stands beside the holder.
                    let other = photos
                        .iter()
                        .cycle()
                        .skip(i + 1)
                        .find(|o| o.identity != photo.identity)
                        .unwrap_or(photo);
                    portrait_with_bystander(
                        &photo.pixels,
                        &photo.face.bbox,
                        &other.pixels,
                        &other.face.bbox,
                    )
                }
                _ => portrait_crop(&photo.pixels, &photo.face.bbox),
            };
            let name = format!("{}_{}.jpg", photo.identity, i);
            let bytes = capture(&portrait, condition, 1000 + i as u64);
            std::fs::write(dir.join(&name), bytes)
                .with_context(|| format!("writing {}", dir.join(&name).display()))?;
            captures.push(name);
        }
        write_pairs(&dir.join("pairs.csv"), &photos, &captures)?;
        eprintln!("captures: {} cards in {}", captures.len(), dir.display());
    }
    Ok(())
}

/// Every photo of `faces/<identity>/`, at most `per_person` each, with its largest face.
pub(super) fn read_photos(faces: &Path, per_person: usize) -> Result<Vec<Photo>> {
    let mut engine = load_engine(&facematch::cli::EngineArgs::default())?;
    let mut by_identity: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for dir in std::fs::read_dir(faces).with_context(|| format!("reading {}", faces.display()))? {
        let dir = dir?.path();
        if !dir.is_dir() {
            continue;
        }
        let identity = dir.file_name().unwrap_or_default().to_string_lossy().to_string();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .flatten()
            .map(|f| f.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "png"))
            .collect();
        files.sort();
        files.truncate(per_person);
        by_identity.insert(identity, files);
    }
    let mut photos = Vec::new();
    for (identity, files) in by_identity {
        for path in files {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let picture = facematch::intake::decode(&bytes)
                .with_context(|| format!("decoding {}", path.display()))?;
            let faces = find_faces(&mut engine.detector, &picture.pixels, Role::Selfie)?;
            let face = faces.first().with_context(|| format!("no face in {}", path.display()))?;
            let path = std::fs::canonicalize(&path)?;
            photos.push(Photo {
                path,
                identity: identity.clone(),
                face: *face,
                pixels: picture.pixels,
            });
        }
    }
    Ok(photos)
}

/// `a,b,same`: every photo as the selfie against every capture but its own; genuine when the
/// capture shows the same person.
fn write_pairs(out: &Path, photos: &[Photo], captures: &[String]) -> Result<()> {
    let mut w =
        csv::Writer::from_path(out).with_context(|| format!("writing {}", out.display()))?;
    w.write_record(["a", "b", "same"])?;
    for (i, selfie) in photos.iter().enumerate() {
        for (j, card) in photos.iter().enumerate() {
            if i != j {
                let same = if selfie.identity == card.identity { "1" } else { "0" };
                w.write_record([&selfie.path.display().to_string(), &captures[j], same])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}
