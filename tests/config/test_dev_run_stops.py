"""`dev.py` ended with SIGTERM stops what its commands started, as Ctrl-C does.

runserver's autoreloader runs the server in a child process (``subprocess.run``, as
``django.utils.autoreload.restart_with_reloader`` does) and stops it when interrupted; killing the
autoreloader instead would leave the server running, holding the port and the database.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SERVER = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(600)"
RELOADER = f"""
import signal, subprocess, sys
# Like Django's autoreloader (run_with_reloader, restart_with_reloader): SIGTERM exits, and the server
# it runs in a child is killed on the way out (subprocess.run kills its child on any exception, as this
# does). It says when it waits for the server: a SIGTERM before Popen has returned (a loaded machine
# can run the server's first lines first) would leave the server behind here and in Django alike.
signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
with subprocess.Popen([sys.executable, "-c", {SERVER!r}, sys.argv[1]]) as server:
    try:
        open(sys.argv[1] + ".waiting", "w").close()
        server.wait()
    except BaseException:
        server.kill()
        raise
"""

DRIVER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("dev_script", sys.argv[1])
dev = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dev)
import signal
# As when dev.py is started in the background (`python3 dev.py run &`): SIGINT ignored, by it and by
# the commands it runs.
signal.signal(signal.SIGINT, signal.SIG_IGN)
dev.stop_on_sigterm()
dev.run(sys.executable, sys.argv[2], sys.argv[3])
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def wait_for(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_to_dev_py_stops_the_server_the_autoreloader_runs(tmp_path):
    reloader = tmp_path / "reloader.py"
    reloader.write_text(textwrap.dedent(RELOADER))
    pidfile = tmp_path / "server.pid"
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(ROOT / "dev.py"), str(reloader), str(pidfile)],
        stdout=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: pidfile.exists() and pidfile.read_text()), "the fake server did not start"
        assert wait_for((tmp_path / "server.pid.waiting").exists), "the fake autoreloader is not waiting"
        server = int(pidfile.read_text())
        assert alive(server)

        driver.send_signal(signal.SIGTERM)
        assert driver.wait(timeout=30) == 128 + signal.SIGTERM

        assert wait_for(lambda: not alive(server)), "the server outlived dev.py"
    finally:
        driver.kill()
        if pidfile.exists() and pidfile.read_text():
            pid = int(pidfile.read_text())
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_failing_command_still_fails_dev_py(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    try:
        dev.run(sys.executable, "-c", "raise SystemExit(3)")
    except subprocess.CalledProcessError as error:
        assert error.returncode == 3
    else:
        raise AssertionError("a failing command passed")
