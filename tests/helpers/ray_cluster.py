"""Test helpers for runs that leave this process: babelmill as a subprocess driver, and a
real multi-node Ray cluster (``ray start --head`` plus ``ray start --address``) on this
one machine, kept on the loopback interface.

Loopback only.  ``ray start`` turns 127.0.0.1 into the machine's outward address
(``services.resolve_ip_for_localhost``) unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``;
with that variable set the head stays on 127.0.0.1, but ``ray start --address`` refuses
to add a worker node ("multi-node not supported") -- a check made only in the CLI
(``ray.scripts.scripts.start``).  So every node is started with the variable set,
through a tiny wrapper that hands the CLI a view of ``ray_constants`` in which clusters
are allowed.  Everything else in Ray (address resolution, the node IP that raylets,
agents and workers inherit) still sees the variable and stays on 127.0.0.1.

Bookkeeping.  Every process started here gets its own session (``start_new_session``);
Ray's daemons and workers inherit it (workers get their own process *group*, not their
own session), so "everything this test started" is "every process of these sessions",
and teardown kills exactly those, by pid -- never ``ray stop``, which would also kill
Ray instances that other programs on the machine run.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"

#: Environment for every Ray process of the cluster and for drivers that join it.
CLUSTER_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # node IP = 127.0.0.1, never the eth0 address
    "RAY_AUTH_MODE": "disabled",  # `ray start` turns token auth on when ~/.ray/auth_token exists
    "RAY_USAGE_STATS_ENABLED": "0",
}

#: `ray start`, allowed to add a worker node while RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0.
_RAY_START = """
import os, sys, types
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
from ray._private import ray_constants
from ray.scripts import scripts
view = types.ModuleType("ray_constants_view")
view.__dict__.update(vars(ray_constants))
view.ENABLE_RAY_CLUSTER = True  # only the CLI's "multi-node not supported" check reads this view
scripts.ray_constants = view
sys.argv[0] = "ray"
sys.exit(scripts.main())
"""


# --------------------------------------------------------------------------- processes


def _stat(pid: int) -> tuple[str, str, int] | None:
    """(name, state, session id) of a process, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return name, fields[0], int(fields[3])


def session_processes(sids: int | set[int]) -> dict[int, str]:
    """Live (not zombie) processes in the given sessions: pid -> name."""
    wanted = {sids} if isinstance(sids, int) else set(sids)
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _stat(int(entry))
        if st and st[2] in wanted and st[1] not in ("Z", "X"):
            found[int(entry)] = st[0]
    return found


def live_processes_named(name: str) -> set[int]:
    """pids of live processes called ``name`` (``pgrep -x``, without zombies)."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st and st[0] == name and st[1] not in ("Z", "X"):
                out.add(int(entry))
    return out


def kill_sessions(sids: int | set[int], grace: float = 0.0, timeout: float = 30.0) -> dict[int, str]:
    """Stop every process of these sessions; returns those still alive after ``timeout``.

    With ``grace`` > 0 they get SIGTERM first and SIGKILL only after ``grace`` seconds.
    """
    wanted = {sids} if isinstance(sids, int) else set(sids)

    def send(sig: int) -> None:
        for pid in session_processes(wanted):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    if grace > 0:
        send(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while session_processes(wanted) and time.monotonic() < deadline:
            time.sleep(0.1)
    deadline = time.monotonic() + timeout
    while True:
        # Repeat: a dying raylet may still spawn a worker.
        send(signal.SIGKILL)
        left = session_processes(wanted)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


# --------------------------------------------------------------------------- sockets


def _decode_addr(hexaddr: str) -> tuple[str, int]:
    host, port = hexaddr.split(":")
    raw = bytes.fromhex(host)
    # /proc/net/tcp{,6} prints each 32-bit word in host (little-endian) order.
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw)), int(port, 16)
    ip6 = ipaddress.IPv6Address(raw)
    return str(ip6.ipv4_mapped or ip6), int(port, 16)


def tcp_sockets_of(pids: set[int]) -> list[dict]:
    """TCP sockets held by these processes: pid, state ('LISTEN' or the kernel's hex code),
    local and remote IP and port."""
    inodes: dict[str, int] = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes[target[8:-1]] = pid
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[9] in inodes:
                (local, lport), (remote, rport) = _decode_addr(cols[1]), _decode_addr(cols[2])
                state = "LISTEN" if cols[3] == "0A" else cols[3]
                found.append(
                    {
                        "pid": inodes[cols[9]],
                        "state": state,
                        "local": local,
                        "local_port": lport,
                        "remote": remote,
                        "remote_port": rport,
                    }
                )
    return found


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on loopback (from the kernel's ephemeral range, so
    outside Ray's default worker port range 10002-19999)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# --------------------------------------------------------------------------- the cluster


class LoopbackRayCluster:
    """A multi-node Ray cluster on this machine, every node on 127.0.0.1."""

    def __init__(self, object_store_memory: int = 150_000_000) -> None:
        # Short: Ray puts Unix sockets under it (107-byte path limit).
        self.temp_dir = Path(tempfile.mkdtemp(prefix="bmray-", dir="/tmp"))
        self.object_store_memory = object_store_memory
        self.env = {**os.environ, **CLUSTER_ENV}
        self.sessions: set[int] = set()
        self.address: str | None = None
        self.commands: list[list[str]] = []
        self._state = None

    # -- starting

    def _ray_start(self, args: list[str], log_name: str, timeout: float = 120.0) -> None:
        cmd = [sys.executable, "-c", _RAY_START, "start", *args]
        log_path = self.temp_dir / f"{log_name}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.sessions.add(proc.pid)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                rc = None
        self.commands.append(["ray", "start", *args])
        if rc != 0:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"`ray start {' '.join(args)}` failed (rc={rc}):\n{tail}")

    def _node_args(self, num_cpus: int) -> list[str]:
        dash_http, dash_grpc, env_agent, metrics, node_manager, object_manager = free_ports(6)
        return [
            f"--node-ip-address={LOOPBACK}",
            f"--num-cpus={num_cpus}",
            "--num-gpus=0",
            f"--object-store-memory={self.object_store_memory}",
            "--disable-usage-stats",
            f"--temp-dir={self.temp_dir}",
            # Fixed ports, all distinct: two nodes (and any other Ray on the machine)
            # would otherwise collide on defaults such as the agent's 52365.
            f"--dashboard-agent-listen-port={dash_http}",
            f"--dashboard-agent-grpc-port={dash_grpc}",
            f"--runtime-env-agent-port={env_agent}",
            f"--metrics-export-port={metrics}",
            f"--node-manager-port={node_manager}",
            f"--object-manager-port={object_manager}",
        ]

    def start_head(self, num_cpus: int = 1) -> str:
        for attempt in range(2):  # a picked port can be taken before Ray binds it: retry once
            (port,) = free_ports(1)
            try:
                self._ray_start(
                    ["--head", f"--port={port}", "--include-dashboard=false", *self._node_args(num_cpus)],
                    f"head-{attempt}",
                )
                break
            except RuntimeError:
                self.stop(remove_temp=False)
                if attempt:
                    raise
        self.address = f"{LOOPBACK}:{port}"
        return self.address

    def add_worker(self, num_cpus: int = 1) -> None:
        assert self.address, "start_head() first"
        n = len(self.commands)
        self._ray_start([f"--address={self.address}", *self._node_args(num_cpus)], f"worker-{n}")

    # -- looking at it (reads the GCS directly; needs no ray.init in this process)

    def _global_state(self):
        if self._state is None:
            from ray._private.state import GlobalState
            from ray._raylet import GcsClientOptions

            state = GlobalState()
            state._initialize_global_state(
                GcsClientOptions.create(self.address, None, allow_cluster_id_nil=True, fetch_cluster_id_if_nil=False)
            )
            self._state = state
        return self._state

    def alive_nodes(self) -> dict[str, dict]:
        """node id (hex) -> node record, for live nodes."""
        return {n["NodeID"]: n for n in self._global_state().node_table() if n["Alive"]}

    def wait_for_nodes(self, n: int, timeout: float = 60.0) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            nodes = self.alive_nodes()
            cpus = sum(node.get("Resources", {}).get("CPU", 0) for node in nodes.values())
            if len(nodes) >= n and cpus >= n:
                return nodes
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(nodes)} of {n} Ray nodes alive after {timeout} s: {nodes}")
            time.sleep(0.2)

    def task_nodes(self, name: str, expected: int, timeout: float = 30.0) -> dict[str, str]:
        """task id -> node id (hex) of the finished tasks called ``name``, from the GCS's task
        events; waits until ``expected`` tasks have reported (workers flush events every second)."""
        deadline = time.monotonic() + timeout
        while True:
            found: dict[str, str] = {}
            for ev in self._global_state()._get_all_task_events():
                if ev.task_info.name == name and ev.state_updates.node_id:
                    found[ev.task_id.hex()] = ev.state_updates.node_id.hex()
            if len(found) >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.25)

    def processes(self) -> dict[int, str]:
        return session_processes(self.sessions)

    # -- stopping

    def stop(self, remove_temp: bool = True) -> dict[int, str]:
        """Stop every process this cluster started (and only those); returns any survivor."""
        if self._state is not None:
            try:
                self._state.disconnect()
            except Exception:  # noqa: BLE001 - best effort during teardown
                pass
            self._state = None
        left = kill_sessions(self.sessions, grace=2.0) if self.sessions else {}
        if remove_temp and not left:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
        return left


# --------------------------------------------------------------------------- the CLI


BABELMILL = (
    str(Path(sys.executable).with_name("babelmill"))
    if Path(sys.executable).with_name("babelmill").exists()
    else (shutil.which("babelmill") or "babelmill")
)


def copy_args(inputs: Path, out: Path, *extra: str) -> list[str]:
    """CLI arguments of a quiet ``babelmill copy`` run (the resume and fault tests' job)."""
    return ["copy", "--input", str(inputs), "--output", str(out), "--no-progress", *extra]


def babelmill_cmd(*args: str) -> list[str]:
    return [BABELMILL, *args]


def start_cli(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start ``babelmill`` in its own session (so a test can kill it and its embedded Ray
    together), stdout and stderr into ``log``."""
    with open(log, "wb") as fh:
        return subprocess.Popen(
            babelmill_cmd(*args),
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def run_cli(args: list[str], env: dict[str, str], timeout: float = 180.0) -> subprocess.CompletedProcess:
    """Run ``babelmill`` in its own session to completion; fails the test if anything it
    started (an embedded Ray) is still running afterwards."""
    proc = subprocess.Popen(
        babelmill_cmd(*args),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_sessions(proc.pid)
        stdout, stderr = proc.communicate()
        raise AssertionError(
            f"babelmill {' '.join(args)} ran over {timeout} s\nstdout:\n{stdout.decode(errors='replace')}\nstderr:\n{stderr.decode(errors='replace')}"
        )
    left = _wait_session_gone(proc.pid, 20.0)
    if left:
        kill_sessions(proc.pid)
        raise AssertionError(f"babelmill exited but left processes running: {left}")
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace")
    )


def _wait_session_gone(sid: int, timeout: float) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        left = session_processes(sid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)
