"""Serving: request models, validation, request ids, ONNX inference and capture records.

Pure of AWS: the prediction and feedback functions wire these to S3, SSM and logs.
"""
