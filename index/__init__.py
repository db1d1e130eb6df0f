"""The index stage: files → load → chunk → embed → Chroma + keyword index."""
