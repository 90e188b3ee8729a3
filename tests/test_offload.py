"""bcrypt never holds the eventlet hub: under eventlet (the web process) hashing runs in a
native thread while the other green threads go on; unpatched (tests, worker, CLI) it runs
inline. Both paths hash and verify the same way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bcrypt
from flask import Flask

from whaticket.security import hash_password, verify_password
from whaticket.utils.offload import eventlet_patched, run_off_hub

ROOT = Path(__file__).resolve().parent.parent

#: Under eventlet's monkey-patching, as `python wsgi.py` runs: a green thread counts while
#: the main one hashes and verifies at the default cost (10). With bcrypt on the hub no
#: other green thread can run until the call returns: the count stays where it was.
_GREEN_PROBE = """
import eventlet
eventlet.monkey_patch()

import json
import os
import bcrypt
from flask import Flask
from whaticket.security import hash_password, verify_password
from whaticket.utils.offload import eventlet_patched

ticks = 0

def spin():
    global ticks
    while True:
        ticks += 1
        eventlet.sleep(0)

eventlet.spawn(spin)
eventlet.sleep(0)  # the counter starts

digest = bcrypt.hashpw(b"s3cret-pass", bcrypt.gensalt(10)).decode()
before = ticks
ok = verify_password("s3cret-pass", digest)
during_verify = ticks - before

app = Flask("probe")
app.config["BCRYPT_ROUNDS"] = 10
with app.app_context():
    before = ticks
    made = hash_password("other-pass")
    during_hash = ticks - before

print(json.dumps({
    "patched": eventlet_patched(),
    "ok": ok,
    "wrong": verify_password("not-it", digest),
    "made_verifies": bcrypt.checkpw(b"other-pass", made.encode()),
    "made_cost": made.split("$")[2],
    "during_verify": during_verify,
    "during_hash": during_hash,
}))
"""


def test_unpatched_bcrypt_runs_inline_and_verifies() -> None:
    assert not eventlet_patched()  # the test process runs threading mode
    app = Flask("inline")
    app.config["BCRYPT_ROUNDS"] = 4
    with app.app_context():
        digest = hash_password("s3cret-pass")
    assert digest.startswith("$2b$04$")
    assert verify_password("s3cret-pass", digest)
    assert not verify_password("not-it", digest)
    # PHP-era prefix and malformed hashes behave as before.
    assert verify_password("s3cret-pass", "$2y$" + digest[4:])
    assert not verify_password("s3cret-pass", "not-a-hash")
    assert not verify_password("s3cret-pass", None)


def test_run_off_hub_is_a_plain_call_without_eventlet() -> None:
    assert run_off_hub(bcrypt.checkpw, b"pw", bcrypt.hashpw(b"pw", bcrypt.gensalt(4)))


def test_under_eventlet_bcrypt_leaves_the_hub_to_other_green_threads() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _GREEN_PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["patched"] is True
    assert result["ok"] is True and result["wrong"] is False
    assert result["made_verifies"] is True and result["made_cost"] == "10"
    # Other green threads ran while the hash was being computed.
    assert result["during_verify"] > 0, result
    assert result["during_hash"] > 0, result


#: Five logins at once under eventlet with CPU_OFFLOAD_THREADS=2: never more than two hash
#: at a time (the others wait green), each in a native thread niced to CPU_OFFLOAD_NICE.
_GATE_PROBE = """
import eventlet
eventlet.monkey_patch()

import json
import os
import os
import time
from eventlet import patcher
from whaticket.utils.offload import run_off_hub

real_threading = patcher.original("threading")
real_time = patcher.original("time")
lock = real_threading.Lock()
state = {"running": 0, "most": 0, "nice": set(), "threads": set()}

def work():
    with lock:
        state["running"] += 1
        state["most"] = max(state["most"], state["running"])
    tid = real_threading.get_native_id()
    state["threads"].add(tid)
    state["nice"].add(os.getpriority(os.PRIO_PROCESS, tid))
    real_time.sleep(0.2)  # a native sleep: holds its slot as a hash would
    with lock:
        state["running"] -= 1
    return tid

pool = eventlet.GreenPool()
for _ in range(5):
    pool.spawn(run_off_hub, work)
pool.waitall()
print(json.dumps({"most": state["most"], "nice": sorted(state["nice"]),
                  "main_nice": os.getpriority(os.PRIO_PROCESS, 0),
                  "native": real_threading.get_native_id() not in state["threads"]}))
"""


def test_under_eventlet_offloaded_calls_are_few_at_once_and_niced() -> None:
    env = {**os.environ, "CPU_OFFLOAD_THREADS": "2", "CPU_OFFLOAD_NICE": "7"}
    done = subprocess.run(
        [sys.executable, "-c", _GATE_PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["most"] == 2, result
    assert result["native"] is True, result
    # The hashing threads run niced; the hub's thread keeps its priority.
    assert result["nice"] == [result["main_nice"] + 7], result
