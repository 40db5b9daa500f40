"""A classifier graph as exported by default: skl2onnx (and onnxmltools) end a classifier with a
ZipMap node, which turns the probability tensor into a sequence of {class: probability} maps.
Serving reads a [rows, classes] tensor, so at import the ZipMap is taken off and the graph
answers the tensor it was computing anyway: the same numbers, in the classifier's class order
(the order ZipMap's own labels and the classifier operator's labels follow).

Nothing else of the graph changes; a graph without a ZipMap is returned as it came.
"""

from __future__ import annotations

from pathlib import Path

from modelwatch.errors import UserInputError

ZIPMAP = "ZipMap"


def without_zipmap(onnx_bytes: bytes, where: Path) -> bytes:
    """The graph with each ZipMap that makes a graph output removed, and the probability tensor
    it read in its place, under the tensor's own name (serving reads outputs by position)."""
    import onnx

    model = onnx.load_model_from_string(onnx_bytes)
    graph = model.graph
    outputs = {output.name: index for index, output in enumerate(graph.output)}
    zipmaps = [node for node in graph.node if node.op_type == ZIPMAP and node.output[0] in outputs]
    if not zipmaps:
        return onnx_bytes
    for node in zipmaps:
        if any(node.output[0] in other.input for other in graph.node):
            raise UserInputError(f"{where}: the graph's ZipMap feeds other nodes; export it without ZipMap")
        tensor = onnx.helper.make_tensor_value_info(node.input[0], onnx.TensorProto.FLOAT, [None, None])
        graph.output[outputs[node.output[0]]].CopyFrom(tensor)
        graph.node.remove(node)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as error:
        raise UserInputError(f"{where}: the graph without its ZipMap is not valid ONNX ({error})") from None
    return model.SerializeToString()
