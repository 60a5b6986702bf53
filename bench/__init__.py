"""Linli's benchmarks: `python -m bench` (full) or `python -m bench --quick` (under two minutes).

One module per measurement, each with `async def run(plan: Plan) -> list[Row]`:

    throughput  updates/s of the whole app against a bare PTB echo bot (in process, and over
                loopback HTTP with the real polling loop), p50/p99 per update kind
    broadcast   a broadcast through the simulator with Telegram's flood limits on
    storage     /points, /rank and a sign-up at 10,000 and at 1,000,000 ledger entries
    memory      peak RSS of a `linli run` process on the large database under the update mix
    startup     `linli run` to its first getUpdates, with the large database

Figures that must hold on a noisy machine are ratios measured side by side in one run, and
medians of several runs. `datagen` writes the seeded large database.
"""
