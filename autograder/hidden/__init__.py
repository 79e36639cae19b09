"""What only grading knows: the hidden probes, and with them every check the grader runs. Instructor wing.

Below both the grader (``autograder.grader``) and its jailed processes (``autograder.isolation``), which
look probes and checks up here; it imports neither.
"""
