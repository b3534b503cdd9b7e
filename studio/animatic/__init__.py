"""Slate's local animatic renderer: shots become timed preview MP4s, offline."""
