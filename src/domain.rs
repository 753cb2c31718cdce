//! Plain data that flows through the pipeline: pictures, faces, embeddings and
//! the document types of the contract. No I/O, no models, no wire formats
//! (the contract's JSON shapes live in [`crate::contract`]).

use image::RgbImage;

/// A decoded, upright RGB picture and what intake learned about its file.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Pixels after the EXIF orientation was applied.
    pub pixels: RgbImage,
    /// Container format sniffed from the bytes.
    pub format: PictureFormat,
}

impl Picture {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.pixels.width()
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.pixels.height()
    }
}

/// The two formats the contract accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureFormat {
    /// JPEG / JFIF / EXIF.
    Jpeg,
    /// PNG.
    Png,
}

/// An axis-aligned rectangle in pixel coordinates of the picture it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
}

impl FaceBox {
    /// The box's centre, (x, y).
    pub fn centre(&self) -> (f32, f32) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// How far the centre of `other` is from this box's centre, in pixels.
    pub fn centre_distance(&self, other: &FaceBox) -> f32 {
        let ((x0, y0), (x1, y1)) = (self.centre(), other.centre());
        (x1 - x0).hypot(y1 - y0)
    }

    /// Area in square pixels (0 for degenerate boxes).
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// Intersection over union with another box, in 0..=1.
    pub fn iou(&self, other: &FaceBox) -> f32 {
        let x1 = self.x.max(other.x);
        let y1 = self.y.max(other.y);
        let x2 = (self.x + self.w).min(other.x + other.w);
        let y2 = (self.y + self.h).min(other.y + other.h);
        let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
}

/// Five facial landmarks in the ArcFace order: the subject's right eye (image
/// left), left eye, nose tip, right and left mouth corners; pixel coordinates.
pub type Landmarks = [[f32; 2]; 5];

/// One detected face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    /// Bounding box in picture pixels.
    pub bbox: FaceBox,
    /// Detector confidence in 0..=1.
    pub score: f32,
    /// Five landmarks in picture pixels.
    pub landmarks: Landmarks,
}

/// A face embedding, L2-normalised so that the dot product is the cosine similarity.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(pub Vec<f32>);

/// What a picture is in a verification: the live selfie or a document side.
/// Each role gets its own detector input size and minimum face size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The live selfie / user photo (`src`).
    Selfie,
    /// A document side (`targetFront` / `targetBack`).
    Document(DocumentType),
}

/// The document types of the contract's `type` field. The default is [`DocumentType::Gov`],
/// the one that names no particular document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DocumentType {
    /// Aadhaar card.
    Uidai,
    /// Driving licence.
    Dl,
    /// PAN card.
    Pan,
    /// Voter card.
    Voter,
    /// Passport.
    Passport,
    /// Any other government ID.
    #[default]
    Gov,
}

impl DocumentType {
    /// All types, in the contract's order.
    pub const ALL: [DocumentType; 6] = [
        DocumentType::Uidai,
        DocumentType::Dl,
        DocumentType::Pan,
        DocumentType::Voter,
        DocumentType::Passport,
        DocumentType::Gov,
    ];

    /// The contract's spelling (`UIDAI`, `DL`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentType::Uidai => "UIDAI",
            DocumentType::Dl => "DL",
            DocumentType::Pan => "PAN",
            DocumentType::Voter => "VOTER",
            DocumentType::Passport => "PASSPORT",
            DocumentType::Gov => "GOV",
        }
    }

    /// The name branch staff and customers use, in English (Aadhaar, not the contract's
    /// UIDAI), for the staff screens.
    pub fn everyday_name(self) -> &'static str {
        match self {
            DocumentType::Uidai => "Aadhaar",
            DocumentType::Dl => "Driving licence",
            DocumentType::Pan => "PAN card",
            DocumentType::Voter => "Voter ID",
            DocumentType::Passport => "Passport",
            DocumentType::Gov => "Other ID",
        }
    }
}

/// A `type` that is not one of the contract's six spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("type {0:?} is not one of UIDAI, DL, PAN, VOTER, PASSPORT, GOV")]
pub struct UnknownDocumentType(pub String);

impl std::str::FromStr for DocumentType {
    type Err = UnknownDocumentType;

    /// The contract's spelling only: case matters, as in the contract.
    fn from_str(s: &str) -> Result<DocumentType, UnknownDocumentType> {
        DocumentType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownDocumentType(s.to_string()))
    }
}

impl std::fmt::Display for DocumentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_types_parse_in_the_contracts_spelling_only() {
        for t in DocumentType::ALL {
            assert_eq!(t.as_str().parse::<DocumentType>(), Ok(t));
        }
        for bad in ["gov", "AADHAAR", "", " PAN"] {
            let e = bad.parse::<DocumentType>().unwrap_err();
            assert!(e.to_string().contains("is not one of UIDAI, DL, PAN"), "{e}");
        }
    }
}
