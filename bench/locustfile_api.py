"""Locust users for ``bench/bench_api.py``: institutions calling the data interface.

Each user holds the bench key (``CG_BENCH_KEY``) and draws from the sample queries in
``CG_BENCH_SAMPLES`` (JSON: firms' names and codes, entity ids). The mix per user, with a
think time of ``CG_BENCH_WAIT`` seconds (min,max) between calls: GET entity (10), single
match (6; half by name, half by code), PDF report (1). The 1,000-name batches are timed by
bench_api.py itself. Any answer other than 200 is a failure: the bench key's limits are set
high, so a 429 here would be unintended.
"""

from __future__ import annotations

import json
import os
import random

from locust import FastHttpUser, between, task

SAMPLES = json.loads(open(os.environ["CG_BENCH_SAMPLES"], encoding="utf-8").read())
KEY = os.environ["CG_BENCH_KEY"]
_lo, _hi = (float(x) for x in os.environ.get("CG_BENCH_WAIT", "0.5,1.5").split(","))


class Institution(FastHttpUser):
    wait_time = between(_lo, _hi)

    def on_start(self):
        self.h = {"Authorization": f"Bearer {KEY}"}
        self.rng = random.Random()

    @task(10)
    def entity(self):
        eid = self.rng.choice(SAMPLES["entity_ids"])
        self.client.get(f"/v1/entities/{eid}", headers=self.h, name="GET /v1/entities/{id}")

    @task(3)
    def match_name(self):
        f = self.rng.choice(SAMPLES["firms"])
        self.client.post("/v1/match", json={"queries": {"q": {"type": "legal", "name": f["name"]}}}, headers=self.h,
                         name="POST /v1/match (1, name)")

    @task(3)
    def match_code(self):
        f = self.rng.choice(SAMPLES["firms"])
        self.client.post("/v1/match", json={"queries": {"q": {"type": "legal", "uscc": f["uscc"], "name": f["name"]}}},
                         headers=self.h, name="POST /v1/match (1, code)")

    @task(1)
    def pdf(self):
        eid = self.rng.choice(SAMPLES["firm_ids"])
        self.client.get(f"/v1/entities/{eid}/report.pdf", headers=self.h, name="GET report.pdf")
