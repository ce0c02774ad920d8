"""tinyflow: from a Keras model to a validated int8 model on an Arm Cortex-M."""

from pathlib import Path

__version__ = "0.1.0"

# The project root holds boards/, templates/ and firmware/ next to the package.
ROOT = Path(__file__).resolve().parent.parent
