//! Face embeddings: the [`Embedder`] capability and the cosine similarity between two faces.

use image::RgbImage;

use crate::domain::Embedding;
use crate::model_error::ModelError;

/// Turns an aligned 112×112 face crop into an embedding. Implemented in `inference` on each
/// runtime (TensorFlow Lite, ONNX Runtime).
pub trait Embedder {
    /// The unit-length embedding of `aligned`.
    ///
    /// # Errors
    /// When the model cannot be run.
    fn embed(&mut self, aligned: &RgbImage) -> Result<Embedding, ModelError>;
}

/// A boxed embedder (an engine's, whichever runtime it is) is an embedder.
impl<E: Embedder + ?Sized> Embedder for Box<E> {
    fn embed(&mut self, aligned: &RgbImage) -> Result<Embedding, ModelError> {
        (**self).embed(aligned)
    }
}

/// Scales `v` to unit length (a zero vector stays zero).
pub fn normalize(mut v: Vec<f32>) -> Embedding {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    Embedding(v)
}

/// Cosine similarity of two unit embeddings, in -1..=1 (0 when their lengths differ).
pub fn cosine(a: &Embedding, b: &Embedding) -> f32 {
    if a.0.len() != b.0.len() {
        return 0.0;
    }
    a.0.iter().zip(&b.0).map(|(x, y)| x * y).sum::<f32>().clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_normalised_vectors() {
        let a = normalize(vec![3.0, 4.0]);
        assert_eq!(a.0, vec![0.6, 0.8]);
        let b = normalize(vec![-4.0, 3.0]);
        assert!(cosine(&a, &b).abs() < 1e-6);
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-6);
        assert!((cosine(&a, &normalize(vec![-3.0, -4.0])) + 1.0).abs() < 1e-6);
        assert_eq!(normalize(vec![0.0, 0.0]).0, vec![0.0, 0.0]);
        assert_eq!(cosine(&a, &normalize(vec![1.0, 0.0, 0.0])), 0.0);
    }
}
