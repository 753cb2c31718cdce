"""The OpenCV-Python pipeline (bench/opencv_baseline.py: same models, longest side 320 for the
selfie and 640 for the document, largest face, no quality gates) on a pairs.csv written by
`facematch-lab captures`: how many documents yield a face, and TAR / FAR at a cosine threshold.

  python opencv_captures.py --models DIR --pairs DIR/<condition>/pairs.csv [--cosine 0.400]
                            [--scores OUT.csv]

0.400 is the cosine facematch's calibration maps to 85 %, the contract's example threshold (its
default, 89 %, is 0.440).
Prints one JSON object; --scores keeps every pair's cosine for bench/documents_table.py.
"""

import argparse
import csv
import json
import os

import cv2

from opencv_baseline import embed, load


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", required=True)
    p.add_argument("--pairs", required=True)
    p.add_argument("--cosine", type=float, default=0.400)
    p.add_argument("--scores", help="write every pair's cosine to this CSV")
    args = p.parse_args()
    det, rec = load(args.models)
    base = os.path.dirname(os.path.abspath(args.pairs))
    with open(args.pairs, newline="") as f:
        rows = [(os.path.join(base, r["a"]), os.path.join(base, r["b"]), r["same"] == "1") for r in csv.DictReader(f)]
    selfies = {a: embed(det, rec, a, 320) for a in sorted({r[0] for r in rows})}
    documents = {b: embed(det, rec, b, 640) for b in sorted({r[1] for r in rows})}
    genuine = accepted = impostor = false_accepts = 0
    scored = []
    for a, b, same in rows:
        ea, eb = selfies[a], documents[b]
        score = None if ea is None or eb is None else rec.match(ea, eb, cv2.FaceRecognizerSF_FR_COSINE)
        scored.append((a, b, same, score))
        hit = score is not None and score >= args.cosine
        if same:
            genuine += 1
            accepted += hit
        else:
            impostor += 1
            false_accepts += hit
    if args.scores:
        with open(args.scores, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["a", "b", "same", "cosine"])
            for a, b, same, score in scored:
                w.writerow([a, b, int(same), "" if score is None else f"{score:.5f}"])
    print(json.dumps({
        "opencv": cv2.__version__,
        "documents": len(documents),
        "documents_with_face": sum(e is not None for e in documents.values()),
        "genuine": genuine, "tar": accepted / max(genuine, 1),
        "impostor": impostor, "far": false_accepts / max(impostor, 1), "false_accepts": false_accepts,
    }))


if __name__ == "__main__":
    main()
