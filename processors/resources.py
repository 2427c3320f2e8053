"""What a worker running a stage needs from the Ray scheduler.

Its own module, free of polars and Ray, so that the translation engine (which imports
neither) can declare its resources with the same type as every stage.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Resources:
    """What one worker running the stage needs from the Ray scheduler."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0
    #: bytes of memory one worker needs (Ray's ``memory`` resource; 0: no reservation).
    memory: float = 0.0

    def ray_options(self) -> dict[str, float]:
        """The options a Ray task or actor running these stages is started with."""
        opts = {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus}
        if self.memory:
            opts["memory"] = self.memory
        return opts

    @staticmethod
    def widest(resources: "list[Resources]") -> "Resources":
        """What a worker running all of these in one chain needs: the most of each."""
        return Resources(
            max([r.num_cpus for r in resources] + [1.0]),
            max([r.num_gpus for r in resources] + [0.0]),
            max([r.memory for r in resources] + [0.0]),
        )
