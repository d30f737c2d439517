"""The two unsupervised layer models of greedy pretraining: an RBM (contrastive divergence) and a denoising autoencoder.

A Bernoulli-Bernoulli RBM with weights W, visible biases b and hidden biases c learns by
contrastive divergence (CD-k), one mini-batch v0 at a time::

    up:       p(h=1 | v0) = sigmoid(v0 W + c),   h0 ~ Bernoulli(p(h | v0))
    down:     p(v=1 | h)  = sigmoid(h W^T + b)   (the reconstruction of the visible layer)
    k times:  up, down from the sample, ending at v_k and p(h | v_k)
    compare:  dW = <v0^T p(h|v0)> - <v_k^T p(h|v_k)>,  db = <v0 - v_k>,  dc = <p(h|v0) - p(h|v_k)>
    update:   velocity = momentum * velocity + learning_rate * (d - weight_decay * W);  W += velocity

A denoising autoencoder corrupts its input (a fraction `noise` of the values set to zero, Vincent
et al. 2008), encodes it with the MLP's own Dense layer and activation, and learns to decode the
*clean* input. Either way the result is one (kernel, bias) pair per hidden layer.

Examples:
    >>> import numpy as np
    >>> x = (np.random.default_rng(0).random((200, 16)) < 0.3).astype("float32")
    >>> rbm = RBM(16, 8, seed=0)
    >>> history = rbm.fit(x, epochs=2, verbose=False)
    >>> rbm.transform(x).shape
    (200, 8)
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from zoo.errors import RecipeError
from zoo.nets.factories import get_activation, get_initializer
from zoo.recipes.keys import SCHEMA
from zoo.recipes.schema import count_field
from zoo.training.pipelines import ShuffleEpoch, pipeline

# Sizes and epoch counts of the building blocks; the [pretrain] settings use the recipe's own fields.
_COUNT = count_field()


def check_setting(key: str, value):
    """Check `value` as the recipe checks it: the [pretrain] field of that name, else a count >= 1."""
    section, _, name = key.partition(".")
    field = SCHEMA["pretrain"][name] if section == "pretrain" else _COUNT
    return field.check(key, value)


def as_matrix(x, what: str = "x") -> np.ndarray:
    """Flatten images to one row per example: pretraining sees vectors, as the MLP's Dense layers do."""
    x = np.asarray(x, dtype="float32")
    if x.ndim < 2 or x.shape[0] == 0:
        raise RecipeError(f"{what} has shape {x.shape}; expected one row (or image) per example")
    if not np.all(np.isfinite(x)):
        raise RecipeError(f"{what} holds NaN or infinite values")
    return x.reshape(len(x), -1)


class RBM:
    """A Bernoulli-Bernoulli restricted Boltzmann machine trained with CD-k.

    Visible values are probabilities in [0, 1] (grey pixels are read as the probability of a
    pixel being on). Following Hinton's practical guide (2010): weights start N(0, 0.01), visible
    biases start at log(p / (1 - p)) of the data's per-pixel mean, hidden states are sampled in
    the up passes and probabilities are used for the reconstructions.

    Examples:
        >>> import numpy as np
        >>> x = (np.random.default_rng(0).random((256, 12)) < 0.5).astype("float32")
        >>> rbm = RBM(12, 6, cd_k=1, learning_rate=0.1)
        >>> history = rbm.fit(x, epochs=2, verbose=False)
        >>> sorted(history)
        ['free_energy', 'reconstruction_error', 'seconds']
    """

    def __init__(
        self,
        visible_units: int,
        hidden_units: int,
        *,
        cd_k: int = 1,
        learning_rate: float = 0.05,
        momentum: float = 0.5,
        weight_decay: float = 2e-4,
        seed: int = 0,
    ):
        self.visible_units = check_setting("visible_units", visible_units)
        self.hidden_units = check_setting("hidden_units", hidden_units)
        self.cd_k = check_setting("pretrain.cd_k", cd_k)
        self.learning_rate = check_setting("pretrain.layer_learning_rate", learning_rate)
        self.momentum = check_setting("pretrain.momentum", momentum)
        self.weight_decay = check_setting("pretrain.weight_decay", weight_decay)
        rng = np.random.default_rng(seed)
        self.weights = tf.Variable(
            rng.normal(0.0, 0.01, (visible_units, hidden_units)).astype("float32"), name="weights"
        )
        self.visible_bias = tf.Variable(tf.zeros([visible_units]), name="visible_bias")
        self.hidden_bias = tf.Variable(tf.zeros([hidden_units]), name="hidden_bias")
        self._velocities = [tf.Variable(tf.zeros_like(v)) for v in (self.weights, self.visible_bias, self.hidden_bias)]
        self._generator = tf.random.Generator.from_seed(seed)
        self._seed = seed
        self._started = False

    # The three formulas of the model, each one line.
    def hidden_probabilities(self, visible):
        """p(h=1 | v) = sigmoid(v W + c)."""
        return tf.sigmoid(tf.matmul(visible, self.weights) + self.hidden_bias)

    def visible_probabilities(self, hidden):
        """p(v=1 | h) = sigmoid(h W^T + b)."""
        return tf.sigmoid(tf.matmul(hidden, self.weights, transpose_b=True) + self.visible_bias)

    def free_energy(self, visible):
        """F(v) = -v.b - sum_j softplus(v W_j + c_j): lower for inputs the model finds likely."""
        visible = tf.convert_to_tensor(as_matrix(visible) if not tf.is_tensor(visible) else visible)
        return -tf.linalg.matvec(visible, self.visible_bias) - tf.reduce_sum(
            tf.nn.softplus(tf.matmul(visible, self.weights) + self.hidden_bias), axis=1
        )

    def _sample(self, probabilities):
        return tf.cast(self._generator.uniform(tf.shape(probabilities)) < probabilities, tf.float32)

    def _cd_step(self, v0):
        """One CD-k update from the mini-batch `v0`; returns its summed squared reconstruction error."""
        batch = tf.cast(tf.shape(v0)[0], tf.float32)
        h0_probabilities = self.hidden_probabilities(v0)  # up
        hidden = self._sample(h0_probabilities)
        visible = self.visible_probabilities(hidden)  # down: the reconstruction
        error = tf.reduce_sum(tf.square(v0 - visible))  # compare with the data
        hk_probabilities = self.hidden_probabilities(visible)  # up again
        for _ in range(self.cd_k - 1):  # k - 1 more Gibbs steps
            visible = self.visible_probabilities(self._sample(hk_probabilities))
            hk_probabilities = self.hidden_probabilities(visible)
        # The data-driven statistics minus the reconstruction-driven ones (and weight decay).
        gradients = (
            (tf.matmul(v0, h0_probabilities, transpose_a=True) - tf.matmul(visible, hk_probabilities, transpose_a=True))
            / batch
            - self.weight_decay * self.weights,
            tf.reduce_mean(v0 - visible, axis=0),
            tf.reduce_mean(h0_probabilities - hk_probabilities, axis=0),
        )
        for variable, velocity, gradient in zip(
            (self.weights, self.visible_bias, self.hidden_bias), self._velocities, gradients
        ):
            velocity.assign(self.momentum * velocity + self.learning_rate * gradient)
            variable.assign_add(velocity)
        return error

    @tf.function
    def _train_epoch(self, dataset):
        """CD-k over every mini-batch of `dataset`, in one graph (no Python per step)."""
        total = tf.constant(0.0)
        for v0, _ in dataset:
            total += self._cd_step(v0)
        return total

    def reconstruction_error(self, x) -> float:
        """Mean squared error per value of the mean-field reconstruction p(v | p(h | x))."""
        x = tf.convert_to_tensor(as_matrix(x))
        return float(tf.reduce_mean(tf.square(x - self.visible_probabilities(self.hidden_probabilities(x)))))

    def transform(self, x) -> np.ndarray:
        """The hidden probabilities p(h=1 | x): what the next RBM of a stack trains on."""
        return self.hidden_probabilities(tf.convert_to_tensor(as_matrix(x))).numpy()

    def fit(self, x, epochs: int = 5, batch_size: int = 64, verbose: bool = True) -> dict[str, list[float]]:
        """Train with CD-k; per epoch, the reconstruction error and mean free energy on the data.

        The reconstruction error is measured during training with sampled hidden states (the
        number Hinton's guide says to watch, with care); the free energy on a fixed sample of up
        to 1,000 training rows after each epoch.
        """
        x = as_matrix(x)
        check_setting("epochs", epochs)
        check_setting("pretrain.layer_batch_size", batch_size)
        if x.shape[1] != self.visible_units:
            raise RecipeError(f"x has {x.shape[1]} values per example; this RBM has {self.visible_units} visible units")
        if x.min() < 0 or x.max() > 1:
            raise RecipeError(
                f"RBM inputs must be probabilities in [0, 1]; found values from {x.min():g} to {x.max():g}"
            )
        if not self._started:
            # Hinton's guide: visible bias log(p / (1 - p)) makes the first reconstructions match the data's mean.
            mean = np.clip(x.mean(axis=0), 1e-3, 1 - 1e-3)
            self.visible_bias.assign(np.log(mean / (1 - mean)).astype("float32"))
            self._started = True
        # The pipeline serves (x, y) pairs; an RBM has no targets, so y is one byte a row, not a
        # second copy of x gathered with every batch. The order depends on (seed, epoch) alone.
        dataset = pipeline(x, np.zeros(len(x), "uint8"), batch_size, shuffle=True, seed=self._seed)
        sample = tf.convert_to_tensor(x[:1000])
        history: dict[str, list[float]] = {"reconstruction_error": [], "free_energy": [], "seconds": []}
        started = time.perf_counter()
        for epoch in range(epochs):
            dataset.zoo_epoch.assign(epoch)  # epoch k's order, as `ShuffleEpoch` sets it for Keras's fit
            total = float(self._train_epoch(dataset))
            history["reconstruction_error"].append(total / x.size)
            history["free_energy"].append(float(tf.reduce_mean(self.free_energy(sample))))
            history["seconds"].append(round(time.perf_counter() - started, 2))
            if verbose:
                print(
                    f"  rbm {self.visible_units}->{self.hidden_units} epoch {epoch + 1}/{epochs}: reconstruction error "
                    f"{history['reconstruction_error'][-1]:.4f}, free energy {history['free_energy'][-1]:.1f}",
                    flush=True,
                )
        return history


class DenoisingAutoencoder:
    """One hidden layer that learns to rebuild its clean input from a corrupted copy.

    The encoder is the MLP's own layer (Dense with the recipe's initializer, then its
    activation), so its kernel and bias drop straight into the MLP. The decoder is a separate
    Dense: sigmoid with cross-entropy when the inputs lie in [0, 1] (pixels, sigmoid units),
    linear with squared error otherwise (ELU, tanh units...). Trained with SGD + momentum.

    Examples:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((256, 12)).astype("float32")
        >>> dae = DenoisingAutoencoder(12, 6, activation="elu", init="he_normal", noise=0.2)
        >>> sorted(dae.fit(x, epochs=1, verbose=False))
        ['reconstruction_error', 'seconds']
    """

    def __init__(
        self,
        input_units: int,
        hidden_units: int,
        *,
        activation: str = "sigmoid",
        init: str = "scaled_normal",
        noise: float = 0.2,
        learning_rate: float = 0.05,
        momentum: float = 0.5,
        weight_decay: float = 2e-4,
        seed: int = 0,
    ):
        self.input_units = check_setting("input_units", input_units)
        self.hidden_units = check_setting("hidden_units", hidden_units)
        self.noise = check_setting("pretrain.noise", noise)
        self.learning_rate = check_setting("pretrain.layer_learning_rate", learning_rate)
        self.momentum = check_setting("pretrain.momentum", momentum)
        self.weight_decay = check_setting("pretrain.weight_decay", weight_decay)
        self.seed = seed
        self._fits = 0  # each call to `fit` draws masks of its own
        self.encoder = keras.layers.Dense(hidden_units, kernel_initializer=get_initializer(init, seed), name="encoder")
        self.activation = get_activation(activation, "encoder_activation")
        self.model: keras.Model | None = None

    def _build(self, bounded: bool) -> keras.Model:
        inputs = keras.Input((self.input_units,))
        code = self.activation(self.encoder(inputs))
        decoder = keras.layers.Dense(
            self.input_units,
            activation="sigmoid" if bounded else None,
            kernel_initializer=keras.initializers.GlorotUniform(self.seed + 1),
            name="decoder",
        )
        model = keras.Model(inputs, decoder(code))
        optimizer = keras.optimizers.SGD(
            self.learning_rate, momentum=self.momentum, weight_decay=self.weight_decay or None
        )
        # The reconstruction loss is summed over the input's values, as Vincent et al. (2008, 2010) define it.
        # Keras's losses average over them, which scales every weight gradient down by the input width
        # (784 for pixels): at the classic rates the weights then barely leave their initialization, the
        # codes collapse towards 0.5 layer after layer, and a pretrained deep net fine-tunes no better
        # than a random one (zoo's first DAE pretraining sat at chance for exactly this reason).
        loss = keras.losses.binary_crossentropy if bounded else keras.losses.mean_squared_error
        width = float(self.input_units)
        model.compile(
            optimizer,
            loss=lambda clean, rebuilt: width * loss(clean, rebuilt),
            metrics=["mean_squared_error"],
            steps_per_execution=32,
        )
        return model

    def transform(self, x) -> np.ndarray:
        """The clean input's code: what the next autoencoder of a stack trains on."""
        return keras.ops.convert_to_numpy(self.activation(self.encoder(as_matrix(x))))

    def reconstruction_error(self, x) -> float:
        """Mean squared error per value of the reconstruction of the clean input."""
        x = as_matrix(x)
        return float(np.mean(np.square(x - self.model.predict(x, batch_size=1024, verbose=0))))

    def fit(self, x, epochs: int = 5, batch_size: int = 64, verbose: bool = True) -> dict[str, list[float]]:
        """Train on (corrupted x -> clean x); per epoch, the reconstruction error (mean squared, per value)."""
        x = as_matrix(x)
        check_setting("epochs", epochs)
        check_setting("pretrain.layer_batch_size", batch_size)
        if x.shape[1] != self.input_units:
            raise RecipeError(f"x has {x.shape[1]} values per example; this autoencoder has {self.input_units} inputs")
        if self.model is None:
            self.model = self._build(bounded=bool(x.min() >= 0 and x.max() <= 1))
        # Masking noise (each value zeroed with probability `noise`, the rest kept as they are)
        # is dropout without its 1 / (1 - noise) rescaling, applied in the pipeline to the inputs
        # only, so the targets stay clean. The pipeline draws every mask from (seed, epoch, batch
        # index), and the seed from (the DAE's seed, this fit's number): a DAE trains the same
        # every time, and a second fit draws masks of its own.
        corrupt = (
            None
            if self.noise == 0
            else keras.Sequential(
                [keras.layers.Dropout(self.noise, seed=self.seed), keras.layers.Rescaling(1.0 - self.noise)],
                name="masking_noise",
            )
        )
        seed = int(np.random.SeedSequence([self.seed, self._fits]).generate_state(1)[0] >> 1)
        self._fits += 1
        dataset = pipeline(x, x, batch_size, shuffle=True, seed=seed, augment=corrupt)
        history: dict[str, list[float]] = {"reconstruction_error": [], "seconds": []}
        started = time.perf_counter()

        def record(epoch, logs):
            history["reconstruction_error"].append(float(logs["mean_squared_error"]))
            history["seconds"].append(round(time.perf_counter() - started, 2))
            if verbose:
                print(
                    f"  dae {self.input_units}->{self.hidden_units} epoch {epoch + 1}/{epochs}: reconstruction error "
                    f"{history['reconstruction_error'][-1]:.4f} (noise {self.noise:g})",
                    flush=True,
                )

        self.model.fit(
            dataset,
            epochs=epochs,
            verbose=0,
            shuffle=False,
            callbacks=[ShuffleEpoch(dataset), keras.callbacks.LambdaCallback(on_epoch_end=record)],
        )
        return history

    @property
    def kernel_and_bias(self) -> tuple[np.ndarray, np.ndarray]:
        kernel, bias = self.encoder.get_weights()
        return kernel, bias
