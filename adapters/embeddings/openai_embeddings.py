"""The provider's embeddings through the ``openai`` SDK (``POST {base_url}/embeddings``).

Key and base URL come from the same environment as the OpenAI chat provider
(``OPENAI_API_KEY``, ``OPENAI_BASE_URL``). A failed call raises the typed errors
of ``services.models`` — it never falls back to another embedder for one text,
because vectors of different embedders must never be compared.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from adapters.llm.http_errors import sdk_errors_as_model_errors
from services.models import ProviderRejected

if TYPE_CHECKING:
    import openai

__all__ = ["KNOWN_DIMENSIONS", "OpenAIEmbedder"]

# What each model answers when no ``dimensions`` is asked for.
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder:
    """``model`` with ``dimensions`` (asked of the API when it differs from the
    model's own size, as text-embedding-3 models allow)."""

    def __init__(
        self,
        model: str,
        *,
        api_key: str,
        base_url: str,
        dimensions: int | None = None,
        timeout_seconds: float = 30.0,
    ) -> None:
        native = KNOWN_DIMENSIONS.get(model)
        size = dimensions or native
        if size is None:
            raise ValueError(f"say how many dimensions {model!r} answers: openai:{model}:N")
        self.model = model
        self.dimensions = size
        self._ask_dimensions = size if size != native else None
        self.name = f"openai:{model}" + (f":{size}" if self._ask_dimensions else "")
        self.base_url = base_url
        self._api_key = api_key
        self._timeout = timeout_seconds
        self._client: openai.AsyncOpenAI | None = None

    def __repr__(self) -> str:
        return f"OpenAIEmbedder({self.name!r}, base_url={self.base_url!r})"

    def _connect(self) -> openai.AsyncOpenAI:
        if self._client is None:
            import openai  # slow to import: only when really called

            self._client = openai.AsyncOpenAI(
                api_key=self._api_key, base_url=self.base_url, max_retries=0
            )
        return self._client

    async def embed(self, text: str) -> list[float]:
        client = self._connect()
        import openai

        with sdk_errors_as_model_errors(
            "openai", self.base_url, self._timeout, openai, openai.OpenAIError
        ):
            answer = await client.embeddings.create(
                model=self.model,
                input=text,
                encoding_format="float",
                dimensions=self._ask_dimensions or openai.omit,
                timeout=self._timeout,
            )
        if not answer.data:
            raise ProviderRejected("openai", "the embeddings answer has no data")
        vector = [float(v) for v in answer.data[0].embedding]
        if len(vector) != self.dimensions:
            raise ProviderRejected(
                "openai", f"{self.name} answered {len(vector)} dimensions, not {self.dimensions}"
            )
        norm = math.sqrt(sum(v * v for v in vector))
        if not norm:
            raise ProviderRejected("openai", "the embedding is the zero vector")
        return [v / norm for v in vector]

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
