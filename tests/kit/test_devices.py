"""The CUDA simulation: code that asks for the GPU is seen asking, on a machine without one."""

import pytest
import torch
from torch import rand as rand_bound_before  # bound before the block: still watched by the mode

from exercises.kit.devices import simulate_cuda

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a GPU on machines without one")


def best_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def test_availability_answers_follow_the_chosen_value_and_are_restored() -> None:
    with simulate_cuda(True) as devices:
        assert torch.cuda.is_available() is True
        assert torch.cuda.device_count() == 1
        assert torch.accelerator.is_available() is True
        assert torch.accelerator.current_accelerator() == torch.device("cuda")
        assert torch.cuda.get_device_name(0)
        assert devices.rerouted is True
    assert torch.cuda.is_available() is False
    assert torch.cuda.device_count() == 0
    with simulate_cuda(False):
        assert torch.accelerator.is_available() is False
        assert torch.accelerator.current_accelerator() is None


def test_cuda_requests_are_recorded_and_run_on_the_cpu() -> None:
    with simulate_cuda(True) as devices:
        made = rand_bound_before(2, 3, device=best_device())
        integers = torch.randint(0, 5, (4,), dtype=torch.int64, device=torch.device("cuda", 0))
        moved = torch.zeros(3).to(best_device())
        moved_with_dtype = torch.zeros(3).to("cuda", torch.float16)
        by_method = torch.ones(2).cuda()
        with torch.device("cuda"):
            in_context = torch.empty(2)
        indexed = torch.tensor([1, 2], device=0)
        derived = made * 2 + 1
        model = torch.nn.Linear(3, 1).to(best_device())
        output = model(moved)
    for tensor in (made, integers, moved, moved_with_dtype, by_method, in_context, indexed, derived):
        assert tensor.device.type == "cpu"
        assert devices.on_cuda(tensor)
    assert moved_with_dtype.dtype == torch.float16
    assert output.shape == (1,)
    assert devices.requests.count("cuda") >= 6
    assert "cuda:0" in devices.requests


def test_bringing_a_tensor_back_ends_its_virtual_cuda_life() -> None:
    with simulate_cuda(True) as devices:
        source = torch.arange(4)
        on_gpu = source.to(best_device())
        assert not devices.on_cuda(source)  # moving returned a new tensor; the input stays where it was
        for back in (on_gpu.cpu(), on_gpu.to("cpu"), on_gpu.to(torch.device("cpu")), on_gpu.detach().cpu()):
            assert not devices.on_cuda(back)
            assert torch.equal(back, source)
        assert devices.on_cuda(on_gpu.detach())  # still on the GPU until it is brought back


def test_cpu_code_asks_for_nothing() -> None:
    with simulate_cuda(True) as devices:
        made = torch.rand(3, device="cpu").to("cpu").cpu()
    assert devices.requests == []
    assert not devices.on_cuda(made)


def test_hard_coded_cuda_without_a_gpu_fails_as_it_really_would() -> None:
    with simulate_cuda(False) as devices:
        assert best_device() == "cpu"
        with pytest.raises((RuntimeError, AssertionError)):
            torch.rand(2, device="cuda")
    assert devices.requests == ["cuda"]
    assert devices.cuda_requested()
    assert not devices.cuda_requested(since=1)


def test_the_mode_is_gone_after_the_block() -> None:
    with simulate_cuda(True) as devices:
        pass
    torch.rand(2, device="cpu")
    with pytest.raises((RuntimeError, AssertionError)):
        torch.rand(2, device="cuda")
    assert devices.requests == []


def test_other_spellings_are_seen_too() -> None:
    with simulate_cuda(True) as devices:
        source = torch.arange(3)
        spellings = {
            "as_tensor": torch.as_tensor(source, device="cuda"),
            "keyword to": source.to(device="cuda"),
            "copy": source.to("cuda", copy=True),
            "zeros_like": torch.zeros_like(source, device="cuda"),
            "new_zeros": source.new_zeros((2,), device="cuda"),
        }
        spellings["to another tensor"] = torch.ones(3).to(spellings["keyword to"])
    assert not devices.on_cuda(source)
    assert [name for name, tensor in spellings.items() if not devices.on_cuda(tensor)] == []
