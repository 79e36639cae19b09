"""Gradescope autograder bundle (instructor wing).

``bundle`` builds the zip that Gradescope's "Configure Autograder" page accepts (``setup.sh``,
``run_autograder``, the kit's source, the course's config and calibration, optionally MNIST);
``run`` is what ``run_autograder`` executes for each upload: it always leaves a results.json.
"""
