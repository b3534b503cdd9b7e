"""Slate's project package and generation core.

Imports run down floors, never up (README "Layout"): models/prompts/media at the
bottom, then providers/, the lifecycle (takes, ledger, live), engine/, and views,
consumers and commands on top; library/ and storyboard/ sit above studio.
"""
