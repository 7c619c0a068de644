"""Vertex AI in the shipped catalog: its names reach its own models, and never take a bare name away."""

from __future__ import annotations

import pytest

from pricing import Catalog


@pytest.mark.parametrize(("name", "provider"), [
    ("gemini-3.6-flash", "google"),            # a bare Gemini id is still the Gemini API's
    ("google/gemini-3.6-flash", "google"),
    ("vertex/gemini-3.6-flash", "vertex"),
    ("vertex_ai/gemini-3.6-flash", "vertex"),
    ("publishers/google/models/gemini-3.8-flash", "vertex"),
    ("claude-sonnet-4-6", "anthropic"),        # a bare Claude id is still Anthropic's
    ("vertex/claude-sonnet-4-6", "vertex"),
    ("claude-sonnet-4-5@20250929", "vertex"),  # Vertex's dated ids exist nowhere else
    ("CLAUDE-OPUS-4-5@20251101", "vertex"),
])
def test_names_resolve_to_the_seller_they_name(name: str, provider: str) -> None:
    assert Catalog.default().model(name).provider == provider


def test_every_vertex_model_is_reachable_as_vertex_slash_its_vertex_id() -> None:
    catalog = Catalog.default()
    for model in catalog.models("vertex"):
        vertex_names = [a for a in model.aliases if a.startswith("vertex/")]
        assert vertex_names, model.id
        for name in vertex_names:
            assert catalog.model(name) is model
