# Names the dead-code finder cannot see used: the code that uses them is not Python in this repository.
# Run: vulture autograder tests benchmarks .vulture_whitelist.py --min-confidence 60 (tests/test_dead_code.py).
# Never executed. Before adding a name here, grep for it: a name nothing calls is to be deleted, not listed.

# Signal handlers and overridden methods: the caller's signature, not ours.
signum, frame, exitstatus
raw_code, transformed_code, gui

# pytest finds these by name: hooks, fixtures (autouse, or requested as an argument), module marks.
pytest_addoption, pytest_configure, pytest_collection_modifyitems, pytest_report_header, pytest_terminal_summary
_.pytest_xdist_make_scheduler, _._split_scope
pytestmark
accuracy_session, no_hang, no_grading, no_mnist, no_config_env, _isolated

# Rules that tests register with @rule: the registry calls them.
check_weighted, check_relabel_keeps_the_dtype

# pydantic: model settings, validators, and ledger fields read from JSON.
model_config, _._a_grade_has_its_scores, _._groups_are_known
isolated

# traitlets and IPython: defaults and config read by name, a shell's class hooks.
_._transport_default, _.transport, _.ip
compiler_class, _.get_code_name, _.enable_gui, _.colors, _.xmode

# Keras callbacks: Keras calls these, and reads stop_training.
_.on_train_begin, _.on_epoch_end, _.on_train_end, _.on_train_batch_end, _.stop_training

# nbgrader's gradebook (SQLAlchemy columns written by assignment).
_.auto_score, _.manual_score

# Set for the library that reads them: zipfile's entry, Selenium's browser.
_.compress_type, _.binary_location

# Called from the notebooks (assignments/, solutions/ and the hidden test cells source_notebook writes).
load_course_data, course_n_val, training_examples, training_verbosity, check_hidden_group

# Run by nbgrader's sandboxed kernel at its start (IPython's exec_lines, course/sandboxed_kernel.py).
give_the_self_check_the_lecture_trainings

# Read by getattr from a table of (label, attribute, cap) rows (fit_summary._FIGURES).
slowest_call_s, _.slowest_call_s

