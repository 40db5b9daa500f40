"""SageMaker Model Monitor's files, read into ModelWatch's: the baselining job's statistics.json
(a baseline profile) and constraints.json (a monitoring spec), its data-capture and ground-truth
JSON lines (a table for `modelwatch drift --current`), and its constraint_violations.json
(written from a drift report). One module per file format."""
