//! A folder of pictures played as a camera (`dir:FOLDER`), so the kiosk, its
//! tests and CI run without one; in newest-picture mode it serves a flatbed
//! scanner that writes into a folder.

use std::path::{Path, PathBuf};

use image::RgbImage;

use super::{CameraError, FrameSource};

/// Which picture of a folder a [`StillFrames`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Play {
    /// Every picture in name order, round and round (a recorded "camera").
    Loop,
    /// Always the newest picture (a scanner writing into the folder).
    Newest,
}

/// A folder of JPEG/PNG pictures played as a camera.
#[derive(Debug)]
pub struct StillFrames {
    dir: PathBuf,
    play: Play,
    next: usize,
}

/// Whether a file's name says it is a picture a folder camera plays: `.jpg`, `.jpeg` or
/// `.png`, in any case.
pub fn is_picture_file(path: &Path) -> bool {
    path.extension()
        .and_then(|x| x.to_str())
        .is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
}

impl StillFrames {
    /// Plays `dir` in the given mode. The folder is read on every frame, so pictures
    /// added later (a scanner) are seen.
    pub fn new(dir: &Path, play: Play) -> StillFrames {
        StillFrames { dir: dir.to_path_buf(), play, next: 0 }
    }

    fn pictures(&self) -> Result<Vec<(PathBuf, std::time::SystemTime)>, CameraError> {
        let entries =
            std::fs::read_dir(&self.dir).map_err(|_| CameraError::Missing(self.dir.clone()))?;
        let mut pictures: Vec<(PathBuf, std::time::SystemTime)> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| is_picture_file(p))
            .map(|p| {
                let modified = std::fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (p, modified)
            })
            .collect();
        pictures.sort();
        Ok(pictures)
    }
}

impl FrameSource for StillFrames {
    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        let pictures = self.pictures()?;
        let path = match self.play {
            Play::Loop => pictures.get(self.next % pictures.len().max(1)).map(|p| p.0.clone()),
            Play::Newest => pictures.iter().max_by_key(|p| p.1).map(|p| p.0.clone()),
        }
        .ok_or_else(|| CameraError::Empty(self.dir.clone()))?;
        self.next = self.next.wrapping_add(1);
        let bytes = std::fs::read(&path)
            .map_err(|e| CameraError::Unreadable { path: path.clone(), reason: e.to_string() })?;
        let picture = crate::intake::decode(&bytes)
            .map_err(|e| CameraError::Unreadable { path, reason: e.to_string() })?;
        Ok(picture.pixels)
    }

    fn origin(&self) -> Option<String> {
        Some(format!("picture folder {}", self.dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, shade: u8) {
        RgbImage::from_pixel(200, 200, image::Rgb([shade, shade, shade])).save(path).unwrap();
    }

    #[test]
    fn a_folder_plays_in_order_and_newest_follows_the_scanner() {
        let dir = tempfile::tempdir().unwrap();
        let mut looped = StillFrames::new(dir.path(), Play::Loop);
        assert_eq!(looped.next_frame(), Err(CameraError::Empty(dir.path().to_path_buf())));
        write_png(&dir.path().join("a.png"), 10);
        write_png(&dir.path().join("b.png"), 20);
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let shades: Vec<u8> =
            (0..3).map(|_| looped.next_frame().unwrap().get_pixel(0, 0)[0]).collect();
        assert_eq!(shades, vec![10, 20, 10]);

        let mut newest = StillFrames::new(dir.path(), Play::Newest);
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_png(&dir.path().join("0-scan.png"), 30);
        assert_eq!(newest.next_frame().unwrap().get_pixel(0, 0)[0], 30);
    }

    #[test]
    fn a_missing_folder_is_a_clear_error() {
        let mut gone = StillFrames::new(Path::new("/no/such/folder"), Play::Loop);
        assert_eq!(gone.next_frame(), Err(CameraError::Missing(PathBuf::from("/no/such/folder"))));
    }
}
