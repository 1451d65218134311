"""restorer batch: the same pixels as the single-file commands, a manifest, and resuming."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer_app.engine.batch import DONE, FAILED, SKIPPED, BatchTask, ResultsLog, is_done, plan_tasks, run_batch
from restorer_app.engine.chain import INPAINT, Chain, ChainSettings
from restorer_app.engine.errors import OperationCancelled, RestorerError
from restorer_app.engine.progress import Progress

from factories import make_mask, make_photo


def restorer(*args):
    env = dict(os.environ, RESTORER_MODEL_PATH="")
    return subprocess.run([sys.executable, "-m", "restorer_app.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture
def scans(tmp_path):
    folder = tmp_path / "in"
    masks = tmp_path / "masks"
    folder.mkdir()
    masks.mkdir()
    for number in range(3):
        photo = make_photo(120, 160, seed=number)
        photo[30:33, 10:150] = 250  # a bright scratch for the detector
        Image.fromarray(photo).save(folder / f"scan{number}.png")
        Image.fromarray(make_mask(120, 160)).save(masks / f"scan{number}_mask.png")
    (folder / "notes.txt").write_text("not a photo")
    return tmp_path


def pixels(path):
    return np.asarray(Image.open(path))


@pytest.mark.parametrize("op", ["repair", "restore", "inpaint"])
def test_a_batch_gives_the_single_file_commands_pixels_and_records(scans, op):
    extra = ["--mask-dir", scans / "masks"] if op == "inpaint" else []
    done = restorer("batch", scans / "in", "--out-dir", scans / "out", "--op", op, *extra)
    assert done.returncode == 0, done.stderr
    assert "3 done, 0 already done, 0 failed" in done.stdout
    for number in range(3):
        name = f"scan{number}.png"
        single = (["--mask", scans / "masks" / f"scan{number}_mask.png"] if op == "inpaint" else [])
        alone = restorer(op, scans / "in" / name, *single, "-o", scans / f"alone-{name}")
        assert alone.returncode == 0, alone.stderr
        assert np.array_equal(pixels(scans / "out" / name), pixels(scans / f"alone-{name}"))
        ours = json.loads((scans / "out" / f"{name}.restorer.json").read_text())["operations"]
        theirs = json.loads((scans / f"alone-{name}.restorer.json").read_text())["operations"]
        assert [o["method"] for o in ours] == [o["method"] for o in theirs]
    lines = [json.loads(line) for line in (scans / "out" / "restorer-results.jsonl").read_text().splitlines()]
    assert [line["status"] for line in lines] == [DONE] * 3
    first = lines[0]
    assert first["op"] == op and first["input_sha256"] and first["output_sha256"] and first["seconds"] > 0
    assert first["models"] and first["method"]


def test_restore_then_repair_equals_restore_and_then_repair(scans):
    done = restorer("batch", scans / "in" / "scan1.png", "--out-dir", scans / "out", "--op", "restore+repair")
    assert done.returncode == 0, done.stderr
    assert restorer("restore", scans / "in" / "scan1.png", "-o", scans / "restored.png").returncode == 0
    assert restorer("repair", scans / "restored.png", "-o", scans / "repaired.png").returncode == 0
    assert np.array_equal(pixels(scans / "out" / "scan1.png"), pixels(scans / "repaired.png"))
    operations = json.loads((scans / "out" / "scan1.png.restorer.json").read_text())["operations"]
    assert [o["action"] for o in operations][0] == "restore"  # both steps in one record


def test_a_rerun_skips_what_is_done_and_retries_what_failed(scans):
    broken = scans / "in" / "scan2.png"
    good = broken.read_bytes()
    broken.write_bytes(good[:200])  # cut off: it fails
    settings = ChainSettings(op="repair")
    chain = Chain(settings)
    tasks = plan_tasks([scans / "in"], scans / "out")
    assert [t.image.name for t in tasks] == ["scan0.png", "scan1.png", "scan2.png"]  # notes.txt left out
    log = ResultsLog(scans / "out" / "results.jsonl")
    first = run_batch(chain, tasks, log)
    assert [o.status for o in first] == [DONE, DONE, FAILED] and "scan2.png" in first[2].error
    assert not (scans / "out" / "scan2.png").exists()
    broken.write_bytes(good)
    with open(log.path, "a") as handle:
        handle.write('{"input": "cut off by a cra')  # a crash mid-line is tolerated
    again = run_batch(chain, tasks, log)
    assert [o.status for o in again] == [SKIPPED, SKIPPED, DONE]
    assert [o["status"] for o in log.read()] == [DONE, DONE, FAILED, SKIPPED, SKIPPED, DONE]
    # An output changed since (or not made by this batch) is not taken for done work.
    Image.fromarray(np.zeros((120, 160, 3), np.uint8)).save(scans / "out" / "scan0.png")
    third = run_batch(chain, tasks[:1], log)
    assert third[0].status == DONE  # its own sidecar names this input: an earlier attempt, redone


def test_a_file_the_batch_did_not_make_is_never_replaced_unless_asked(scans):
    (scans / "out").mkdir()
    theirs = scans / "out" / "scan0.png"
    theirs.write_bytes(b"someone else's file")
    chain = Chain(ChainSettings(op="repair"))
    tasks = plan_tasks([scans / "in" / "scan0.png"], scans / "out")
    log = ResultsLog(scans / "out" / "results.jsonl")
    (outcome,) = run_batch(chain, tasks, log)
    assert outcome.status == FAILED and "already exists" in outcome.error
    assert theirs.read_bytes() == b"someone else's file"
    (outcome,) = run_batch(chain, tasks, log, overwrite=True)
    assert outcome.status == DONE


def test_inpaint_needs_each_photos_mask_and_cancel_stops_between_photos(scans):
    with pytest.raises(RestorerError, match="mask folder"):
        plan_tasks([scans / "in"], scans / "out", needs_mask=True)
    (scans / "masks" / "scan1_mask.png").unlink()
    tasks = plan_tasks([scans / "in"], scans / "out", mask_dir=scans / "masks", needs_mask=True)
    assert tasks[1].mask is None and "no mask named 'scan1.*'" in tasks[1].problem
    chain = Chain(ChainSettings(op=INPAINT))
    log = ResultsLog(scans / "out" / "results.jsonl")
    outcomes = run_batch(chain, tasks, log)
    assert [o.status for o in outcomes] == [DONE, FAILED, DONE]
    progress = Progress()
    progress.cancel()
    with pytest.raises(OperationCancelled):
        run_batch(chain, [BatchTask(scans / "in" / "scan0.png", scans / "out2" / "scan0.png",
                                    scans / "masks" / "scan0_mask.png")], log, progress=progress)
    assert not (scans / "out2").exists()


def test_a_local_dask_cluster_gives_the_same_pixels_and_resumes(scans):
    pytest.importorskip("distributed")
    alone = restorer("batch", scans / "in", "--out-dir", scans / "alone", "--op", "restore+repair")
    assert alone.returncode == 0, alone.stderr
    done = restorer("batch", scans / "in", "--out-dir", scans / "out", "--op", "restore+repair", "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "3 done, 0 already done, 0 failed" in done.stdout
    for number in range(3):
        name = f"scan{number}.png"
        assert np.array_equal(pixels(scans / "out" / name), pixels(scans / "alone" / name))
    lines = ResultsLog(scans / "out" / "restorer-results.jsonl").read()
    assert sorted(line["input"] for line in lines) == sorted(str(scans / "in" / f"scan{n}.png") for n in range(3))
    assert all(line["worker"].startswith("tcp://127.0.0.1:") for line in lines)  # this machine only
    again = restorer("batch", scans / "in", "--out-dir", scans / "out", "--op", "restore+repair", "--workers", "2")
    assert again.returncode == 0 and "0 done, 3 already done, 0 failed" in again.stdout


def scratched_photos(folder, count, height, width):
    """``count`` photos big<N>.png with a bright scratch for the detector, in a new ``folder``."""
    folder.mkdir()
    for number in range(count):
        photo = make_photo(height, width, seed=number)
        photo[100:104, 20:width - 20] = 250
        Image.fromarray(photo).save(folder / f"big{number}.png")
    return folder


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path):
    pytest.importorskip("distributed")
    psutil = pytest.importorskip("psutil")
    folder = scratched_photos(tmp_path / "in", 6, 600, 900)
    env = dict(os.environ, RESTORER_MODEL_PATH="")
    run = subprocess.Popen([sys.executable, "-m", "restorer_app.cli", "batch", str(folder), "--out-dir",
                            str(tmp_path / "out"), "--op", "restore+repair", "--workers", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    results = tmp_path / "out" / "restorer-results.jsonl"
    killed = None
    deadline = time.time() + 120
    while time.time() < deadline and run.poll() is None:
        # Once the first photo is done, kill a worker process in the middle of its next one.
        if killed is None and results.exists() and results.read_text().count("\n") >= 1:
            workers = [p for p in psutil.Process(run.pid).children(recursive=True)
                       if "multiprocessing" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())]
            if workers:
                killed = workers[0].pid
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.1)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert killed is not None  # the check below is about a run that lost a worker
    assert "6 done, 0 already done, 0 failed" in out
    for task in plan_tasks([folder], tmp_path / "out"):
        assert is_done(task)


def _dask(*args, env):
    """`dask scheduler` / `dask worker` as a user starts them by hand."""
    command = [str(Path(sys.executable).with_name("dask")), *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)


def test_a_scheduler_and_two_workers_started_by_hand_run_the_batch_and_resume_after_a_kill(tmp_path):
    distributed = pytest.importorskip("distributed")
    folder = scratched_photos(tmp_path / "in", 5, 400, 600)
    env = dict(os.environ, RESTORER_MODEL_PATH="")
    address_file = tmp_path / "scheduler.json"
    started = [_dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                     address_file, env=env)]
    try:
        deadline = time.time() + 60
        while not address_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(address_file.read_text())["address"]
        for _ in range(2):
            started.append(_dask("worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                                 env=env))
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        # Killed (SIGKILL) once its first photo is done, then run again: it goes on from there.
        command = [sys.executable, "-m", "restorer_app.cli", "batch", str(folder), "--out-dir", str(tmp_path / "out"),
                   "--op", "repair", "--scheduler", address]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        results = tmp_path / "out" / "restorer-results.jsonl"
        deadline = time.time() + 120
        while first.poll() is None and time.time() < deadline:
            if results.exists() and results.read_text().count("\n") >= 1:
                first.kill()
                break
            time.sleep(0.05)
        first.communicate(timeout=60)
        again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        assert again.returncode == 0, again.stderr
        lines = ResultsLog(results).read()
        workers = {line["worker"] for line in lines if line["status"] == DONE}
        assert all(w.startswith("tcp://127.0.0.1:") for w in workers)
        assert sum(line["status"] == SKIPPED for line in lines) >= 1  # the rerun kept what was done
        for task in plan_tasks([folder], tmp_path / "out"):
            assert is_done(task)
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            process.wait(timeout=60)
    alone = restorer("repair", folder / "big3.png", "-o", tmp_path / "alone.png")
    assert alone.returncode == 0
    assert np.array_equal(pixels(tmp_path / "out" / "big3.png"), pixels(tmp_path / "alone.png"))


def test_without_dask_the_batch_runs_here_and_says_how_to_get_the_cluster(scans, tmp_path):
    # A distributed package that cannot be imported, ahead of the installed one on the path.
    blocked = tmp_path / "blocked" / "distributed"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('the cluster extra is not installed')\n")
    env = dict(os.environ, RESTORER_MODEL_PATH="", PYTHONPATH=os.pathsep.join(
        [str(blocked.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))

    def batch(*args):
        return subprocess.run([sys.executable, "-m", "restorer_app.cli", "batch", *map(str, args)],
                              capture_output=True, text=True, env=env, timeout=300)

    done = batch(scans / "in", "--out-dir", scans / "out", "--op", "repair", "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert "pip install 'restorer-app[cluster]'" in done.stderr and "in this process" in done.stderr
    assert "3 done, 0 already done, 0 failed" in done.stdout
    lines = ResultsLog(scans / "out" / "restorer-results.jsonl").read()
    assert len(lines) == 3 and all(not line["worker"].startswith("tcp://") for line in lines)
    alone = restorer("repair", scans / "in" / "scan1.png", "-o", scans / "alone.png")
    assert alone.returncode == 0
    assert np.array_equal(pixels(scans / "out" / "scan1.png"), pixels(scans / "alone.png"))
    # An existing cluster cannot be reached without it: refused before any work.
    refused = batch(scans / "in", "--out-dir", scans / "out2", "--scheduler", "tcp://127.0.0.1:8786")
    assert refused.returncode == 2 and "restorer-app[cluster]" in refused.stderr
    assert not (scans / "out2").exists()


def test_a_list_of_photos_is_an_archive_manifest(scans):
    listing = scans / "lists" / "box17.txt"
    listing.parent.mkdir()
    listing.write_text("# box 17, scanned 2026\n../in/scan0.png\n\n" + str(scans / "in" / "scan2.png")
                       + "\n../in/lost.png\n", encoding="utf-8")
    done = restorer("batch", listing, "--out-dir", scans / "out", "--op", "repair")
    assert done.returncode == 1  # one listed photo is not there: it fails, the others are done
    assert "2 done, 0 already done, 1 failed" in done.stdout
    assert "lost.png" in done.stderr
    lines = {Path(line["input"]).name: line for line in ResultsLog(scans / "out" / "restorer-results.jsonl").read()}
    assert lines["scan0.png"]["status"] == lines["scan2.png"]["status"] == DONE
    assert lines["lost.png"]["status"] == FAILED and lines["lost.png"]["error"]
    assert sorted(p.name for p in (scans / "out").glob("scan*.png")) == ["scan0.png", "scan2.png"]
    again = restorer("batch", listing, "--out-dir", scans / "out", "--op", "repair")
    assert "0 done, 2 already done, 1 failed" in again.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_worker_reuses_freed_memory_despite_dasks_trim_setting():
    from restorer_app.cluster import reuse_freed_memory

    assert reuse_freed_memory() is True  # glibc took both settings
