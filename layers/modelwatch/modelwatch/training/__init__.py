"""Training and export: scikit-learn pipelines, exported to ONNX so serving loads no code."""
