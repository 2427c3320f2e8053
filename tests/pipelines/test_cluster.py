"""babelmill on a real two-node Ray cluster: `ray start --head` plus `ray start --address`,
one CPU each, all on 127.0.0.1, and `babelmill copy --ray-address` as a separate driver.

Where did the shards run?  The CLI cannot hand back ``RunResult.nodes``, so the test reads
the node id from the shard markers when they carry one, and otherwise from the task
events the GCS keeps for every task (``GlobalState._get_all_task_events``, read straight
from the GCS: the dashboard and ``ray.util.state`` are not available in this install).
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ray_cluster import CLUSTER_ENV, LOOPBACK, LoopbackRayCluster, run_cli, tcp_sockets_of

SHARDS = 6

pytestmark = [pytest.mark.timeout(300), pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster():
    c = LoopbackRayCluster()
    try:
        c.start_head(num_cpus=1)
        c.add_worker(num_cpus=1)
        c.wait_for_nodes(2)
        yield c
    finally:
        left = c.stop()
        assert not left, f"Ray processes survived teardown: {left}"


def assert_loopback_only(cluster: LoopbackRayCluster) -> None:
    """Every TCP socket of every cluster process is on loopback, listening or connected."""
    procs = cluster.processes()
    sockets = tcp_sockets_of(set(procs))
    gcs_port = int(cluster.address.rsplit(":", 1)[1])
    listening = {s["local_port"]: s for s in sockets if s["state"] == "LISTEN"}
    assert gcs_port in listening, f"the GCS port {gcs_port} is not among the listening sockets {listening} of {procs}"
    outside = [
        {**s, "process": procs.get(s["pid"])}
        for s in sockets
        if not ipaddress.ip_address(s["local"]).is_loopback
        or (s["state"] != "LISTEN" and not ipaddress.ip_address(s["remote"]).is_loopback)
    ]
    assert not outside, f"Ray sockets off loopback: {outside}"


def test_nodes_are_on_loopback(cluster):
    nodes = cluster.alive_nodes()
    assert len(nodes) == 2
    assert {n["NodeManagerAddress"] for n in nodes.values()} == {LOOPBACK}
    assert sum(n["Resources"]["CPU"] for n in nodes.values()) == 2
    assert_loopback_only(cluster)


def test_copy_spreads_shards_over_both_nodes(cluster, tmp_path):
    from babelmill.sample import write_sample

    inputs = tmp_path / "input"
    files = write_sample(inputs, docs_per_lang=150, files=SHARDS, seed=11, malformed=True)
    records = sum(Path(f).read_bytes().count(b"\n") for f in files)
    out = tmp_path / "out"

    r = run_cli(
        ["copy", "--input", str(inputs), "--output", str(out), "--ray-address", cluster.address, "--no-progress"],
        env={**os.environ, **CLUSTER_ENV},
    )
    assert r.returncode == 0, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}"

    ledger = json.loads((out / "ledger.json").read_text())
    assert ledger["input"] == records
    assert ledger["input"] == ledger["kept"] + ledger["rejected"] + ledger["quarantined"]
    assert ledger["quarantined"] > 0 and ledger["rejected"] > 0  # the sample's broken and empty records
    kept_rows = sum(pq.read_table(p).num_rows for p in (out / "data").glob("*.parquet"))
    assert kept_rows == ledger["kept"]

    markers = [json.loads(p.read_text()) for p in sorted((out / "_babelmill" / "done").glob("*.json"))]
    assert len(markers) == SHARDS
    assert sum(m["ledger"]["input"] for m in markers) == ledger["input"]

    if all(m.get("node") for m in markers):
        shard_nodes = {m["shard"]: m["node"] for m in markers}
    else:  # markers without the node: ask the GCS where each shard task ran
        shard_nodes = cluster.task_nodes("_shard_task", expected=SHARDS)
    assert len(shard_nodes) >= SHARDS, f"only {len(shard_nodes)} shard tasks reported: {shard_nodes}"
    alive = set(cluster.alive_nodes())
    assert set(shard_nodes.values()) == alive, (
        f"shards ran on {sorted(set(shard_nodes.values()))}, cluster nodes are {sorted(alive)}"
    )

    assert_loopback_only(cluster)
