"""Driver for trial 1.3, reproducibility. The student's code runs in the agent; this process drives it.

Generators, loaders and worker processes live in the student's process, so every part runs there as
the trial's own routine (`agent_seed`, `agent_fresh`, `agent_loader`, `agent_cuda_seed`) and what they
saw comes back as data. The fresh processes are the agent's children, so they carry its guard against
the driver too.

What the seeds must give is recomputed here, in the driver, which knows every seed it sent
(`expected_draws`, `expected_orders`): the numbers torch, numpy and random draw right after being seeded
with `seed`, and epoch 1's order of a DataLoader shuffled from `seed` (through its generator, or through
the global generator that seed_everything(seed) fixed inside make_loader). So seed-everything and
same-order are *verified*; the relations between the fresh processes' later epochs, the workers' draws
and the CUDA seeds stay *observed* (docs/architecture.md).

Before every call into the student's code the probe fills torch's, numpy's and Python's global random
generators with fresh entropy (`scramble`), so code that never seeds can't look reproducible by luck
(a sandbox forked from a warm process inherits every generator's state, and two forks would agree).

1. `seed_everything`: seed, draw numbers from the three generators; again with the same seed; once
   with another seed.
2. `make_loader` in two **fresh processes** side by side, forked from the agent (`fresh_processes`):
   torch is already imported there, and a fork keeps the agent's guard against the driver and the
   sandbox's seccomp filter. Each child, before anything else, fills the three global generators from
   os.urandom (`scramble`: torch's default generator, numpy's legacy global state and `random` differ
   per child, and so does the base seed a DataLoader without a generator draws for its workers), moves
   to its own process group, imports solution.py anew as a module of its own (the agent's `solution`
   and whatever its import did to its own globals do not reach it; a fresh interpreter would import
   the file again too), builds the loader over `AugmentedDataset` (each item draws one number from each
   generator inside the worker, as a random augmentation would), writes every sample of two epochs —
   index, worker, the three draws — as JSON, and leaves with os._exit. The agent collects each child's
   output and shows it, kills what is left of a child's process group (its DataLoader workers, which
   fork again from the child) once it exits or runs past CHILD_TIMEOUT, and reads the results.
   A third run, in this process, uses another loader seed.
   What 1.3 checks holds for such a child as for a new interpreter: the only state a fork carries that
   a new interpreter would not is the agent's — generators (refilled from urandom first, so a solution
   that never seeds, or seeds only at import or only in the agent, still shuffles and augments
   differently in the two children and fails same-order or same-augmentation), modules the agent
   imported (torch, numpy: the same code a new interpreter would import; what the student's code
   changed in them in the agent stays changed, as the file's import runs again anyway) and the agent's
   `solution` module (replaced in the child by a new one). Epoch 1's order is still verified against
   the order the driver computes from the loader's seed. Threads: torch's pthread_atfork handlers
   make a fork after its intra-op threads started safe for torch itself, but GNU OpenMP's pool does
   not survive a fork (a matrix product on 2 threads in a child of a process that ran one on 2
   threads hangs), so the child runs torch on one thread, as DataLoader workers do; one is the
   sandbox's default anyway.
3. CUDA: with a GPU simulated (`exercises.kit.devices`), solution.py is imported again and
   `seed_everything` runs while `torch.cuda.manual_seed_all` / `manual_seed` are wrapped to record the
   seeds they receive (`torch.manual_seed` itself calls `torch.cuda.manual_seed_all`).

check.py reads the constants below as literals, so keep them plain literals.
"""

import contextlib
import importlib.util
import json
import os
import random
import selectors
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

SEED = 1234  # seed_everything(SEED) twice …
OTHER_SEED = 98765  # … and once with this one
DRAWS = 4  # numbers drawn from each generator after seeding
LOADER_SEED = 2024  # make_loader(dataset, BATCH_SIZE, LOADER_SEED) in both fresh processes
OTHER_LOADER_SEED = 7  # … and once in this process
DATASET_SIZE = 20
BATCH_SIZE = 3  # 7 batches, the last one short: workers 0 and 1 take turns
EPOCHS = 2
LIBRARIES = ["torch", "numpy", "random"]
CHILD_TIMEOUT = 30  # seconds for the fresh processes, side by side (the wall limit is 60)
MAX_CHILD_OUTPUT = 4 * 1024 * 1024  # bytes kept of one fresh process's output (more than may be printed)


class AugmentedDataset(Dataset):
    """Item i is `{"index": i, "worker": id, "torch": x, "numpy": y, "random": z}`.

    x, y and z come from the global generators of the process that loads the item (a DataLoader
    worker), just like a random flip or crop would.
    """

    def __len__(self):
        return DATASET_SIZE

    def __getitem__(self, index):
        info = torch.utils.data.get_worker_info()
        return {
            "index": index,
            "worker": -1 if info is None else info.id,
            "torch": torch.rand(()).item(),
            "numpy": float(np.random.rand()),
            "random": random.random(),  # noqa: S311 - the augmentation under test, not a secret
        }


def scramble():
    """Fresh entropy into every global generator: unseeded code must not look reproducible."""
    entropy = int.from_bytes(os.urandom(8), "little")
    torch.default_generator.manual_seed(entropy)
    np.random.seed(entropy % 2**32)
    random.seed(os.urandom(16))


def draw():
    return {
        "torch": torch.rand(DRAWS, dtype=torch.float64).tolist(),
        "numpy": np.random.rand(DRAWS).tolist(),
        "random": [random.random() for _ in range(DRAWS)],  # noqa: S311
    }


def samples_of(batch):
    """The samples of one default-collated batch, as plain dicts."""
    if not isinstance(batch, dict) or not all(
        isinstance(batch.get(name), torch.Tensor) for name in ("index", "worker", *LIBRARIES)
    ):
        raise TypeError(
            f"a batch is a {type(batch).__name__}, not the dict of tensors that the default collate "
            "function makes from AugmentedDataset; don't pass a collate_fn"
        )
    columns = {name: batch[name].tolist() for name in ("index", "worker", *LIBRARIES)}
    return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def run_loader(make_loader, seed):
    """Build the student's loader after scrambling the generators, and record EPOCHS epochs of it."""
    scramble()
    loader = make_loader(AugmentedDataset(), BATCH_SIZE, seed)
    epochs = []
    for _ in range(EPOCHS):
        samples = []
        for batch in loader:
            samples += samples_of(batch)
        epochs.append(samples)
    return {
        "type": f"{type(loader).__module__}.{type(loader).__qualname__}",
        "num_workers": getattr(loader, "num_workers", None),
        "epochs": epochs,
    }


# ---------------------------------------------------------------------------------------------------
# The fresh processes


class Child:
    """One fresh process as the agent sees it: its pid, the read end of its output, its result file."""

    def __init__(self, pid, output, result_path):
        self.pid = pid
        self.output = output
        self.result_path = result_path
        self.text = bytearray()
        self.dropped = 0  # output bytes past MAX_CHILD_OUTPUT, read and not kept
        self.status = None  # exit code (-N for signal N) once reaped
        self.timed_out = False


def child_main(output, solution_path, work, seed, result_path):
    """The forked child's whole life: it never returns into the agent, it leaves with os._exit."""
    status = 70
    try:
        scramble()  # first of all: the agent's generator states must not reach this process
        torch.set_num_threads(1)  # the agent's OpenMP pool is not in this process (module doc)
        os.setsid()  # its own process group, so the agent can kill it with its DataLoader workers
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        stdin = os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        os.close(stdin)
        quiet_events()
        os.chdir(work)
        sys.dont_write_bytecode = True
        status = run_child(solution_path, seed, result_path)
    except BaseException as error:  # nothing may return into the agent's serve loop
        with contextlib.suppress(BaseException):
            os.write(2, f"the fresh process could not run: {error!r}\n".encode())
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


def quiet_events():
    """The agent's fd 3, its metric pipe to the driver, is /dev/null in a child, and the kit's channel on
    it is off: a fresh process had no such pipe, and nothing of the children's reaches the driver's relay
    between the agent's lines."""
    from exercises.kit import report

    report._channel.usable = False
    null = os.open(os.devnull, os.O_WRONLY)
    if null != report.EVENTS_FD:
        os.dup2(null, report.EVENTS_FD)
        os.close(null)


def run_child(solution_path, seed, result_path):
    """Import solution.py anew, as a module of this process alone, and run the loader; write the result."""
    from exercises.kit.probe import trim_traceback

    try:
        spec = importlib.util.spec_from_file_location("solution", solution_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["solution"] = module
        spec.loader.exec_module(module)
        result = run_loader(module.make_loader, seed)
    except (Exception, SystemExit) as error:
        result = {"error": trim_traceback(error, solution_path) or f"{type(error).__name__}: {error}"}
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


def fresh_processes(solution_path, work, count):
    """Run the loader in `count` fresh processes at once; their results (or errors), in order."""
    scratch = Path(tempfile.mkdtemp(prefix="huashen-fresh-"))
    sys.stdout.flush()
    sys.stderr.flush()
    children = []
    for number in range(count):
        result_path = scratch / f"run-{number}.json"
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # at the pids limit, say: end the ones already started, then fail the call
            os.close(read_end)
            os.close(write_end)
            watch(children, deadline=time.monotonic())
            raise
        if pid == 0:
            os.close(read_end)
            for sibling in children:
                os.close(sibling.output)
            child_main(write_end, solution_path, work, LOADER_SEED, result_path)
        os.close(write_end)
        children.append(Child(pid, read_end, result_path))
    watch(children)
    results = []
    for number, child in enumerate(children):
        text = child.text.decode("utf-8", "replace")
        if child.dropped:
            text += f"\n[… {child.dropped} more bytes of output]"
        if text.strip():
            print(f"--- fresh process {number + 1} ---\n{text.rstrip()}", file=sys.stderr, flush=True)
        try:
            result = json.loads(child.result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            why = (
                f"did not finish within {CHILD_TIMEOUT} s"
                if child.timed_out
                else f"exited with {child.status}"
            )
            result = {"error": f"the fresh process {why}:\n{text[-3000:]}"}
        results.append(result)
    shutil.rmtree(scratch, ignore_errors=True)
    return results


def watch(children, deadline=None):
    """Collect the children's output until each has exited or run past CHILD_TIMEOUT; then kill what
    is left of its process group (DataLoader workers) and reap it."""
    if deadline is None:
        deadline = time.monotonic() + CHILD_TIMEOUT
    selector = selectors.DefaultSelector()
    for child in children:
        os.set_blocking(child.output, False)
        selector.register(child.output, selectors.EVENT_READ, child)
    running = list(children)
    while running:
        for key, _events in selector.select(timeout=0.01):
            if read_output(key.data) == b"":
                selector.unregister(key.fd)
        for child in list(running):
            if os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                if time.monotonic() < deadline:
                    continue
                child.timed_out = True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)  # the exited child, a zombie, still holds the group
            _pid, status = os.waitpid(child.pid, 0)
            child.status = os.waitstatus_to_exitcode(status)
            running.remove(child)
    for child in children:
        for _ in range(MAX_CHILD_OUTPUT // 65536 + 1):  # what is left in the pipe, without waiting for a
            if not read_output(child):  # writer that escaped the group: it can't hold the agent here
                break
        with contextlib.suppress(KeyError):
            selector.unregister(child.output)
        os.close(child.output)
    selector.close()


def read_output(child):
    """Read what the child's pipe holds now: the bytes read, b"" at its end, None when none are there yet."""
    try:
        chunk = os.read(child.output, 65536)
    except BlockingIOError:
        return None
    room = MAX_CHILD_OUTPUT - len(child.text)
    child.text += chunk[:room]
    child.dropped += max(0, len(chunk) - room)
    return chunk


# ---------------------------------------------------------------------------------------------------
# The probe


def wrapped_seeders(calls):
    """Wrap torch.cuda's seeding functions (both names they go by) to record every seed they get."""
    import torch.cuda.random

    saved = []
    for owner in (torch.cuda, torch.cuda.random):
        for name in ("manual_seed", "manual_seed_all"):
            original = getattr(owner, name)

            def recording(seed, _name=name, _original=original):
                calls.append({"function": f"torch.cuda.{_name}", "seed": int(seed)})
                return _original(seed)

            saved.append((owner, name, original))
            setattr(owner, name, recording)
    return saved


# ---------------------------------------------------------------------------------------------------
# In the agent (the student's process)


def agent_seed(solution, seed):
    scramble()
    solution.seed_everything(seed)
    return draw()


def agent_fresh(solution, count):
    path = Path(solution.__file__)
    return fresh_processes(str(path), str(path.parent), count)


def agent_loader(solution, seed):
    make_loader = getattr(solution, "make_loader", None)
    if not callable(make_loader):
        from exercises.kit.messages import both

        raise NameError(both("no_function", name="make_loader"))
    return run_loader(make_loader, seed)


def agent_cuda_seed(solution, seed):
    calls = []
    scramble()
    saved = wrapped_seeders(calls)
    try:
        solution.seed_everything(seed)
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)
    return {"calls": calls[:50]}


# ---------------------------------------------------------------------------------------------------
# In the driver


def expected_draws(seed):
    """What draw() gives right after torch, numpy and random are seeded with `seed`, drawn here."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    return draw()


def expected_orders(seed):
    """Epoch 1's order of a shuffled DataLoader over DATASET_SIZE items whose randomness comes from
    `seed`: through its own generator, or (no generator) through torch's global generator seeded with
    `seed`. A DataLoader draws its workers' base seed from that generator before it shuffles."""
    orders = []
    generator = torch.Generator().manual_seed(seed)
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    orders.append(torch.randperm(DATASET_SIZE, generator=generator).tolist())
    generator = torch.Generator().manual_seed(seed)
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    sampler_seed = int(torch.empty((), dtype=torch.int64).random_(generator=generator).item())
    orders.append(
        torch.randperm(DATASET_SIZE, generator=torch.Generator().manual_seed(sampler_seed)).tolist()
    )
    return orders


def driver(ctx):
    from exercises.kit.probe import FAILED

    ctx.load_solution()

    for label, seed in (("first", SEED), ("again", SEED), ("other", OTHER_SEED)):
        result = ctx.run(f"seed.{label}", "agent_seed", seed)
        if result is not FAILED:
            ctx.observe(f"seed.{label}", result)
        ctx.observe(f"expected.seed.{label}", expected_draws(seed))
    for seed in (LOADER_SEED, OTHER_LOADER_SEED):
        ctx.observe(f"expected.order.{seed}", expected_orders(seed))

    results = ctx.run("fresh", "agent_fresh", 2)
    if isinstance(results, list):
        for number, result in enumerate(results[:2]):
            ctx.observe(f"fresh.{number}", result)
    elif results is not FAILED:
        ctx.observe("fresh", {"error": "the fresh processes gave no results"})

    result = ctx.run("other-loader-seed", "agent_loader", OTHER_LOADER_SEED)
    if result is not FAILED:
        ctx.observe("other-loader-seed", result)

    with ctx.patch_cuda_available(True):
        if ctx.reload_solution("cuda.import") is not FAILED:
            result = ctx.run("cuda.seed", "agent_cuda_seed", SEED)
            if result is not FAILED:
                ctx.observe("cuda.seed", result)
