"""Profile: one partial profile per capture object."""
