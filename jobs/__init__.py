"""The scheduler: the schedule as data, thin job functions, and one leader-locked runner."""
