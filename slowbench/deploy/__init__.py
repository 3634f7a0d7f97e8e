"""Deployment of a trained detector: ONNX (runs in stock onnxruntime) and torch.export `.pt2`.

onnx / onnxruntime are optional (`pip install -e .[deploy]`) and imported only where used.
"""
