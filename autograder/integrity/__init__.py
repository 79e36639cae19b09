"""Academic integrity: how alike the class's own code is (``python -m autograder similarity``). Instructor wing."""
