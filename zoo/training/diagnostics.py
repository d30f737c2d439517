"""Per-layer gradient diagnostics: see vanishing and exploding gradients layer by layer.

For every hidden layer (each Dense or Conv2D inside a zoo block, and each recurrent layer) on
one fixed batch:

* ``weight_grad_norm`` ||dC/dW|| and ``bias_grad_norm`` ||dC/db||: Nielsen's "speed of
  learning" is the bias-gradient norm (Neural Networks and Deep Learning, ch. 5). With
  BatchNorm the Dense has no bias and BN's beta plays its part, so beta's gradient is used;
  ``bias_source`` says which.
* for a recurrent layer (SimpleRNN, GRU, LSTM) the weight is its *recurrent* kernel, the one
  that gradients pass through at every time step, where they vanish or explode.
* ``update_ratio`` = learning rate x ||dC/dW|| / ||W||: how far one plain gradient step would
  move the layer's weights, relative to their size (about 1e-3 is healthy).
* activation statistics of the layer's nonlinearity: mean, std, the fraction of saturated
  units (sigmoid outputs within 0.02 of 0 or 1, tanh within 0.02 of -1 or 1) and of dead units
  (ReLU units that output 0 for every example of the batch).

Gradients are taken in training mode (dropout on, BatchNorm on batch statistics), the way a
training step sees them; BatchNorm's moving statistics are put back afterwards, so diagnosing
never changes the model.

Examples:
    >>> import numpy as np, zoo
    >>> model = zoo.baseline(zoo.get_recipe("fashion_mlp", hidden=[30, 30, 30]), learning_rate=0.1)
    >>> x, y = np.random.rand(100, 28, 28, 1).astype("float32"), np.arange(100) % 10
    >>> [row["name"] for row in layer_stats(model, x, y)]
    ['hidden_1', 'hidden_2', 'hidden_3']
"""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import DataError
from zoo.reports.plots import gradient_norms_figure
from zoo.reports.records import save_figure, write_json
from zoo.training.board import write_layers
from zoo.training.snr import gradient_snr

LINEAR = (keras.layers.Dense, keras.layers.Conv2D)
RECURRENT = (keras.layers.SimpleRNN, keras.layers.GRU, keras.layers.LSTM)
SATURATING = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
RATIO_LOW, RATIO_HIGH = 1e-2, 1e2


def _activation_word(layer) -> str | None:
    if isinstance(layer, keras.layers.Activation):
        return layer.get_config()["activation"]
    if isinstance(layer, (keras.layers.LeakyReLU, keras.layers.PReLU)) or type(layer).__name__ == "RReLU":
        return "leaky"
    return None


def _plan(model: keras.Model) -> list[keras.layers.Layer]:
    """The model as a chain of leaf layers; zoo's builders make exactly such chains."""
    chain = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Sequential):
            chain.extend((layer.name, sub) for sub in layer.layers)
        elif isinstance(layer, keras.Model):
            raise DataError(
                f"diagnose needs a chain of layers like zoo builds; {layer.name!r} is a nested functional model"
            )
        else:
            chain.append((layer.name, layer))
    return chain


def _weight(layer):
    """The weight a layer's row reports: a recurrent layer's recurrent kernel, any other layer's kernel."""
    return layer.cell.recurrent_kernel if isinstance(layer, RECURRENT) else layer.kernel


def _row_stats(row: dict[str, Any], weight_grad, bias_grad, out, learning_rate: float) -> dict[str, Any]:
    """One hidden layer's gradient norms, update ratio and activation statistics."""
    weight_norm = float(np.linalg.norm(_weight(row["layer"]).numpy()))
    weight_grad_norm = float(tf.norm(weight_grad)) if weight_grad is not None else 0.0
    stats = {
        "name": row["name"],
        "weight_grad_norm": weight_grad_norm,
        "bias_grad_norm": float(tf.norm(bias_grad)) if bias_grad is not None else None,
        "bias_source": row["bias_source"],
        "update_ratio": learning_rate * weight_grad_norm / weight_norm if weight_norm else None,
        "activation": row["word"],
    }
    if out is not None:
        values = out.numpy().reshape(len(out), -1)
        stats["act_mean"], stats["act_std"] = float(values.mean()), float(values.std())
        low_high = SATURATING.get(row["word"])
        stats["saturated"] = (
            float(np.mean((values < low_high[0] + 0.02) | (values > low_high[1] - 0.02))) if low_high else None
        )
        stats["dead"] = float(np.mean(np.all(values <= 0, axis=0))) if row["word"] == "relu" else None
    return stats


def layer_stats(
    model: keras.Model, x, y, learning_rate: float | None = None, gradients: bool = False
) -> list[dict[str, Any]]:
    """Gradient and activation statistics for each hidden Dense/Conv2D layer of `model`.

    `x`, `y` is the fixed batch (Nielsen used 1,000 training examples). `learning_rate`
    defaults to the model's optimizer's current rate. With `gradients`, each row also holds
    the weight gradient itself (``weight_grad``, a numpy array).
    """
    chain = _plan(model)
    if learning_rate is None:
        learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) if model.optimizer else 0.01
    linear_per_block = {}
    for block, layer in chain:
        linear_per_block[block] = linear_per_block.get(block, 0) + isinstance(layer, LINEAR)
    saved = [v.numpy() for v in model.non_trainable_variables]
    x = tf.convert_to_tensor(x, tf.float32)
    try:
        with tf.GradientTape() as tape:
            h, rows, outputs = _forward(chain, x, linear_per_block)
            if h.shape[-1] == 1:  # one linear output: a regression net, trained on squared error
                loss = keras.losses.mean_squared_error(tf.convert_to_tensor(y, tf.float32), h)
            else:
                loss = keras.losses.sparse_categorical_crossentropy(tf.convert_to_tensor(y), h)
            loss = tf.reduce_mean(loss)
        variables = []
        for row in rows:
            layer = row["layer"].cell if isinstance(row["layer"], RECURRENT) else row["layer"]
            bias = layer.bias if layer.use_bias else row["beta"]
            row["bias_source"] = "bias" if layer.use_bias else ("batch_norm_beta" if bias is not None else None)
            variables += [_weight(row["layer"]), bias if bias is not None else _weight(row["layer"])]
        grads = tape.gradient(loss, variables)
    finally:
        for variable, value in zip(model.non_trainable_variables, saved):
            variable.assign(value)
    if not rows:
        raise DataError(f"model {model.name!r} has no hidden Dense, Conv2D or recurrent layers to diagnose")
    out = []
    for index, row in enumerate(rows):
        weight_grad, bias_grad = grads[2 * index], grads[2 * index + 1] if row["bias_source"] else None
        out.append(_row_stats(row, weight_grad, bias_grad, outputs.get(index), learning_rate))
        if gradients:
            out[-1]["weight_grad"] = np.asarray(weight_grad if weight_grad is not None else [0.0])
    return out


def _forward(chain, x, linear_per_block: dict) -> tuple[tf.Tensor, list[dict[str, Any]], dict[int, tf.Tensor]]:
    """Run `x` through the chain in training mode (under the caller's tape), noting each hidden layer:
    (the output, one row per hidden layer, each row's activation output by row index)."""
    rows: list[dict[str, Any]] = []
    outputs: dict[int, tf.Tensor] = {}
    h, current = x, None
    for block, layer in chain:
        h = layer(h, training=True)
        if isinstance(layer, LINEAR) and block != "output":
            # A dense block has one linear layer and is named by its block; conv blocks have several.
            name = block if linear_per_block[block] == 1 else f"{block}/{layer.name}"
            current = {"name": name, "layer": layer, "beta": None, "word": None}
            rows.append(current)
        elif isinstance(layer, RECURRENT):  # its nonlinearity is inside: tanh for every Keras cell
            current = {"name": block, "layer": layer, "beta": None, "word": layer.cell.activation.__name__}
            rows.append(current)
            outputs[len(rows) - 1] = h
        elif current is not None and isinstance(layer, keras.layers.BatchNormalization) and current["beta"] is None:
            current["beta"] = layer.beta
        elif current is not None and _activation_word(layer) and current["word"] is None:
            current["word"] = _activation_word(layer)
            outputs[len(rows) - 1] = h
    return h, rows, outputs


def first_last_ratio(rows: list[dict[str, Any]]) -> float:
    """||dC/dW|| of the first hidden layer over that of the last: << 1 vanishing, >> 1 exploding; NaN when
    neither gets a gradient (an output layer started at zero, model.zero_output, passes none back at step 0)."""
    first, last = rows[0]["weight_grad_norm"], rows[-1]["weight_grad_norm"]
    if last > 0:
        return first / last
    return math.nan if first == 0 else math.inf


def gradient_warning(rows: list[dict[str, Any]], when: str = "") -> str | None:
    """A remedy-naming message when the first/last gradient-norm ratio leaves [1e-2, 1e2]."""
    if len(rows) < 2:
        return None
    ratio = first_last_ratio(rows)
    if math.isnan(ratio) or RATIO_LOW <= ratio <= RATIO_HIGH:
        return None
    kind = "vanishing" if ratio < RATIO_LOW else "exploding"
    remedy = (
        'use the default stack (He init, ELU, BatchNorm: stack.name = "default") or fewer layers'
        if kind == "vanishing"
        else "clip gradients (train.clipnorm = 1.0), lower the learning rate, or use He/LeCun init with BatchNorm"
    )
    return (
        f"{kind} gradients{' ' + when if when else ''}: ||dC/dW|| of {rows[0]['name']} is {ratio:.2g} x that of "
        f"{rows[-1]['name']} (healthy: between {RATIO_LOW:g} and {RATIO_HIGH:g}); {remedy}"
    )


def layer_snr(model: keras.Model, x, y, chunks: int = 10) -> dict[str, float]:
    """Per hidden layer, the SNR of its weight gradient (`gradient_snr`) over `chunks` equal slices of a batch.

    Examples:
        >>> import zoo
        >>> model = zoo.baseline(zoo.get_recipe("fashion_mlp", hidden=[30, 30]), learning_rate=0.1)
        >>> x, y = np.random.rand(100, 28, 28, 1).astype("float32"), np.arange(100) % 10
        >>> sorted(layer_snr(model, x, y, chunks=4))
        ['hidden_1', 'hidden_2']
    """
    size = len(x) // chunks
    if size < 1:
        raise DataError(f"layer_snr needs at least {chunks} examples for {chunks} chunks; got {len(x)}")
    per_chunk = [
        layer_stats(model, x[i * size : (i + 1) * size], y[i * size : (i + 1) * size], gradients=True)
        for i in range(chunks)
    ]
    return {
        row["name"]: gradient_snr([chunk[index]["weight_grad"] for chunk in per_chunk], size)["snr"]
        for index, row in enumerate(per_chunk[0])
    }


# Records per run at most (besides initialization). One record costs a forward and backward pass per layer
# outside the compiled step (2 s for the cnn on 2 CPU cores, more than a small set's epoch), and a
# 150-image set trains for hundreds of short epochs: beyond this many epochs, records are spread evenly.
MAX_RECORDS = 30
# And at most about this share of the run's time, once records have cost more than FREE_SECONDS: on a
# 1,000-image set (134 epochs of under a second) 28 records took 53 s of a 131 s run, and on 2,099 solar-cell
# images at 64x64 one record (2.3 s: the forward and backward pass over 1,000 of them, run eagerly) cost more
# than an epoch (2.1 s). A tenth of every image run was too much to pay for a plot; 3% keeps a curve of 5 to 30
# points. Below FREE_SECONDS (every small net, every test) the schedule above is kept exactly; the last epoch is
# always recorded.
TIME_SHARE, FREE_SECONDS = 0.03, 2.0


# What TensorBoard gets of each layer's row, per record (zoo.training.board.write_layers).
BOARD_KEYS = ("weight_grad_norm", "bias_grad_norm", "update_ratio", "act_mean", "act_std", "saturated", "dead")


class GradientDiagnostics(keras.callbacks.Callback):
    """Records `layer_stats` on a fixed batch at initialization and after every epoch (after every k-th
    epoch and the last when a run has more than MAX_RECORDS epochs; an epoch's record is skipped while
    the records have cost more than FREE_SECONDS and more than TIME_SHARE of the run's time so far).

    `records` is a list of {"epoch": 0 for initialization, then 1, 2, ..., "layers": [...]};
    `warning` holds the first vanishing/exploding message, also issued as a UserWarning.
    """

    def __init__(self, x, y, path: str | Path | None = None, tensorboard: str | Path | None = None):
        super().__init__()
        self.x, self.y, self.path = x, y, Path(path) if path else None
        self.tensorboard = Path(tensorboard) / "diagnostics" if tensorboard else None  # a TensorBoard run of its own
        self.records: list[dict[str, Any]] = []
        self.warning: str | None = None
        self.writer = None  # the run's one TensorBoard writer, opened at the first record

    def _record(self, epoch: int) -> None:
        started = time.perf_counter()
        try:
            self._measure(epoch)
        finally:
            self.spent += time.perf_counter() - started

    def _measure(self, epoch: int) -> None:
        rows = layer_stats(self.model, self.x, self.y, gradients=self.tensorboard is not None)
        if self.tensorboard is not None:  # per layer: the gradient's norm and histogram, update ratio, activations
            if self.writer is None:
                self.writer = tf.summary.create_file_writer(str(self.tensorboard))
            write_layers(self.writer, epoch, rows, BOARD_KEYS)
        rows = [{key: value for key, value in row.items() if key != "weight_grad"} for row in rows]
        self.records.append({"epoch": epoch, "first_last_ratio": first_last_ratio(rows), "layers": rows})
        message = gradient_warning(rows, "at initialization" if epoch == 0 else f"after epoch {epoch}")
        if message and self.warning is None:
            self.warning = message
            warnings.warn(message, stacklevel=2)

    def on_train_begin(self, logs=None):
        epochs = (self.params or {}).get("epochs") or 1
        self.every, self.last = max(1, -(-epochs // MAX_RECORDS)), epochs - 1
        self.started, self.spent = time.perf_counter(), 0.0
        if not self.records:  # a resumed run keeps counting from where it was
            self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        if epoch == getattr(self, "last", epoch):
            self._record(epoch + 1)
        elif (epoch + 1) % getattr(self, "every", 1) == 0 and not self._over_budget():
            self._record(epoch + 1)

    def _over_budget(self) -> bool:
        spent = getattr(self, "spent", 0.0)
        return spent > FREE_SECONDS and spent > TIME_SHARE * (time.perf_counter() - self.started)

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.path:
            write_json(self.path, {"records": self.records, "warning": self.warning})
            save_figure(gradient_norms_figure(self.records, title=self.model.name), self.path.with_suffix(".png"))


def table(rows: list[dict[str, Any]]) -> str:
    """A terminal table of one record's layers."""

    def fmt(value, spec=".2e"):
        return "-" if value is None else format(value, spec)

    snr = any("grad_snr" in row for row in rows)
    lines = [
        f"{'layer':<22} {'|dC/dW|':>9} {'|dC/db|':>9} {'update':>9} {'act mean':>9} {'act std':>8} {'satur.':>7} "
        f"{'dead':>6}" + (f" {'grad SNR':>9}" if snr else "")
    ]
    for row in rows:
        lines.append(
            f"{row['name']:<22} {fmt(row['weight_grad_norm']):>9} {fmt(row['bias_grad_norm']):>9} "
            f"{fmt(row['update_ratio']):>9} {fmt(row.get('act_mean'), '.3f'):>9} {fmt(row.get('act_std'), '.3f'):>8} "
            f"{fmt(row.get('saturated'), '.1%'):>7} {fmt(row.get('dead'), '.1%'):>6}"
            + (f" {fmt(row.get('grad_snr')):>9}" if snr else "")
        )
    if rows and all(row["update_ratio"] == 0 and row["weight_grad_norm"] for row in rows):
        # A schedule that ends at 0 (cosine) makes every update 0 after its last epoch: not a dead layer.
        lines.append("update = 0 in every layer: the learning rate is 0 here (the end of its schedule)")
    return "\n".join(lines)


def fixed_batch(data, examples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The first `examples` training examples of a `zoo.data.builtin.Splits`: the same batch every epoch."""
    x, y = data.arrays["train"]
    return x[:examples], y[:examples]


def with_snr(model: keras.Model, data, rows: list[dict[str, Any]], examples: int = 1000) -> list[dict[str, Any]]:
    """`rows` of `layer_stats` with each layer's ``grad_snr`` (`layer_snr` on the fixed batch) added."""
    snr = layer_snr(model, *fixed_batch(data, examples))
    return [{**row, "grad_snr": snr.get(row["name"])} for row in rows]


def diagnose(
    model_or_recipe, data=None, examples: int = 1000, baseline: bool = False, snr: bool = False
) -> list[dict[str, Any]]:
    """Per-layer gradient statistics of a model as it is, or of a recipe's net at initialization.

    `data` defaults to the recipe's dataset; the statistics use its first `examples` training
    examples. With a recipe, `baseline=True` diagnoses its sigmoid/SGD baseline instead. With
    `snr`, each row gains ``grad_snr``, the layer's gradient signal-to-noise ratio (`layer_snr`).

    Examples:
        (Not run by the doctests: it loads Fashion-MNIST, which the test machine may lack.)
        >>> rows = diagnose("fashion_deep_mlp", baseline=True)            # doctest: +SKIP
        >>> rows[0]["weight_grad_norm"] < 1e-2 * rows[-1]["weight_grad_norm"]   # doctest: +SKIP
        True
    """
    from zoo.data.sources import recipe_data
    from zoo.nets.network import build_for
    from zoo.nets.plain import baseline_recipe
    from zoo.recipes.recipe import Recipe, get_recipe

    if isinstance(model_or_recipe, keras.Model):
        model = model_or_recipe
        if data is None:
            raise DataError("diagnosing a model needs data: pass data=zoo.load_data(...)")
    else:
        recipe = model_or_recipe if isinstance(model_or_recipe, Recipe) else get_recipe(model_or_recipe)
        if baseline:
            recipe = baseline_recipe(recipe)
        recipe, data = recipe_data(recipe, data)
        keras.utils.set_random_seed(recipe.train.seed)
        model = build_for(recipe, data)
    rows = layer_stats(model, *fixed_batch(data, examples))
    return with_snr(model, data, rows, examples) if snr else rows
