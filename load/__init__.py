"""Load tests of the HTTP service with locust, and a CI gate on their results.

- ``locustfile.py``: the simulated clients (user classes), thin;
- ``mix.py``: what they send, drawn from the catalog the service serves;
- ``checks.py``: what every response must satisfy (exact Decimal sums), else the request fails;
- ``profile.py`` and ``thresholds.toml``: the load shapes and their pass/fail limits;
- ``verdict.py``: stats in, verdict and one-line reason out (a pure function);
- ``final_report.py``: the run's final stats written once locust has stopped (its own CSV can lag);
- ``report.py``: those CSV reports read into stats;
- ``run.py``: ``python -m load.run``: start the service, run locust, judge, stop the service;
- ``faulty.py``: the real service with injected delays or faults, to prove the gate can fail.
"""
