"""The infrastructure under the checks: settings, data, notebook files and the caps on a model.

``config.py`` is course.yml's schema, ``mnist.py`` loads MNIST, ``notebook_file.py`` finds and reads a
submitted notebook, ``atomic_files.py`` writes an output file whole or not at all, and ``model_caps.py`` + ``model_allowlist.py`` hold the caps on a model's parameters
and activations and the saved models the kit rebuilds (shared with the grader's isolation). Part of the
student wing: nothing here imports the instructor wing.
"""
