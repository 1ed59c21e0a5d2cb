"""Model providers: OpenAI and Kimi (openai SDK), Claude (anthropic SDK), offline local."""
