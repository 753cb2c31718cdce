//! Non-maximum suppression: keeps the best-scoring box of every cluster of overlapping boxes.

use crate::domain::Face;

/// Faces sorted by score, dropping any whose IoU with an already kept face exceeds `iou`.
pub fn nms(mut faces: Vec<Face>, iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::with_capacity(faces.len());
    for face in faces {
        if kept.iter().all(|k| k.bbox.iou(&face.bbox) <= iou) {
            kept.push(face);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FaceBox;

    fn face(x: f32, y: f32, size: f32, score: f32) -> Face {
        Face { bbox: FaceBox { x, y, w: size, h: size }, score, landmarks: [[0.0; 2]; 5] }
    }

    fn check(input: Vec<Face>, iou: f32, expected_scores: &[f32]) {
        let scores: Vec<f32> = nms(input, iou).iter().map(|f| f.score).collect();
        assert_eq!(scores, expected_scores);
    }

    #[test]
    fn keeps_best_of_overlapping_and_all_disjoint() {
        check(vec![], 0.3, &[]);
        // Two near-identical boxes: the higher score wins.
        check(vec![face(0.0, 0.0, 100.0, 0.85), face(5.0, 5.0, 100.0, 0.95)], 0.3, &[0.95]);
        // Disjoint boxes all survive, best first.
        check(vec![face(0.0, 0.0, 50.0, 0.9), face(200.0, 0.0, 50.0, 0.99)], 0.3, &[0.99, 0.9]);
        // IoU of these two is 50*100/(2*100*100-5000) = 1/3: above 0.3, so merged; kept at 0.4.
        check(vec![face(0.0, 0.0, 100.0, 0.9), face(50.0, 0.0, 100.0, 0.8)], 0.3, &[0.9]);
        check(vec![face(0.0, 0.0, 100.0, 0.9), face(50.0, 0.0, 100.0, 0.8)], 0.4, &[0.9, 0.8]);
    }

    #[test]
    fn iou_matches_hand_computation() {
        let a = FaceBox { x: 0.0, y: 0.0, w: 10.0, h: 10.0 };
        let b = FaceBox { x: 5.0, y: 5.0, w: 10.0, h: 10.0 };
        assert!((a.iou(&b) - 25.0 / 175.0).abs() < 1e-6);
        assert_eq!(a.iou(&FaceBox { x: 20.0, y: 0.0, w: 5.0, h: 5.0 }), 0.0);
        assert_eq!(a.iou(&a), 1.0);
    }
}
