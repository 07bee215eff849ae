"""Quality and domain classifiers: LLM labelling, training, evaluation and pipeline inference."""
