"""How fast the machine runs Python, moment by moment, for the load benchmark.

The 2-core development machine (a KVM guest) runs at full speed and at about half speed
by turns, in spells of a few hundred milliseconds to seconds, busy or idle: a fixed piece
of work takes 1.0x, then 1.7-2.0x, its CPU time (on the host, another guest on the same
physical cores, we suppose). A level of the benchmark that needs about one core at full
speed needs about two in such a spell, and its webhooks queue. So the benchmark runs this
probe in a process of its own (about 1% of a core) and reports the share of each window
spent in slow spells, and the latency of the webhooks sent outside them.

    python -m bench.speed_probe OUT   # until SIGTERM: "perf_counter cpu_ms" per line, every 0.1 s
"""
from __future__ import annotations

import bisect
import hashlib
import hmac
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.stats import percentile

INTERVAL_SECONDS = 0.1
ROUNDS = 500  # about 1 ms of CPU at full speed
SLOW = 1.5  # a sample taking this many times the run's quickest is in a slow spell
STALE_SECONDS = 3 * INTERVAL_SECONDS  # a request further than this from the sample before it is not judged
ROOT = Path(__file__).resolve().parent.parent


def work() -> int:
    """A fixed piece of the web app's kind of work: hashing and small dicts and strings."""
    total = 0
    for i in range(ROUNDS):
        total += len(hmac.new(b"k" * 32, str(i).encode(), hashlib.sha1).digest())
        total += len({"n": i, "text": str(i)}["text"])
    return total


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(argv[0], "w", buffering=1) as out:
        while True:
            began = time.thread_time()
            work()
            out.write(f"{time.perf_counter():.4f} {(time.thread_time() - began) * 1000:.4f}\n")
            time.sleep(INTERVAL_SECONDS)


class SpeedProbe:
    """The probe's process, and what its samples say about a window of the benchmark."""

    def __init__(self, path: Path):
        self.path = path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> SpeedProbe:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.speed_probe", str(self.path)], cwd=ROOT)
        return self

    def __exit__(self, *_) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def samples(self) -> list[tuple[float, float]]:
        """(perf_counter, CPU ms) of every complete line written so far; none if the probe never started."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            text = ""
        if not text and self.process is not None and self.process.poll() is not None:
            print(f"bench: the speed probe exited ({self.process.returncode}); no machine speed", file=sys.stderr)
        out = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2:
                out.append((float(parts[0]), float(parts[1])))
        return out

    def report(self, start: float, until: float, requests: list[tuple[float, str, float]]) -> dict:
        """The window's share of slow samples, and the p99 of the ``requests`` (perf_counter when
        sent, path, seconds taken) sent when the latest sample before them was at full speed, and
        when it was slow. "Full speed" is the quickest sample of the run so far (the probe starts
        before the warm-up, so every level is judged against at least its samples)."""
        samples = self.samples()
        if not samples:
            return {}
        quickest = min(ms for _, ms in samples)
        moments = [at for at, _ in samples]
        slow_at = [ms >= SLOW * quickest for _, ms in samples]
        window = [slow for (at, _), slow in zip(samples, slow_at) if start <= at < until]
        fast, slow = [], []
        for sent, _, taken in requests:
            index = bisect.bisect_right(moments, sent) - 1
            if index < 0 or sent - moments[index] > STALE_SECONDS:
                continue  # no sample of the probe just before it
            (slow if slow_at[index] else fast).append(taken * 1000)
        return {"quickest_ms": quickest, "samples": len(window),
                "slow_share": sum(window) / len(window) if window else None,
                "requests_at_full_speed": len(fast), "p99_ms_at_full_speed": percentile(fast, 99),
                "requests_in_slow_spells": len(slow), "p99_ms_in_slow_spells": percentile(slow, 99)}


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
