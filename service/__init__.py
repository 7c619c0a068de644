"""The imperative shell around ``pricing``: decode, call the engine, encode.

- ``service.api``: the HTTP API (``create_app``, request bodies, problems, OpenAPI, settings, server).
- ``service.cli``: the ``inference-cost`` command, one module per subcommand.
- ``service.responses``: response bodies and their JSON, shared by both.
"""
