"""Offline topic guidance: the article library (library.py), its FTS5 index and search
(index.py, text.py), and opening both on a desk's local database (service.py)."""
