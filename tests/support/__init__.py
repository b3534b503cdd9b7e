"""Wiring for tests and benches: Slate connected to the simulators in tests/fakes, real
Slate processes, probes. The simulators import nothing of Slate; this package does."""
