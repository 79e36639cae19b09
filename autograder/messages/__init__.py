"""What students read: the text of errors and hints, the message catalogs, and their own stderr.

``error_text.py`` describes what a student's code raised, without the machine's paths, and gives the
hints; ``i18n.py`` translates the messages with the catalogs in ``autograder/locale/``; ``cell_stderr.py``
and ``framework_log.py`` keep a cell's own warnings and output apart from TensorFlow's log. Part of the
student wing: nothing here imports the instructor wing.
"""
