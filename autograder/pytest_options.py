"""The self-check's command-line option, as a plugin pytest loads before it reads the command line.

``pytest autograder --notebook NB`` finds the option in ``autograder/conftest.py``, which pytest reads first
because ``autograder`` is the folder it was given. Where the kit is installed and there is no such folder (Colab's
``/content``), ``pytest --pyargs autograder --notebook NB`` finds the package only after the command line is read:
the student kit declares this module as a ``pytest11`` entry point, so that the option is known by then.
"""

from __future__ import annotations

NOTEBOOK_ENV = "AUTOGRADER_NOTEBOOK"


def pytest_addoption(parser):
    try:
        parser.addoption("--notebook", default=None,
                         help=f"notebook to self-check (default: ${NOTEBOOK_ENV}, else the assignment's "
                              f"release notebook assignments/<id>/<id>.ipynb next to course.yml)")
    except ValueError:  # added already: the entry point and the conftest are both loaded in the kit's own folder
        pass
