"""Every model provider this process knows, configured from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from adapters.llm.claude import claude_provider
from adapters.llm.local import LocalProvider
from adapters.llm.openai_chat import kimi_provider, openai_provider
from services.models import ModelProvider

__all__ = ["close_providers", "providers_from_env"]


def providers_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, ModelProvider]:
    """``local``, ``openai``, ``kimi`` and ``anthropic``, by name.

    Providers without a key are listed too: they say they are unavailable
    when asked, so a route falls through them and the outcome says why.
    """
    providers: list[ModelProvider] = [
        LocalProvider(),
        openai_provider(environ),
        kimi_provider(environ),
        claude_provider(environ),
    ]
    return {provider.name: provider for provider in providers}


async def close_providers(providers: Mapping[str, ModelProvider]) -> None:
    for provider in providers.values():
        await provider.aclose()
