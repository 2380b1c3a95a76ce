"""Readers for external corpora, read in place from paths given in configs/."""
