"""ModelWatch core: spec, profiles, drift statistics, quality, performance and reports.

Pure computation: no AWS SDK, no Lambda. Modules that need scipy import it themselves, so the
prediction path (spec and schema validation) stays light.
"""

__version__ = "0.1.0"
