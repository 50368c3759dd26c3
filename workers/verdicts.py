"""What each verdict tells the student (zh and en), and the verdicts decided from what the sandbox runner
observed: limits, violations and crashes, never from anything the job said."""

import logging

from workers.protocol import GradeRequest, Limits, Verdict
from workers.sandbox.runner import SandboxOutcome

logger = logging.getLogger(__name__)


MESSAGES: dict[Verdict, dict[str, str]] = {
    Verdict.PASSED: {"zh": "全部检查通过。", "en": "Every check passed."},
    Verdict.FAILED: {
        "zh": "有检查未通过：看下面每一项的说明。",
        "en": "Some checks failed: see each one below.",
    },
    Verdict.ERROR: {
        "zh": "你的代码在运行时抛出了异常，见下面的回溯。",
        "en": "Your code raised an exception while running; see the traceback below.",
    },
    Verdict.TIME_LIMIT: {
        "zh": "运行超时：程序没有在时间限制内结束（可能是死循环、等待输入，或训练太久）。",
        "en": "Time limit: the program did not finish in time (an endless loop, waiting for input, or training too long).",
    },
    Verdict.MEMORY_LIMIT: {
        "zh": "内存超限：程序使用的内存超过了限制，试试更小的批大小或模型。",
        "en": "Memory limit: the program used more memory than allowed; try a smaller batch or model.",
    },
    Verdict.OUTPUT_LIMIT: {
        "zh": "输出超限：程序打印了太多内容，已被终止。",
        "en": "Output limit: the program printed too much and was stopped.",
    },
    Verdict.GPU_OUT_OF_MEMORY: {
        "zh": "显存不足：减小批大小或模型，或在不需要梯度时使用 torch.no_grad()。",
        "en": "GPU out of memory: reduce the batch or model size, or use torch.no_grad() where no gradients are needed.",
    },
    Verdict.SANDBOX_VIOLATION: {
        "zh": "违反沙箱规则：程序尝试了不允许的系统操作，已被终止。",
        "en": "Sandbox violation: the program attempted a forbidden system operation and was stopped.",
    },
    Verdict.INTERNAL_ERROR: {
        "zh": "平台内部出错了，这不是你的问题；我们已记录，请稍后重试。",
        "en": "Something went wrong on our side, not in your code; it has been logged. Please try again shortly.",
    },
}


def crash_message(signal_name: str) -> dict[str, str]:
    """The `error` verdict's explanation when the job died of a fault of its own (no Python traceback)."""
    return {
        "zh": f"你的程序崩溃了（{signal_name}）：进程被这个信号终止，所以没有 Python 回溯。"
        "这通常来自原生代码，例如通过 ctypes 或 numpy 越界访问内存、调用 abort()，或整数除以零。",
        "en": f"Your program crashed ({signal_name}): the process was killed by this signal, so there is no "
        "Python traceback. This usually comes from native code, such as reading memory out of bounds "
        "through ctypes or numpy, a call to abort(), or an integer division by zero.",
    }


def time_limit_message(limits: Limits, *, cpu: bool) -> dict[str, str]:
    """The `time_limit` verdict's explanation, naming the limit that was reached (wall clock or CPU)."""
    if cpu:
        return {
            "zh": f"运行超时：CPU 时间超过 {limits.cpu_seconds} 秒上限，程序被终止"
            "（可能是死循环，或训练太久：减少轮数或数据量）。",
            "en": f"Time limit: the program used more than the {limits.cpu_seconds} s of CPU time allowed and "
            "was stopped (an endless loop, or training too long: use fewer epochs or less data).",
        }
    return {
        "zh": f"运行超时：超过 {limits.wall_seconds} 秒上限，程序被终止"
        "（可能是死循环、等待输入，或训练太久）。",
        "en": f"Time limit: the program ran past the {limits.wall_seconds} s limit and was stopped "
        "(an endless loop, waiting for input, or training too long).",
    }


def pids_message(limit: int) -> dict[str, str]:
    """The `error` verdict's explanation when the job hit the trial's process/thread limit."""
    return {
        "zh": f"进程/线程过多（上限 {limit}）：程序试图启动超过允许数量的进程或线程。"
        "减少 DataLoader 的 num_workers 或你自己启动的线程、进程。",
        "en": f"Too many processes/threads (limit {limit}): the program tried to start more processes or "
        "threads than allowed. Use fewer DataLoader workers, or fewer threads or processes of your own.",
    }


def limit_verdict(outcome: SandboxOutcome, request: GradeRequest) -> tuple[Verdict, dict[str, str]] | None:
    """The verdict and its explanation when the run ended on a limit, a violation or a crash (what the
    runner saw, never what the job said); None when the check decides."""
    if outcome.launch_error or not outcome.tree_dead:
        logger.error(
            "submission %s: sandbox failure (%s, tree dead: %s)",
            request.submission_id, outcome.launch_error or "no error text", outcome.tree_dead,
        )  # fmt: skip
        return Verdict.INTERNAL_ERROR, MESSAGES[Verdict.INTERNAL_ERROR]
    if outcome.violation:
        return Verdict.SANDBOX_VIOLATION, MESSAGES[Verdict.SANDBOX_VIOLATION]
    if outcome.pids_exceeded:
        # Before memory and the clock: a bomb's processes also take memory, and one that keeps retrying
        # runs out of time, but this is why.
        return Verdict.ERROR, pids_message(request.limits.pids)
    if outcome.memory_exceeded:
        return Verdict.MEMORY_LIMIT, MESSAGES[Verdict.MEMORY_LIMIT]
    if outcome.timed_out or outcome.cpu_exceeded:
        return Verdict.TIME_LIMIT, time_limit_message(
            request.limits, cpu=outcome.cpu_exceeded and not outcome.timed_out
        )
    if outcome.output_exceeded:
        return Verdict.OUTPUT_LIMIT, MESSAGES[Verdict.OUTPUT_LIMIT]
    if outcome.crash_signal:
        # The probe shares the job's process: it died too, and its missing observations mean nothing.
        return Verdict.ERROR, crash_message(outcome.crash_signal)
    return None
