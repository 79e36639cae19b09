"""The instructor wing's grader: the Grader session, the reference solution, hidden probes, calibration."""
