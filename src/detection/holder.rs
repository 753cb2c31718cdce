//! Which face a picture is about. In a selfie, the largest: the customer is nearest the
//! camera. On a document side, three cases decide (docs/match.md "How faces are chosen"):
//! - a passport's "ghost" copy of the portrait is much smaller: never the holder;
//! - a second person partly in the card's photo (cut off by its edge, often nearer the camera)
//!   can be as large as the holder or a little larger, and may score as high as a whole face; the
//!   cut takes an eye with it, so the detector guesses that eye inward: among faces of
//!   near-largest size, the one whose eyes lie widest apart for its height (whole and frontal, as
//!   an ID photo is taken) is the holder's;
//! - a photo used as the document side, a smaller person beside its subject: the subject's face
//!   is much larger and lies whole in the picture, and stays the subject however sure the
//!   detector is of the smaller face.

use crate::domain::{Face, Role};

/// A face at least this share of the largest face's area competes to be the holder's;
/// a passport's ghost portrait (about a quarter of the area) does not.
pub const NEAR_LARGEST_AREA: f32 = 0.5;

/// A whole face this many times the area of the widest-eyed one stays the subject. The
/// lab's cut-off bystander on a card is drawn at 1.21 times the holder's area (not measured on
/// real cards: a bystander much nearer the camera would be taken for the subject); a person
/// beside the subject of an ordinary photo is further away and smaller. "Whole" is judged
/// against the picture's edges only: a cut at a card photo's edge inside the picture is not seen.
pub const MUCH_LARGER_AREA: f32 = 1.5;

/// Orders `faces`, found in a `width`×`height` picture, so that the subject comes first, the
/// others after it, largest first.
pub fn order(faces: &mut [Face], role: Role, width: u32, height: u32) {
    faces.sort_by(|a, b| b.bbox.area().total_cmp(&a.bbox.area()));
    if matches!(role, Role::Selfie) || faces.len() < 2 {
        return;
    }
    let floor = NEAR_LARGEST_AREA * faces[0].bbox.area();
    let widest_eyed = (0..faces.len())
        .filter(|&i| faces[i].bbox.area() >= floor)
        // On a tie the larger face (max_by keeps the last of equals, and the larger come first).
        .max_by(|&i, &j| eye_span(&faces[i]).total_cmp(&eye_span(&faces[j])).then(j.cmp(&i)))
        .unwrap_or(0);
    let largest = &faces[0];
    let much_larger = largest.bbox.area() >= MUCH_LARGER_AREA * faces[widest_eyed].bbox.area();
    let best = if much_larger && whole(largest, width, height) { 0 } else { widest_eyed };
    faces[..=best].rotate_right(1);
}

/// The distance between the eyes over the box's height: about 0.3-0.45 for a whole frontal
/// face, less for a face turned away or cut off through an eye. Among faces of near-largest
/// size on a document, the widest is the holder's.
pub fn eye_span(face: &Face) -> f32 {
    let [[rx, ry], [lx, ly], ..] = face.landmarks;
    (lx - rx).hypot(ly - ry) / face.bbox.h.max(1.0)
}

/// The face's box lies inside the picture: no edge of the picture cuts it.
fn whole(face: &Face, width: u32, height: u32) -> bool {
    let b = face.bbox;
    b.x >= 0.0 && b.y >= 0.0 && b.x + b.w <= width as f32 && b.y + b.h <= height as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DocumentType, FaceBox};

    /// A face `side` px square whose eyes lie `span` of its height apart, as the detector scored
    /// it `score`.
    fn face(side: f32, span: f32, score: f32) -> Face {
        let bbox = FaceBox { x: 10.0, y: 10.0, w: side, h: side };
        let (cx, eyes) = (10.0 + side / 2.0, 10.0 + side * 0.4);
        let half = span * side / 2.0;
        let mouth = 10.0 + side * 0.75;
        let landmarks = [
            [cx - half, eyes],
            [cx + half, eyes],
            [cx, 10.0 + side * 0.6],
            [cx - half * 0.8, mouth],
            [cx + half * 0.8, mouth],
        ];
        Face { bbox, score, landmarks }
    }

    const DOCUMENT: Role = Role::Document(DocumentType::Passport);

    fn sides(faces: &[Face]) -> Vec<f32> {
        faces.iter().map(|f| f.bbox.w).collect()
    }

    #[test]
    fn a_passport_ghost_is_never_the_holder() {
        // The ghost copy: a quarter of the area, surer, and its eyes wider apart.
        let mut faces = vec![face(100.0, 0.36, 0.81), face(60.0, 0.40, 0.99)];
        order(&mut faces, DOCUMENT, 500, 500);
        assert_eq!(sides(&faces), [100.0, 60.0]);
    }

    #[test]
    fn a_bystander_cut_off_on_a_card_loses_to_the_whole_holder() {
        // A cut-off bystander (a little larger, as sure, one eye guessed inward), the holder,
        // the ghost copy.
        let mut faces =
            vec![face(100.0, 0.27, 0.93), face(90.0, 0.37, 0.90), face(40.0, 0.37, 0.97)];
        order(&mut faces, DOCUMENT, 500, 500);
        assert_eq!(sides(&faces), [90.0, 100.0, 40.0]);
        // In a selfie the nearest, largest face is the customer.
        order(&mut faces, Role::Selfie, 500, 500);
        assert_eq!(faces[0].bbox.w, 100.0);
    }

    #[test]
    fn a_much_larger_whole_face_stays_the_subject_of_a_photo() {
        // The subject (whole) and a smaller person beside them, eyes wider apart: area 1.56 times.
        let mut faces = vec![face(100.0, 0.33, 0.86), face(80.0, 0.38, 0.95)];
        order(&mut faces, DOCUMENT, 500, 500);
        assert_eq!(sides(&faces), [100.0, 80.0]);
        // The same larger face cut by the picture's edge is not known whole: the other one wins.
        let mut faces = vec![face(100.0, 0.33, 0.86), face(80.0, 0.38, 0.95)];
        faces[0].bbox.x = 450.0;
        order(&mut faces, DOCUMENT, 500, 500);
        assert_eq!(sides(&faces), [80.0, 100.0]);
    }
}
