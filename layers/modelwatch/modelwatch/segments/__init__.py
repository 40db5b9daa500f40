"""Segments: a drift verdict per slice of traffic, with false flags controlled across every
segment x feature check (modelwatch.segments.verdicts). The profiles they are judged on are
built with every other profile (modelwatch.profiles.segmented), where the capture path can make
them without loading the drift engine."""
