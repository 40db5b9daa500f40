"""How records become model inputs, shared by training and serving so both encode alike."""

# A missing category becomes this (never a trained category), which the one-hot encoder
# ignores like any unseen value.
MISSING_CATEGORY = "__missing__"
