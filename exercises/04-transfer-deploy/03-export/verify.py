"""Verify step for trial 4.3. Runs in a SECOND, fresh sandbox: no solution.py, only the files the first
run wrote, copied to /work/first/. Loads each exported model the way a deployment would — TorchScript
with torch.jit.load, ONNX with onnxruntime, an ExportedProgram with torch.export.load — and runs it on
inputs the student's code never saw (batch sizes other than the example's; both branches of the gated
model). Outputs are saved for the check, which computes the expected ones outside.

Nothing here may raise: a file that does not load or run is an observation, not an internal error.
check.py reads the constants below as literals.
"""

import traceback

import torch

INPUT_SEED = 4310
BATCHES = [1, 5]
SHIFTS = {"bright": 1.5, "dark": -1.5}  # the gated model's two branches
MAX_ERROR_CHARS = 1500


def inputs(batch, shift=0.0):
    generator = torch.Generator().manual_seed(INPUT_SEED + batch)
    return torch.randn(batch, 3, 32, 32, generator=generator) + shift


def short_error(error):
    text = "".join(traceback.format_exception_only(error)).strip()
    return text[-MAX_ERROR_CHARS:]


def probe(ctx):
    torch.set_num_threads(1)
    ctx.observe("solution_present", (ctx.work / "solution.py").exists())
    verify_torchscript(ctx, "traced", ctx.first / "model.ts", {f"b{b}": inputs(b) for b in BATCHES})
    verify_torchscript(
        ctx, "scripted", ctx.first / "gated.ts", {name: inputs(2, shift) for name, shift in SHIFTS.items()}
    )
    verify_onnx(ctx, ctx.first / "model.onnx")
    verify_program(ctx, ctx.first / "model.pt2")


def file_state(path):
    if path.is_symlink() or not path.is_file():
        return {"file": False}
    return {"file": True}


def run_cases(ctx, key, forward, cases, seen):
    seen["outputs"] = {}
    for case, x in cases.items():
        try:
            with torch.no_grad():
                first = forward(x)
                again = forward(x)
        except Exception as error:
            seen["outputs"][case] = {"error": short_error(error)}
            continue
        first, again = torch.as_tensor(first), torch.as_tensor(again)
        ctx.save_array(f"{key}_{case}", first)
        seen["outputs"][case] = {"shape": list(first.shape), "repeatable": bool(torch.equal(first, again))}


def verify_torchscript(ctx, key, path, cases):
    seen = file_state(path)
    if seen["file"]:
        try:
            model = torch.jit.load(str(path), map_location="cpu")
        except Exception as error:
            seen["load_error"] = short_error(error)
        else:
            seen["training"] = bool(model.training)
            run_cases(ctx, key, model, cases, seen)
    ctx.observe(key, seen)


def verify_onnx(ctx, path):
    seen = file_state(path)
    if seen["file"]:
        try:
            import onnxruntime

            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            name = session.get_inputs()[0].name
        except Exception as error:
            seen["load_error"] = short_error(error)
        else:
            run_cases(
                ctx,
                "onnx",
                lambda x: torch.from_numpy(session.run(None, {name: x.numpy()})[0]),
                {f"b{b}": inputs(b) for b in BATCHES},
                seen,
            )
    ctx.observe("onnx", seen)


def verify_program(ctx, path):
    seen = file_state(path)
    if seen["file"]:
        try:
            module = torch.export.load(str(path)).module()
        except Exception as error:
            seen["load_error"] = short_error(error)
        else:
            run_cases(ctx, "program", module, {f"b{b}": inputs(b) for b in BATCHES}, seen)
    ctx.observe("program", seen)
