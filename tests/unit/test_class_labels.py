"""A feedback label against a classifier's classes (modelwatch.labels.class_label_problem)."""

from __future__ import annotations

from modelwatch.labels import class_label_problem


def test_numbers_and_their_text_are_the_same_class():
    for value in (1, 1.0, "1"):
        assert class_label_problem(value, ["0", "1"]) is None
    assert class_label_problem(2, ["0", "1"]) == ("unknown_class", "'2' is not one of the model's classes (0, 1)")


def test_a_boolean_is_a_class_only_where_the_classes_are_booleans():
    assert class_label_problem(True, ["false", "true"]) is None
    assert class_label_problem(False, ["false", "true"]) is None
    rule, message = class_label_problem(True, ["0", "1"])  # type: ignore[misc]
    assert rule == "boolean_label" and "not booleans" in message
    assert class_label_problem(True, ["cat", "dog", "true"])[0] == "boolean_label"  # type: ignore[index]


def test_multiclass_names_are_compared_exactly():
    classes = ["setosa", "versicolor", "virginica"]
    assert class_label_problem("virginica", classes) is None
    assert class_label_problem("Virginica", classes)[0] == "unknown_class"  # type: ignore[index]


def test_label_errors_name_each_wrong_field_and_stored_labels_follow_the_task():
    from modelwatch.labels import label_errors, stored_label

    errors = label_errors([1, None, "2", True], ["0", "1"], batch=True)
    assert [(e["loc"], e["type"]) for e in errors] == [
        (("body", "items", 2, "label"), "unknown_class"),
        (("body", "items", 3, "label"), "boolean_label"),
    ]
    assert [e["loc"] for e in label_errors(["x"], ["0", "1"], batch=False)] == [("body", "label")]
    assert label_errors([1.0, "1", 0], ["0", "1"], batch=True) == []
    assert (stored_label(1.0, "binary"), stored_label("7", "regression")) == ("1", 7.0)
