"""The HTTP API: the Litestar app, its request bodies, problem documents, OpenAPI document, settings
and the uvicorn runner."""
