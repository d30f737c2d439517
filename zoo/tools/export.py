"""`zoo export`: a trained model as a TF SavedModel, a TFLite file or an ONNX file, verified before it is kept.

Each export goes through Keras's own `model.export` (SavedModel, ONNX through tf2onnx) or TensorFlow's
TFLite converter, is loaded back by the runtime that would serve it (TensorFlow, the TFLite interpreter,
onnxruntime) and must give the Keras model's outputs on 100 inputs drawn in the model's recorded input
range, to within 1e-4 (of the output itself where it is above 1: a regression's units). It is written
beside its destination and moved into place only then: a failed export leaves nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import DataError, RunError, first_line
from zoo.reports.console import filtered_stderr
from zoo.tools.predict import load_predictor

FORMATS = ("savedmodel", "tflite", "onnx")
TOLERANCE = 1e-4
CHECKED_INPUTS = 100


def sample_inputs(model, record: dict[str, Any], count: int = CHECKED_INPUTS, seed: int = 0):
    """`count` inputs the model takes, drawn in its recorded range (table columns: numbers and short words)."""
    rng = np.random.default_rng(seed)
    if isinstance(model.input, dict):
        inputs = {}
        for name, tensor in model.input.items():
            if "string" in str(tensor.dtype):
                inputs[name] = rng.choice(np.array(["a", "b", "c", ""], dtype=object), (count, 1))
            else:
                inputs[name] = rng.normal(0, 3, (count, 1)).astype(np.float32)
        return inputs
    low, high = record.get("input", {}).get("range", [0.0, 1.0])
    return rng.uniform(low, high, (count, *model.input_shape[1:])).astype(np.float32)


def _as_tensors(inputs):
    import tensorflow as tf

    if isinstance(inputs, dict):
        return {k: tf.constant(v.astype(str) if v.dtype == object else v) for k, v in inputs.items()}
    return tf.constant(inputs)


def _feed(inputs, names: list[str]) -> dict[str, np.ndarray]:
    """`inputs` keyed by a runtime's input names: a table's columns by name (text as str), an array as the one input."""
    if isinstance(inputs, dict):
        return {name: inputs[name].astype(str) if inputs[name].dtype == object else inputs[name] for name in names}
    return {names[0]: inputs}


def _savedmodel(model, path: Path, inputs) -> np.ndarray:
    import tensorflow as tf

    model.export(str(path), format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(str(path))  # held: its variables live as long as it does
    return np.asarray(loaded.serve(_as_tensors(inputs)))


def _tflite(model, path: Path, inputs) -> np.ndarray:
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as folder:
        model.export(folder, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder)
        path.write_bytes(converter.convert())
    import warnings

    # tf.lite.Interpreter announces its move to LiteRT (a Python warning), and its first run its CPU
    # delegate (a C++ line): neither is about the user's model.
    with warnings.catch_warnings(), filtered_stderr():
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path))
        runner = interpreter.get_signature_runner()
        outputs = runner(**_feed(inputs, list(runner.get_input_details())))
    return np.asarray(next(iter(outputs.values())))


def _onnx(model, path: Path, inputs) -> np.ndarray:
    try:
        import onnxruntime
    except ImportError:
        raise RunError("exporting to ONNX needs tf2onnx and onnxruntime: pip install 'zoo[export]'") from None
    model.predict(_as_tensors(inputs), verbose=0)  # Keras exports only a model that has been called
    model.export(str(path), format="onnx", verbose=False)
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's own error classes: an op it has no kernel for
        lookup = "Lookup" in str(error)
        raise RunError(
            "onnxruntime cannot run the ONNX export"
            + (
                ": a table model's text columns use TensorFlow lookup tables, which ONNX has no op for; "
                "export it as savedmodel or tflite"
                if lookup
                else f" ({first_line(error)})"
            )
        ) from None
    return np.asarray(session.run(None, _feed(inputs, [node.name for node in session.get_inputs()]))[0])


def export(source: str | Path, fmt: str, out: str | Path) -> dict[str, Any]:
    """Export the model of a run folder, a `.keras` file or a shipped model to `out` in `fmt`
    ("savedmodel", "tflite" or "onnx"); return what was checked.

    Examples:
        >>> import keras
        >>> folder = Path(tempfile.mkdtemp())
        >>> x = keras.Input((3,)); keras.Model(x, keras.layers.Dense(2, "softmax")(x)).save(folder / "m.keras")
        >>> report = export(folder / "m.keras", "savedmodel", folder / "served")
        >>> report["inputs_checked"], report["max_abs_difference"] <= 1e-4
        (100, True)
    """
    if fmt not in FORMATS:
        raise DataError(f"--format {fmt!r} is not allowed; expected one of {', '.join(FORMATS)}")
    out = Path(out)
    if out.exists():
        raise DataError(f"--out {out} already exists; name a new path (zoo export never overwrites)")
    model, record = load_predictor(source)
    inputs = sample_inputs(model, record)
    expected = np.asarray(model.predict(_as_tensors(inputs), verbose=0))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-exporting-"))
    try:
        written = staging / out.name
        try:
            got = {"savedmodel": _savedmodel, "tflite": _tflite, "onnx": _onnx}[fmt](model, written, inputs)
        except RunError:
            raise
        except (ValueError, TypeError, NotImplementedError, RuntimeError) as error:
            raise RunError(f"this model cannot be exported to {fmt}: {first_line(error)}") from None
        gaps = np.abs(got.reshape(expected.shape) - expected)
        difference = float(np.max(gaps))
        # Relative beyond 1: a regression's outputs in its target's units (prices, counts in the thousands) differ
        # by a float32 rounding step that alone passes 1e-4 (one step at 10,000 is 0.001).
        if not np.all(gaps <= TOLERANCE * np.maximum(1.0, np.abs(expected))):
            raise RunError(
                f"the {fmt} export's outputs differ from the Keras model's by up to {difference:.3g} "
                f"(allowed {TOLERANCE} of each output, or of 1 where it is smaller); nothing was written"
            )
        written.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"format": fmt, "path": str(out), "inputs_checked": len(expected), "max_abs_difference": difference}
