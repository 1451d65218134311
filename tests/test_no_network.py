"""Nothing leaves the machine: long-lived ONNX Runtime sessions, the GUI and a CLI fill open no
internet socket and leave no telemetry store (restorer_app/offline.py).

The three runs below start together (a module fixture) because each must live at least 40 s:
onnxruntime's telemetry client only starts reporting after a few seconds. Each runs with its own
empty HOME and without ORT_DISABLE_TELEMETRY in its environment, so nothing but Restorer's own
code can switch the client off. Where strace is installed (``make test`` installs it as root),
every socket the processes and their threads create is recorded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from restorer_app.engine.registry import bundled_models_folder
from restorer_app.offline import TELEMETRY_STORE, TELEMETRY_VARIABLE

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "resources" / "samples"
ALIVE_S = 42
STRACE = shutil.which("strace")
INTERNET_SOCKET = re.compile(r"\b(socket|connect|sendto|sendmsg)\(.*\bAF_INET6?\b")


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TELEMETRY_VARIABLE}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
               XDG_DATA_HOME=str(home / ".local" / "share"), RESTORER_DATA_DIR=str(home / "restorer-data"),
               QT_QPA_PLATFORM="offscreen", RESTORER_MODEL_PATH="")
    return env


@dataclass
class Run:
    name: str
    home: Path
    process: subprocess.Popen
    trace: Path | None
    started: float = 0.0
    seconds: float = 0.0
    output: str = ""
    returncode: int | None = None

    def internet_sockets(self) -> list[str]:
        assert self.trace is not None and self.trace.is_file(), f"strace wrote nothing for {self.name}"
        return [line for line in self.trace.read_text(errors="replace").splitlines() if INTERNET_SOCKET.search(line)]

    def telemetry_store(self) -> Path:
        return self.home / TELEMETRY_STORE


def _start(name: str, tmp: Path, command: list[str]) -> Run:
    home = tmp / name
    home.mkdir()
    trace = home.parent / f"{name}.strace" if STRACE else None
    if trace is not None:
        command = [STRACE, "-f", "-qq", "-e", "trace=execve,socket,connect,sendto,sendmsg", "-o", str(trace), *command]
    process = subprocess.Popen(command, env=_environment(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, cwd=home)
    return Run(name, home, process, trace, started=time.monotonic())


_SESSION_SCRIPT = textwrap.dedent(f"""
    import sys, time
    from pathlib import Path
    from restorer_app.engine.runtime import Device, SessionFactory
    loaded = SessionFactory().load(Path(sys.argv[1]), Device.AUTO)
    print("session on", loaded.provider, flush=True)
    time.sleep({ALIVE_S})
    print("done", flush=True)
""")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    tmp = tmp_path_factory.mktemp("offline")
    photo, mask = SAMPLES / "damaged_portrait.jpg", SAMPLES / "damaged_portrait_mask.png"
    script = tmp / "gui-script.txt"
    script.write_text(f"open {photo} {mask}\nmethod auto\nfill\naccept\nwait {ALIVE_S}\nquit\n", encoding="utf-8")
    model = bundled_models_folder() / "restorer-inpaint.onnx"
    started = [
        _start("session", tmp, [sys.executable, "-c", _SESSION_SCRIPT, str(model)]),
        _start("gui", tmp, [sys.executable, "-m", "restorer_app.gui.app", "--test-script", str(script)]),
        _start("cli", tmp, [sys.executable, "-m", "restorer_app.cli", "inpaint", str(photo), "--mask", str(mask),
                            "-o", str(tmp / "cli-out.png"), "--method", "restorer-inpaint"]),
    ]
    for run in started:
        try:
            run.output, _ = run.process.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            run.process.kill()
            run.output, _ = run.process.communicate()
        run.returncode = run.process.returncode
        run.seconds = time.monotonic() - run.started
    return {run.name: run for run in started}


def test_a_long_onnx_runtime_session_leaves_no_telemetry_store(runs):
    run = runs["session"]
    assert run.returncode == 0, run.output
    assert "done" in run.output and run.seconds >= ALIVE_S
    assert not run.telemetry_store().exists(), f"onnxruntime wrote {sorted(run.telemetry_store().iterdir())}"


def test_the_gui_filled_and_wrote_no_telemetry_store(runs):
    run = runs["gui"]
    assert run.returncode == 0 and "QUIT" in run.output, run.output  # it filled, accepted, waited, quit
    assert run.seconds >= ALIVE_S
    assert not run.telemetry_store().exists()


def test_a_cli_fill_with_the_model_writes_no_telemetry_store(runs):
    run = runs["cli"]
    assert run.returncode == 0, run.output
    assert "ONNX Runtime" in run.output
    assert not run.telemetry_store().exists()


@pytest.mark.skipif(STRACE is None, reason="strace is not installed (make test installs it where it runs as root)")
@pytest.mark.parametrize("name", ["session", "gui", "cli"])
def test_no_internet_socket_is_ever_opened(runs, name):
    run = runs[name]
    assert "execve(" in run.trace.read_text(errors="replace")  # strace did follow the process
    assert run.internet_sockets() == []


def test_the_socket_check_recognises_what_onnxruntime_telemetry_does():
    # Lines strace printed for a 45 s session without ORT_DISABLE_TELEMETRY (its DNS look-ups).
    seen = ["4830  socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP <unfinished ...>",
            '4830  connect(7, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}, 16) = 0',
            "4829  socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 7"]
    harmless = ["4829  socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 5",
                "4829  socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 6"]
    assert all(INTERNET_SOCKET.search(line) for line in seen)
    assert not any(INTERNET_SOCKET.search(line) for line in harmless)


def test_onnxruntime_imported_first_refuses_to_run_models(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    code = textwrap.dedent("""
        import sys
        from pathlib import Path
        import onnxruntime  # before restorer_app: its telemetry client is already running
        from restorer_app.engine.errors import PrivacyError
        from restorer_app.engine.runtime import Device, SessionFactory
        try:
            SessionFactory().load(Path(sys.argv[1]), Device.CPU)
        except PrivacyError as exc:
            print("refused:", exc)
    """)
    done = subprocess.run([sys.executable, "-c", code, str(bundled_models_folder() / "restorer-inpaint.onnx")],
                          env=_environment(home), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "telemetry" in done.stdout


def test_every_entry_point_switches_telemetry_off_on_import(tmp_path):
    code = "import os, restorer_app, models; print(os.environ.get('ORT_DISABLE_TELEMETRY'))"
    done = subprocess.run([sys.executable, "-c", code], env=_environment(tmp_path), capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
