"""The isolation runner (instructor wing): a jailed child process calls the submission's functions; the grader reads back bounded plain data."""
