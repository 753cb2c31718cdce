//! `facematch-lab card`: prints a face photo, or a generated other photo of the same person
//! (`--other-photo`), onto a synthetic ID card (JPEG).

use anyhow::{Context, Result};

use super::args::CardArgs;
use super::load_engine;
use crate::synthetic_card::{portrait_crop, print_card};
use crate::synthetic_session::{posed, OTHER_PHOTO_POSE};
use facematch::detection::find_faces;
use facematch::domain::Role;

/// Runs the subcommand: finds the face in the photo, crops a portrait around it, prints the card.
///
/// # Errors
/// An unreadable photo, no face in it, or an unwritable output.
pub fn run(args: CardArgs) -> Result<()> {
    let bytes =
        std::fs::read(&args.photo).with_context(|| format!("reading {}", args.photo.display()))?;
    let picture = facematch::intake::decode(&bytes)
        .with_context(|| format!("decoding {}", args.photo.display()))?;
    let mut engine = load_engine(&facematch::cli::EngineArgs::default())?;
    let faces = find_faces(&mut engine.detector, &picture.pixels, Role::Selfie)?;
    let face =
        faces.first().with_context(|| format!("no face found in {}", args.photo.display()))?;
    let portrait = if args.other_photo {
        let other = posed(&picture.pixels, face, OTHER_PHOTO_POSE, args.seed);
        let faces = find_faces(&mut engine.detector, &other, Role::Selfie)?;
        let face = faces.first().context("no face found in the re-rendered photo")?;
        portrait_crop(&other, &face.bbox)
    } else {
        portrait_crop(&picture.pixels, &face.bbox)
    };
    let card = print_card(&portrait, args.seed);
    std::fs::write(&args.out, card).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("card: wrote {}", args.out.display());
    Ok(())
}
