"""Where the tests find the course: the repository root and its committed notebooks (one place for paths)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "binary_mnist" / "binary_mnist.ipynb"
RELEASE = ROOT / "assignments" / "binary_mnist" / "binary_mnist.ipynb"
