"""A quiet console: TensorFlow's start-up log lines kept off the terminal, real errors kept on it.

Importing TensorFlow prints about ten lines to the process's stderr from C++ (absl and TSL
logging), among them ``E0000 ... failed call to cuInit`` on any machine without a GPU, which a
new user reads as a failure. TF 2.19 and later print most of them whatever
``TF_CPP_MIN_LOG_LEVEL`` says (tensorflow/tensorflow#100442), and Python's ``sys.stderr`` cannot
catch them, so `quiet_tensorflow` points file descriptor 2 at a temporary file while TensorFlow
loads and looks for devices, then passes on every captured line that is not known start-up noise.

A user who sets ``TF_CPP_MIN_LOG_LEVEL`` keeps full control: then nothing is captured or filtered.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
import tempfile

# Start-up lines that say nothing is wrong: absl's preamble, info/warning lines in glog format,
# the wrapped second line of the CPU-instructions notice, and the failed CUDA probe of a CPU-only
# machine (an error line only in name: TensorFlow goes on without a GPU, as the user expects).
NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog|[IW]\d{4} |To enable the following instructions"
    r"|E\d{4} .*(cuInit|Unable to register cu(DNN|FFT|BLAS) factory)"
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU)"  # a TFLite interpreter's first run, any machine
)


def filter_noise(text: str) -> str:
    """The lines of `text` that are not TensorFlow start-up noise.

    Examples:
        >>> filter_noise("I0000 00:00:1.0  1 port.cc:153] oneDNN custom operations are on.\\nreal problem\\n")
        'real problem\\n'
    """
    return "".join(line for line in text.splitlines(keepends=True) if not NOISE.match(line))


def quiet_tensorflow() -> None:
    """Import TensorFlow and probe its devices with start-up noise filtered from stderr.

    Call it before anything else imports TensorFlow; afterwards it is a no-op. With
    ``TF_CPP_MIN_LOG_LEVEL`` set by the user, TensorFlow is imported as it is.
    """
    if "tensorflow" in sys.modules:
        return
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow" and importlib.util.find_spec("tensorflow") is None:
        return  # Keras on JAX or PyTorch without TensorFlow: zoo's networks build and fit there
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        import tensorflow  # noqa: F401  (the user's own log level applies)

        return
    # Later C++ info and warning lines (XLA compilation notices and the like) honour the variable.
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with filtered_stderr():
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe prints here
    tf.get_logger().setLevel("ERROR")  # Python-side notices (retracing and the like); errors still show


@contextlib.contextmanager
def filtered_stderr():
    """Inside, file descriptor 2 (C++ logging included) goes to a temporary file; on leaving, every line
    of it that is not known noise (`filter_noise`) is passed on to stderr.

    Examples:
        >>> import io
        >>> shown = io.StringIO()
        >>> with contextlib.redirect_stderr(shown), filtered_stderr():
        ...     _ = os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\nreal problem\\n")
        >>> shown.getvalue()
        'real problem\\n'
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = filter_noise(captured.read().decode(errors="replace"))
            if kept:
                sys.stderr.write(kept)
