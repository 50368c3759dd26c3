"""Check for trial 1.3, reproducibility. Runs outside the sandbox and scores the driver's observations.

Reproducibility is a relation between runs, so the check compares the probe's runs with each other:
the same seed must give the same numbers (after the probe scrambled every generator), another seed
different ones; two fresh processes must see the same batches and the same worker-side draws; workers
and epochs must not repeat each other's draws. The driver's constants are read as literals.

seed-everything and same-order are *verified*: the driver, which knows every seed it sent, draws what
torch, numpy and random give right after seeding and computes epoch 1's order of a DataLoader shuffled
from the loader's seed (`expected.*` observations, written by the driver), and the student's answers
must equal them. same-augmentation, fresh-randomness and cuda-seeded are *observed*: relations between
draws the trial's routines report from the student's process (docs/architecture.md).
"""

from pathlib import Path

from exercises.kit.check import Check, literal_from, number, show

HERE = Path(__file__).resolve().parent
SEED = literal_from(HERE / "probe.py", "SEED")
OTHER_SEED = literal_from(HERE / "probe.py", "OTHER_SEED")
DRAWS = literal_from(HERE / "probe.py", "DRAWS")
LOADER_SEED = literal_from(HERE / "probe.py", "LOADER_SEED")
OTHER_LOADER_SEED = literal_from(HERE / "probe.py", "OTHER_LOADER_SEED")
DATASET_SIZE = literal_from(HERE / "probe.py", "DATASET_SIZE")
BATCH_SIZE = literal_from(HERE / "probe.py", "BATCH_SIZE")
EPOCHS = literal_from(HERE / "probe.py", "EPOCHS")
LIBRARIES = literal_from(HERE / "probe.py", "LIBRARIES")

CHECKS = [
    Check(
        "seed-everything",
        zh="seed_everything 固定 torch、numpy、random 三个随机数生成器",
        en="seed_everything fixes the torch, numpy and random generators",
        points=25,
        basis="verified",
        basis_note="the draws after seed_everything(seed) equal what torch, numpy and random give for that seed, drawn by the driver",
    ),
    Check(
        "same-order",
        zh="两个全新进程里，2 个 worker 的 DataLoader 给出相同的批次顺序",
        en="A DataLoader with 2 workers yields the same order in two fresh processes",
        points=25,
        basis="verified",
        basis_note="epoch 1's order in each fresh process and with the other seed equals the order the driver computes for a DataLoader shuffled from that seed; that both epochs agree across processes is observed",
    ),
    Check(
        "same-augmentation",
        zh="两个全新进程里，worker 中的随机增强完全相同",
        en="The workers' random augmentations are the same in two fresh processes",
        points=20,
        visible=False,
        basis="observed",
        basis_note="the workers' draws in the two fresh processes are compared with each other, as the student's process reports them",
    ),
    Check(
        "fresh-randomness",
        zh="不同 worker、不同 epoch 抽到不同的随机数",
        en="Each worker and each epoch draws its own random numbers",
        points=15,
        visible=False,
        basis="observed",
        basis_note="the workers' and epochs' draws, as the student's process reports them",
    ),
    Check(
        "cuda-seeded",
        zh="有 GPU 时，CUDA 的随机数生成器也用同一个种子",
        en="With a GPU, the CUDA generators get the same seed",
        points=15,
        visible=False,
        basis="observed",
        basis_note="the seeds torch.cuda's seeding functions receive, recorded in the student's process",
    ),
]

HOW_TO_SEED = {
    "torch": ("torch.manual_seed(seed)", "torch.manual_seed(seed)"),
    "numpy": (
        "np.random.seed(seed)（np.random.default_rng(seed) 返回的是一个独立的生成器，不会影响 np.random.rand）",
        "np.random.seed(seed) (np.random.default_rng(seed) returns a separate generator; it does not affect "
        "np.random.rand)",
    ),
    "random": ("random.seed(seed)", "random.seed(seed)"),
}
WORKER_SEEDING = (
    "在 worker_init_fn 里用 torch.initial_seed() % 2**32 给 numpy 和 random 播种："
    "这个值由 DataLoader 的 generator 决定，每个 worker、每个 epoch 都不同，而且可复现。",
    "seed numpy and random in worker_init_fn from torch.initial_seed() % 2**32: the DataLoader derives it "
    "from its generator, so it differs per worker and per epoch, and it is reproducible.",
)


def check(ctx):
    yield ctx.evaluate("seed-everything", check_seed_everything)
    yield ctx.evaluate("same-order", check_same_order)
    yield ctx.evaluate("same-augmentation", check_same_augmentation)
    yield ctx.evaluate("fresh-randomness", check_fresh_randomness)
    yield ctx.evaluate("cuda-seeded", check_cuda_seeded)


# ---------------------------------------------------------------------------------------------------
# Reading the observations


def call_error(ctx, key):
    """The traceback recorded for `key` (a failed call, or a fresh process that failed), else None."""
    if error := ctx.error_of(key):
        return error
    value = ctx.observed(key)
    if isinstance(value, dict) and isinstance(value.get("error"), str):
        return value["error"]
    return None


def draws_of(value):
    """{library: [floats]} from a seed observation, or None if it is malformed."""
    if not isinstance(value, dict):
        return None
    result = {}
    for library in LIBRARIES:
        numbers = value.get(library)
        if not isinstance(numbers, list) or len(numbers) != DRAWS:
            return None
        converted = [number(item) for item in numbers]
        if any(item is None for item in converted):
            return None
        result[library] = converted
    return result


def samples_ok(samples):
    fields = ("index", "worker", *LIBRARIES)
    return isinstance(samples, list) and all(
        isinstance(sample, dict) and all(number(sample.get(name)) is not None for name in fields)
        for sample in samples
    )


def loader_run(ctx, key, where_zh, where_en):
    """(run, None) with run = {"num_workers", "epochs": [[sample, ...], ...]}, or (None, (zh, en))."""
    if error := call_error(ctx, key):
        return None, (
            f"{where_zh}，make_loader 或遍历它时出错：\n{error}",
            f"{where_en}, make_loader or iterating it raised:\n{error}",
        )
    value = ctx.observed(key)
    if not isinstance(value, dict):
        return None, (
            f"没有{where_zh}的观测结果（代码可能提前退出或超时）。",
            f"No observation {where_en} (the code may have exited early or timed out).",
        )
    epochs = value.get("epochs")
    if not isinstance(epochs, list) or len(epochs) != EPOCHS or not all(samples_ok(e) for e in epochs):
        return None, (
            f"{where_zh}，读不出 DataLoader 给出的批次。",
            f"{where_en}, the DataLoader's batches could not be read.",
        )
    return value, None


def order(samples):
    return [int(sample["index"]) for sample in samples]


def structure_problem(run, where_zh, where_en):
    """What is wrong with one run's loader itself (workers, shuffling), as (zh, en), or None."""
    workers = run.get("num_workers")
    seen = {int(sample["worker"]) for samples in run["epochs"] for sample in samples}
    if workers != 2 or seen != {0, 1}:
        return (
            f"{where_zh}，DataLoader 的 num_workers 是 {show(workers)}，样本由 worker {sorted(seen)} 加载"
            "（-1 表示主进程）。本试炼要求 num_workers=2：正是多个 worker 让随机性变得难以复现。",
            f"{where_en}, the DataLoader has num_workers={show(workers)} and its items were loaded by "
            f"workers {sorted(seen)} (-1 is the main process). The trial asks for num_workers=2: parallel "
            "workers are exactly what makes randomness hard to reproduce.",
        )
    for number_, samples in enumerate(run["epochs"], start=1):
        if sorted(order(samples)) != list(range(DATASET_SIZE)):
            return (
                f"{where_zh}，第 {number_} 个 epoch 没有把 {DATASET_SIZE} 个样本各取一次。"
                "用 shuffle=True，不要自定义 sampler，也不要 drop_last。",
                f"{where_en}, epoch {number_} did not visit each of the {DATASET_SIZE} items exactly once. "
                "Use shuffle=True, no custom sampler, no drop_last.",
            )
    first = order(run["epochs"][0])
    if first == list(range(DATASET_SIZE)):
        return (
            f"{where_zh}，批次按 0, 1, 2, … 的原始顺序出现：没有打乱。训练用的 DataLoader 要 shuffle=True。",
            f"{where_en}, the items came in their original order 0, 1, 2, …: nothing was shuffled. A "
            "training DataLoader needs shuffle=True.",
        )
    if all(order(samples) == first for samples in run["epochs"][1:]):
        return (
            f"{where_zh}，每个 epoch 的顺序都一样。shuffle=True 会在每个 epoch 重新打乱（由同一个 generator 继续抽取），"
            "不要在每个 epoch 前重新播种。",
            f"{where_en}, every epoch had the same order. shuffle=True reshuffles each epoch (the same "
            "generator keeps drawing); don't re-seed before each epoch.",
        )
    return None


def verdict(ctx, key, problems, zh_ok, en_ok):
    if not problems:
        return ctx.passed(key, zh=zh_ok, en=en_ok)
    zh, en = problems[0]
    if len(problems) > 1:
        zh += f"\n（共发现 {len(problems)} 处问题，这里先列出第一处。）"
        en += f"\n({len(problems)} problems found; this is the first.)"
    return ctx.failed(key, zh=zh, en=en)


def short(values, count=6):
    return "[" + ", ".join(str(value) for value in values[:count]) + (", …]" if len(values) > count else "]")


FRESH = [
    ("在第一个全新进程里", "in the first fresh process"),
    ("在第二个全新进程里", "in the second fresh process"),
]


def fresh_runs(ctx):
    """Both fresh-process runs, or (None, problems) explaining why they can't be compared."""
    runs, problems = [], []
    for number_, (where_zh, where_en) in enumerate(FRESH):
        run, problem = loader_run(ctx, f"fresh.{number_}", where_zh, where_en)
        if problem:
            problems.append(problem)
        runs.append(run)
    return runs, problems


# ---------------------------------------------------------------------------------------------------
# The checks


def check_seed_everything(ctx):
    problems = []
    draws = {}
    for label in ("first", "again", "other"):
        key = f"seed.{label}"
        seed = OTHER_SEED if label == "other" else SEED
        if error := ctx.error_of(key):
            problems.append(
                (f"seed_everything({seed}) 出错：\n{error}", f"seed_everything({seed}) raised:\n{error}")
            )
        elif (value := draws_of(ctx.observed(key))) is None:
            problems.append(
                (
                    f"没有 seed_everything({seed}) 之后的观测结果。",
                    f"No observation after seed_everything({seed}).",
                )
            )
        else:
            draws[label] = value
    if problems:
        return verdict(ctx, "seed-everything", problems, "", "")
    for library in LIBRARIES:
        zh_how, en_how = HOW_TO_SEED[library]
        if draws["first"][library] != draws["again"][library]:
            problems.append(
                (
                    f"两次调用 seed_everything({SEED}) 之后，{library} 抽到的数不一样："
                    f"{short(draws['first'][library], 3)} 和 {short(draws['again'][library], 3)}。"
                    f"（每次调用之前，检查都先把所有生成器打乱。）seed_everything 没有固定 {library}：调用 {zh_how}。",
                    f"After seed_everything({SEED}) twice, {library} drew different numbers: "
                    f"{short(draws['first'][library], 3)} and {short(draws['again'][library], 3)}. (Before each "
                    f"call the check scrambled every generator.) seed_everything does not fix {library}: call "
                    f"{en_how}.",
                )
            )
        elif draws["first"][library] == draws["other"][library]:
            problems.append(
                (
                    f"seed_everything({SEED}) 和 seed_everything({OTHER_SEED}) 之后，{library} 抽到的数完全相同："
                    "参数 seed 被忽略了（写死了种子？）。用传进来的 seed 播种。",
                    f"seed_everything({SEED}) and seed_everything({OTHER_SEED}) gave the same {library} numbers: "
                    "the seed argument is ignored (a hard-coded seed?). Seed with the seed you are given.",
                )
            )
    if not problems:
        for label, seed in (("first", SEED), ("other", OTHER_SEED)):
            if problem := draws_problem(ctx, label, seed, draws[label]):
                problems.append(problem)
                break
    return verdict(
        ctx,
        "seed-everything",
        problems,
        "同一个种子得到的 torch、numpy、random 随机数，和在你的进程之外用这个种子抽到的完全相同；换一个种子就不同。",
        "The same seed gave the same torch, numpy and random numbers as generators seeded with it outside your "
        "process; another seed gave different ones.",
    )


def expected_draws(ctx, label):
    return draws_of(ctx.observed(f"expected.seed.{label}"))


def draws_problem(ctx, label, seed, got):
    """(zh, en) when the draws after seed_everything(seed) are not what the seeded generators give."""
    want = expected_draws(ctx, label)
    if want is None:
        raise RuntimeError(f"the driver recorded no expected draws for {label}")
    for library in LIBRARIES:
        if got[library] != want[library]:
            zh_how, en_how = HOW_TO_SEED[library]
            return (
                f"seed_everything({seed}) 之后，{library} 抽到 {short(got[library], 3)}，而用 {seed} 播种的 {library} "
                f"生成器抽到的是 {short(want[library], 3)}（在你的进程之外计算）。用传进来的 seed 本身播种：{zh_how}。",
                f"After seed_everything({seed}), {library} drew {short(got[library], 3)}, but a {library} generator "
                f"seeded with {seed} draws {short(want[library], 3)} (computed outside your process). Seed with "
                f"the seed itself: {en_how}.",
            )
    return None


def order_problem(ctx, run, seed, where_zh, where_en):
    """(zh, en) when epoch 1's order is not the order a DataLoader shuffled from `seed` gives."""
    orders = ctx.observed(f"expected.order.{seed}")
    if not isinstance(orders, list) or not orders:
        raise RuntimeError(f"the driver recorded no expected orders for seed {seed}")
    got = order(run["epochs"][0])
    if got in orders:
        return None
    return (
        f"{where_zh}，第 1 个 epoch 的顺序是 {short(got)}，而以 seed={seed} 打乱的 DataLoader 给出的是 {short(orders[0])}"
        "（在你的进程之外计算）。打乱要由 seed 决定：传入 generator=torch.Generator().manual_seed(seed)，"
        "或在 make_loader 里先 seed_everything(seed)。",
        f"{where_en}, epoch 1 came in the order {short(got)}, but a DataLoader shuffled from seed={seed} gives "
        f"{short(orders[0])} (computed outside your process). Let the seed decide the shuffle: pass "
        "generator=torch.Generator().manual_seed(seed), or call seed_everything(seed) inside make_loader.",
    )


def check_same_order(ctx):
    runs, problems = fresh_runs(ctx)
    for run, (where_zh, where_en) in zip(runs, FRESH, strict=True):
        if run is not None and (problem := structure_problem(run, where_zh, where_en)):
            problems.append(problem)
    if problems:
        return verdict(ctx, "same-order", problems, "", "")
    first, second = runs
    for epoch in range(EPOCHS):
        a, b = order(first["epochs"][epoch]), order(second["epochs"][epoch])
        if a != b:
            problems.append(
                (
                    f"两个全新进程用同样的 make_loader(dataset, {BATCH_SIZE}, seed={LOADER_SEED})，第 {epoch + 1} 个 epoch "
                    f"的顺序却不同：{short(a)} 和 {short(b)}。打乱顺序来自 DataLoader 的 generator（没有传 generator 时，"
                    "来自 torch 的全局生成器，而它在 make_loader 被调用前可能处于任何状态）。"
                    "传入 generator=torch.Generator().manual_seed(seed)，或在 make_loader 里先 seed_everything(seed)。",
                    f"Two fresh processes ran the same make_loader(dataset, {BATCH_SIZE}, seed={LOADER_SEED}), yet epoch "
                    f"{epoch + 1} came in different orders: {short(a)} and {short(b)}. The shuffle comes from the "
                    "DataLoader's generator (without one, from torch's global generator, which may be in any state "
                    "when make_loader is called). Pass generator=torch.Generator().manual_seed(seed), or call "
                    "seed_everything(seed) inside make_loader.",
                )
            )
            break
    if problems:
        return verdict(ctx, "same-order", problems, "", "")
    other, problem = loader_run(
        ctx, "other-loader-seed", f"用 seed={OTHER_LOADER_SEED} 时", f"with seed={OTHER_LOADER_SEED}"
    )
    if problem:
        problems.append(problem)
    elif order(other["epochs"][0]) == order(first["epochs"][0]):
        problems.append(
            (
                f"make_loader(…, seed={OTHER_LOADER_SEED}) 和 seed={LOADER_SEED} 给出的顺序完全相同："
                "参数 seed 被忽略了（generator 的种子写死了？）。用传进来的 seed。",
                f"make_loader(…, seed={OTHER_LOADER_SEED}) gave exactly the same order as seed={LOADER_SEED}: the "
                "seed argument is ignored (a hard-coded generator seed?). Use the seed you are given.",
            )
        )
    else:
        for run, seed, where_zh, where_en in (
            (first, LOADER_SEED, *FRESH[0]),
            (second, LOADER_SEED, *FRESH[1]),
            (other, OTHER_LOADER_SEED, f"用 seed={OTHER_LOADER_SEED} 时", f"with seed={OTHER_LOADER_SEED}"),
        ):
            if problem := order_problem(ctx, run, seed, where_zh, where_en):
                problems.append(problem)
                break
    return verdict(
        ctx,
        "same-order",
        problems,
        f"两个全新进程里，2 个 worker 的 DataLoader 给出了相同的打乱顺序（共 {EPOCHS} 个 epoch，第 1 个 epoch "
        "与在你的进程之外按种子算出的顺序一致），换种子则顺序不同。",
        f"In two fresh processes the 2-worker DataLoader shuffled identically over {EPOCHS} epochs (epoch 1 in "
        "the order computed from the seed outside your process); another seed shuffled differently.",
    )


def check_same_augmentation(ctx):
    runs, problems = fresh_runs(ctx)
    if problems:
        return verdict(ctx, "same-augmentation", problems, "", "")
    first, second = runs
    for epoch in range(EPOCHS):
        samples_a, samples_b = first["epochs"][epoch], second["epochs"][epoch]
        if order(samples_a) != order(samples_b):
            return ctx.failed(
                "same-augmentation",
                zh="两个全新进程里批次顺序已经不同（见“相同顺序”那项检查），增强自然也对不上。先让顺序可复现。",
                en="The two fresh processes already differ in batch order (see the same-order check), so the "
                "augmentations cannot match either. Make the order reproducible first.",
            )
        for position, (a, b) in enumerate(zip(samples_a, samples_b, strict=True)):
            for library in LIBRARIES:
                if number(a[library]) != number(b[library]):
                    zh_worker, en_worker = WORKER_SEEDING
                    return ctx.failed(
                        "same-augmentation",
                        zh=f"两个全新进程里顺序相同，但第 {epoch + 1} 个 epoch 的第 {position + 1} 个样本（下标 "
                        f"{int(a['index'])}，由 worker {int(a['worker'])} 加载）在 worker 里用 {library} 抽到的数不同："
                        f"{a[library]} 和 {b[library]}。worker 里的 {library} 生成器的种子不是由 loader 的种子决定的"
                        "（例如 worker_init_fn 用时间、进程号或不带参数的 seed() 重新播种）。" + zh_worker,
                        en=f"The order matched, but in epoch {epoch + 1} item {position + 1} (index "
                        f"{int(a['index'])}, loaded by worker {int(a['worker'])}) drew different {library} numbers in "
                        f"the workers of the two processes: {a[library]} and {b[library]}. The workers' {library} "
                        "generator is not seeded from the loader's seed (e.g. a worker_init_fn that re-seeds from "
                        "the time, the process id, or seed() without an argument). " + en_worker,
                    )
    return ctx.passed(
        "same-augmentation",
        zh="两个全新进程里，每个样本在 worker 中抽到的 torch、numpy、random 随机数完全相同。"
        "（worker 里的随机数只能在你的进程里观察。）",
        en="In both fresh processes every item drew the same torch, numpy and random numbers in its worker. (The "
        "workers' draws can only be observed inside your process.)",
    )


def streams(samples):
    """{worker: {library: [draws in loading order]}} for one epoch."""
    result = {}
    for sample in samples:
        worker = result.setdefault(int(sample["worker"]), {library: [] for library in LIBRARIES})
        for library in LIBRARIES:
            worker[library].append(number(sample[library]))
    return result


def repeats(first, second):
    length = min(len(first), len(second))
    return length > 0 and first[:length] == second[:length]


def check_fresh_randomness(ctx):
    runs, problems = fresh_runs(ctx)
    run = next((candidate for candidate in runs if candidate is not None), None)
    if run is None:
        return verdict(ctx, "fresh-randomness", problems, "", "")
    by_epoch = [streams(samples) for samples in run["epochs"]]
    if any(set(epoch) != {0, 1} for epoch in by_epoch):
        return ctx.failed(
            "fresh-randomness",
            zh="样本不是由 worker 0 和 worker 1 加载的（本试炼要求 num_workers=2），无法比较它们的随机数。",
            en="The items were not loaded by workers 0 and 1 (the trial asks for num_workers=2), so their "
            "random numbers could not be compared.",
        )
    zh_worker, en_worker = WORKER_SEEDING
    for library in LIBRARIES:
        if repeats(by_epoch[0][0][library], by_epoch[0][1][library]):
            problems.append(
                (
                    f"worker 0 和 worker 1 用 {library} 抽到的随机数一模一样（{short(by_epoch[0][0][library], 3)}）："
                    f"每个 worker 的 {library} 生成器都从同一个种子开始，于是不同样本得到了“相同”的随机增强。"
                    "不要在 worker_init_fn 里用同一个固定种子播种。" + zh_worker,
                    f"Workers 0 and 1 drew exactly the same {library} numbers ({short(by_epoch[0][0][library], 3)}): "
                    f"every worker's {library} generator starts from the same seed, so different items get the same "
                    "'random' augmentation. Don't seed every worker with one fixed seed in worker_init_fn; "
                    + en_worker,
                )
            )
    for worker in (0, 1):
        for library in LIBRARIES:
            if repeats(by_epoch[0][worker][library], by_epoch[1][worker][library]):
                problems.append(
                    (
                        f"worker {worker} 在第 1 和第 2 个 epoch 用 {library} 抽到的随机数完全相同：每个 epoch 都重复同样的"
                        "“随机”增强。worker 在每个 epoch 开始时重新创建，worker_init_fn 若用固定种子（例如 seed + worker_id），"
                        "每个 epoch 就从头再来。" + zh_worker,
                        f"Worker {worker} drew exactly the same {library} numbers in epochs 1 and 2: every epoch "
                        "repeats the same 'random' augmentation. Workers are created anew each epoch, so a "
                        "worker_init_fn with a fixed seed (say seed + worker_id) starts over every time; "
                        + en_worker,
                    )
                )
    return verdict(
        ctx,
        "fresh-randomness",
        problems,
        "两个 worker 抽到不同的随机数，每个 epoch 也不重复。（worker 里的随机数只能在你的进程里观察。）",
        "The two workers drew different numbers, and no epoch repeated another. (The workers' draws can only be "
        "observed inside your process.)",
    )


def check_cuda_seeded(ctx):
    if error := ctx.error_of("cuda.import"):
        return ctx.failed(
            "cuda-seeded",
            zh=f"模拟有 GPU 时，导入 solution.py 出错：\n{error}",
            en=f"With a GPU simulated, importing solution.py raised:\n{error}",
        )
    if error := ctx.error_of("cuda.seed"):
        return ctx.failed(
            "cuda-seeded",
            zh=f"模拟有 GPU 时，seed_everything({SEED}) 出错：\n{error}",
            en=f"With a GPU simulated, seed_everything({SEED}) raised:\n{error}",
        )
    value = ctx.observed("cuda.seed")
    calls = value.get("calls") if isinstance(value, dict) else None
    if not isinstance(calls, list):
        return ctx.failed("cuda-seeded")
    seeds = [call.get("seed") for call in calls if isinstance(call, dict)]
    if SEED in seeds:
        function = next(
            call["function"] for call in calls if isinstance(call, dict) and call.get("seed") == SEED
        )
        return ctx.passed(
            "cuda-seeded",
            zh=f"模拟有 GPU 时，CUDA 生成器以 {SEED} 播种（经由 {function}；这只能在你的进程里观察）。",
            en=f"With a GPU simulated, the CUDA generators were seeded with {SEED} (through {function}; this can "
            "only be observed inside your process).",
        )
    if seeds:
        return ctx.failed(
            "cuda-seeded",
            zh=f"模拟有 GPU 时，CUDA 生成器的种子是 {show(seeds[0])}，而不是 {SEED}。torch.seed() 会取一个随机种子，"
            "它不是设置种子的函数；用 torch.manual_seed(seed) 或 torch.cuda.manual_seed_all(seed)。",
            en=f"With a GPU simulated, the CUDA generators were seeded with {show(seeds[0])}, not {SEED}. torch.seed() "
            "picks a random seed; it does not set one. Use torch.manual_seed(seed) or torch.cuda.manual_seed_all(seed).",
        )
    return ctx.failed(
        "cuda-seeded",
        zh="模拟有 GPU 时，seed_everything 从未给 CUDA 生成器播种。torch.manual_seed(seed) 会顺带调用 "
        "torch.cuda.manual_seed_all(seed)；而 torch.default_generator 或自己建的 torch.Generator 只管 CPU。"
        "可以在 torch.cuda.is_available() 时再显式调用 torch.cuda.manual_seed_all(seed)。",
        en="With a GPU simulated, seed_everything never seeded the CUDA generators. torch.manual_seed(seed) also "
        "calls torch.cuda.manual_seed_all(seed); torch.default_generator or a torch.Generator of your own covers "
        "only the CPU. You may also call torch.cuda.manual_seed_all(seed) explicitly when "
        "torch.cuda.is_available().",
    )
