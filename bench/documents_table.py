"""One Markdown table from bench/documents.sh's score files: per capture condition, facematch
and the OpenCV-Python pipeline side by side, at one operating point each and at FAR 1e-4.

  python documents_table.py DIR CONDITION... [--photos PHOTOS.csv] --percent P --cosine C
                            [--unpooled CONDITION]

DIR/<condition>/facematch.csv is `facematch-lab eval --scores` (a, b, same, percent, cosine),
DIR/<condition>/opencv.csv is `opencv_captures.py --scores` (a, b, same, cosine); PHOTOS.csv
is `facematch-lab eval --all-impostors --scores` on ../shared/faces (facematch only: the
OpenCV script reads the pairs a pairs.csv lists). A pair without a usable face is never
accepted and counts in every rate's denominator.

- facematch is read at its default threshold P (percent), OpenCV at C, the cosine that P
  stands for: the same model at the same bar, so the columns compare the pipelines;
- the line above the table says where OpenCV's bar would be at the same false-accept rate
  pooled over the conditions (a condition named by --unpooled left out: the bystander card,
  where OpenCV's largest-face rule compares the bystander and no bar mends that), and OpenCV's
  TAR there;
- "TAR at FAR 1e-4" puts each pipeline's bar, per condition, just above the impostor score
  that would push that condition's FAR past 1e-4 (as `facematch-lab eval` does).
"""

import argparse
import csv
import math
import os

LOW = float("-inf")


def read(path, column):
    """[(a, b, genuine, score)] from a scores CSV; a missing score is LOW."""
    with open(path, newline="") as f:
        return [
            (r["a"], r["b"], r["same"] == "1", float(r[column]) if r[column] else LOW)
            for r in csv.DictReader(f)
        ]


def documents_with_face(rows):
    """(documents with a face used in some pair, documents)."""
    seen = {}
    for _, b, _, s in rows:
        seen[b] = seen.get(b, False) or s > LOW
    return sum(seen.values()), len(seen)


def rates(rows, bar):
    """(TAR, false accepts, impostor pairs) at a score bar."""
    genuine = [s for _, _, g, s in rows if g]
    impostor = [s for _, _, g, s in rows if not g]
    tar = sum(s >= bar and s > LOW for s in genuine) / max(len(genuine), 1)
    false_accepts = sum(s >= bar and s > LOW for s in impostor)
    return tar, false_accepts, len(impostor)


def tar_at_far(rows, max_far):
    """The highest TAR while FAR stays at or below max_far."""
    genuine = [s for _, _, g, s in rows if g]
    impostor = sorted((s for _, _, g, s in rows if not g), reverse=True)
    allowed = int(max_far * len(impostor))
    if allowed >= len(impostor):
        return sum(s > LOW for s in genuine) / max(len(genuine), 1)
    bar = impostor[allowed]
    return sum(s > bar and s > LOW for s in genuine) / max(len(genuine), 1)


def matching_bar(sets, far):
    """The lowest score bar whose pooled FAR over `sets` is at most `far`."""
    impostor = sorted((s for rows in sets for _, _, g, s in rows if not g), reverse=True)
    allowed = int(far * len(impostor) + 1e-9)
    if allowed >= len(impostor):
        return LOW
    # Just above the first impostor that must be refused (none with a face: any bar will do).
    first_refused = impostor[allowed]
    return LOW if first_refused == LOW else math.nextafter(first_refused, math.inf)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("conditions", nargs="+")
    p.add_argument("--percent", type=float, required=True)
    p.add_argument("--cosine", type=float, required=True)
    p.add_argument("--photos")
    p.add_argument("--unpooled", action="append", default=[])
    args = p.parse_args()
    ours = {c: read(os.path.join(args.dir, c, "facematch.csv"), "percent") for c in args.conditions}
    theirs = {c: read(os.path.join(args.dir, c, "opencv.csv"), "cosine") for c in args.conditions}
    pool = [c for c in args.conditions if c not in args.unpooled] or list(args.conditions)
    left_out = [c for c in args.conditions if c not in pool]
    pool_fa = sum(rates(ours[c], args.percent)[1] for c in pool)
    pool_n = sum(rates(ours[c], args.percent)[2] for c in pool)
    same_far = matching_bar([theirs[c] for c in pool], pool_fa / max(pool_n, 1))
    print(f"facematch at {args.percent:g} %, OpenCV at cosine {args.cosine:.3f} (the same bar). At the "
          f"same FAR pooled over {len(pool)} conditions ({pool_fa} of {pool_n} impostor pairs, "
          f"{pool_fa / max(pool_n, 1):.2e}" + (f"; not pooled: {', '.join(left_out)}" if left_out else "")
          + f") OpenCV's bar would be cosine {same_far:.3f}, where its TAR is: "
          + ", ".join(f"{c} {rates(theirs[c], same_far)[0] * 100:.1f} %" for c in args.conditions))
    pooled_fa = sum(rates(r, args.percent)[1] for r in ours.values())
    pooled_n = sum(rates(r, args.percent)[2] for r in ours.values())
    print()
    print("| condition | faces used: facematch (found and through the gates) / OpenCV (found) | TAR: facematch / OpenCV | "
          "false accepts: facematch / OpenCV | TAR at FAR 1e-4: facematch / OpenCV |")
    print("|---|---|---|---|---|")
    for c in args.conditions:
        (fo, n), (ft, _) = documents_with_face(ours[c]), documents_with_face(theirs[c])
        to, fao, imp = rates(ours[c], args.percent)
        tt, fat, _ = rates(theirs[c], args.cosine)
        print(f"| {c} | {fo} / {ft} of {n} | {to * 100:.1f} / {tt * 100:.1f} % | {fao} / {fat} of {imp} "
              f"| {tar_at_far(ours[c], 1e-4) * 100:.1f} / {tar_at_far(theirs[c], 1e-4) * 100:.1f} % |")
    named = dict(ours)
    if args.photos:
        photos = read(args.photos, "percent")
        named["../shared/faces"] = photos
        tar, fa, imp = rates(photos, args.percent)
        pooled_fa += fa
        pooled_n += imp
        print(f"| ../shared/faces (every cross-identity pair) | | {tar * 100:.1f} % / - | {fa} of {imp} / - "
              f"| {tar_at_far(photos, 1e-4) * 100:.1f} % / - |")
    print()
    print(f"facematch's false accepts at {args.percent:g} % over every set above: {pooled_fa} of "
          f"{pooled_n} impostor pairs, FAR {pooled_fa / max(pooled_n, 1):.2e}")
    names = sorted(
        ((s, c, a, b) for c, rows in named.items() for a, b, g, s in rows if not g and s >= args.percent),
        reverse=True,
    )
    for s, c, a, b in names:
        print(f"- {s:.2f} %: {c}: {short(a)} against {short(b)}")


def short(path):
    """A picture's folder and name."""
    parts = path.split(os.sep)
    return os.path.join(*parts[-2:]) if len(parts) >= 2 else path


if __name__ == "__main__":
    main()
