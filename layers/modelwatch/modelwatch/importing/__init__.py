"""Bring a model trained elsewhere (scikit-learn, XGBoost, LightGBM, ONNX) into a model folder:
converted to ONNX once on the user's machine, proved equal to the original on the user's data."""
