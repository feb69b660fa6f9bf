"""The sandbox: faithful emulators of the four tools, served on 127.0.0.1.

Like stripe-mock or LocalStack, it is part of the product: ops engineers build and test
pipelines offline against it, and steptrace's own tests and benchmarks inject faults into
it. Each tool's emulator lives beside its client (``connectors/<tool>/emulator.py``);
this package holds what they share: the server runner (:mod:`.server`), the seed data
(:mod:`.seed`), the fault engine (:mod:`.faults`) and the shared request layer
(:mod:`.app`).
"""
