"""A real S3 endpoint on loopback (moto's server) for the object-storage tests.

The port is reserved when the suite starts, so the shared Ray session's workers can be
given the endpoint and the (fake) credentials in their environment before the server
itself is started by the ``s3`` fixture; s3fs finds both through botocore's standard
variables (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID`` ...), as it would on a cluster.
"""

from __future__ import annotations

import functools
import logging
import socket
import time


@functools.cache
def s3_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_env() -> dict[str, str]:
    """What a process needs to talk to the loopback server as if it were S3."""
    return {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{s3_port()}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class S3Server:
    """moto's threaded server bound to 127.0.0.1 on the reserved port."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on stderr
        self.port = s3_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> "S3Server":
        self._server.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("moto server did not start")

    def stop(self) -> None:
        self._server.stop()

    def filesystem(self):
        """A fresh s3fs client (no listing cache) for the test's own checks."""
        import s3fs

        return s3fs.S3FileSystem(use_listings_cache=False, skip_instance_cache=True)
