"""The line recognizer: charset codec, CRNN, CTC decoding, checkpoints, inference.

* ``charset``    text <-> classes (blank = 0), documented normalisation (torch-free)
* ``crnn``       CRNN built from config dicts; named variants ``crnn_small``, ``crnn_base``
* ``ctc``        greedy / beam decoding with per-character frame intervals and confidences (numpy)
* ``lines``      line image -> model input (scale to height, pad batches); shared by train and predict
* ``augment``    seeded on-the-fly degradations for training
* ``checkpoint`` safetensors + JSON models on any fsspec URL; pickles are refused
* ``predict``    :class:`~ocrcore.model.predict.Recognizer`: load a model, read line images

Submodules are imported explicitly (``from ocrcore.model.predict import Recognizer``) so that
importing the torch-free parts does not import torch.
"""

# Inference arithmetic choices (see ocrcore.model.predict.resolve_precision); here, torch-free, so
# the command line can offer them without importing torch at start-up.
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
