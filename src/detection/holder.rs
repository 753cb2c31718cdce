//! Which face a picture is about. In a selfie, the largest: the customer is nearest the
//! camera. On a document, the holder's printed portrait, which is not always the largest
//! face: a second person partly in the photo (cut off by its edge, often nearer the camera)
//! can be larger, and a passport's "ghost" copy of the portrait is smaller. Among the faces of
//! near-largest size the most confident one is the holder's: a face cut off by the photo's
//! edge scores lower than a whole one (README "How faces are chosen").

use crate::domain::{Face, Role};

/// A face at least this share of the largest face's area competes to be the holder's;
/// a passport's ghost portrait (about a quarter of the area) does not.
pub const NEAR_LARGEST_AREA: f32 = 0.5;

/// Orders `faces` so that the subject comes first, the others after it, largest first.
pub fn order(faces: &mut [Face], role: Role) {
    faces.sort_by(|a, b| b.bbox.area().total_cmp(&a.bbox.area()));
    if matches!(role, Role::Selfie) || faces.len() < 2 {
        return;
    }
    let floor = NEAR_LARGEST_AREA * faces[0].bbox.area();
    let best = (0..faces.len())
        .filter(|&i| faces[i].bbox.area() >= floor)
        .max_by(|&i, &j| faces[i].score.total_cmp(&faces[j].score))
        .unwrap_or(0);
    faces[..=best].rotate_right(1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alignment::TEMPLATE;
    use crate::domain::{DocumentType, FaceBox};

    fn face(side: f32, score: f32) -> Face {
        Face { bbox: FaceBox { x: 0.0, y: 0.0, w: side, h: side }, score, landmarks: TEMPLATE }
    }

    #[test]
    fn on_a_document_the_confident_face_of_near_largest_size_is_the_holder() {
        let document = Role::Document(DocumentType::Passport);
        // A cut-off bystander (larger, less sure), the holder, the ghost copy (most sure, small).
        let mut faces = vec![face(100.0, 0.85), face(80.0, 0.93), face(40.0, 0.97)];
        order(&mut faces, document);
        let sides: Vec<f32> = faces.iter().map(|f| f.bbox.w).collect();
        assert_eq!(sides, [80.0, 100.0, 40.0]);
        // In a selfie the nearest, largest face is the customer.
        order(&mut faces, Role::Selfie);
        assert_eq!(faces[0].bbox.w, 100.0);
        // A much smaller face never wins on a document, however sure.
        let mut faces = vec![face(100.0, 0.81), face(60.0, 0.99)];
        order(&mut faces, document);
        assert_eq!(faces[0].bbox.w, 100.0);
    }
}
