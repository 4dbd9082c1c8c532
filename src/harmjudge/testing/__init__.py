"""Tools for trying and testing harmjudge without a model provider.

:mod:`harmjudge.testing.server` is an OpenAI-compatible server on 127.0.0.1 whose replies are
valid harmjudge verdicts (``python -m harmjudge.testing.server``).
"""
