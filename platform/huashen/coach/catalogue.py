"""The coach's rules: what each one names, why it is wrong in PyTorch (zh and en), and the trial that teaches it.

A finding is advice. It never enters a score, and a rule that fires on a reference solution is a bug in the
rule (`tests/coach/test_references.py`).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # "warning": most likely a bug; "info": works here, breaks elsewhere
    title_zh: str
    title_en: str
    why_zh: str
    why_en: str
    trial: str  # slug of the trial that teaches it


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in [
        Rule(
            "zero-grad-missing",
            "warning",
            "循环里 step() 之前没有清空梯度",
            "optimizer.step() in a loop that never clears the gradients",
            "PyTorch 的 backward() 把梯度累加到 .grad 上，而不是覆盖。循环里不调用 optimizer.zero_grad()"
            "（或把 .grad 设为 None），每一步用的都是此前所有批次梯度之和，步长越走越大，训练会发散。",
            "backward() adds into .grad instead of overwriting it. Without optimizer.zero_grad() (or setting "
            ".grad to None) in the loop, every step uses the sum of all earlier batches' gradients, so the "
            "steps grow and training diverges.",
            "train-loop",
        ),
        Rule(
            "softmax-before-cross-entropy",
            "warning",
            "把 softmax 的输出交给了 CrossEntropyLoss",
            "softmax output fed to CrossEntropyLoss",
            "nn.CrossEntropyLoss 和 F.cross_entropy 内部已经做了 log_softmax，要的是未归一化的原始分数"
            "（logits）。先做 softmax 会让损失被压扁、梯度变得很小，模型学得很慢甚至学不动。"
            "模型的 forward 应返回 logits；需要概率时在推理时再 softmax。",
            "nn.CrossEntropyLoss and F.cross_entropy apply log_softmax themselves and expect raw, unnormalised "
            "scores (logits). A softmax before them squashes the loss and shrinks the gradients, so the model "
            "learns slowly or not at all. Return logits from forward; apply softmax only when you need "
            "probabilities at inference.",
            "custom-module",
        ),
        Rule(
            "validation-without-eval",
            "warning",
            "验证或推理前没有调用 model.eval()",
            "validation or inference without model.eval()",
            "Dropout 和 BatchNorm 在训练模式下行为不同：dropout 随机丢弃神经元，BatchNorm 用当前批次的统计量"
            "并更新滑动均值。验证或预测前不调用 model.eval()，结果会随批次而变，还会悄悄改动 BatchNorm 的统计量。"
            "评估完记得用 model.train() 切回来。",
            "Dropout and BatchNorm behave differently in training mode: dropout drops units at random and "
            "BatchNorm uses the current batch's statistics and updates its running averages. Without "
            "model.eval() before validating or predicting, results depend on the batch and BatchNorm's "
            "statistics change behind your back. Switch back with model.train() afterwards.",
            "train-loop",
        ),
        Rule(
            "validation-with-grad",
            "warning",
            "验证或推理时没有关闭梯度",
            "validation or inference with gradients on",
            "在 torch.no_grad() 或 torch.inference_mode() 之外前向计算时，autograd 会为每个操作记录计算图，"
            "占用内存和时间，而验证和预测根本用不到这些梯度。把评估代码放进 with torch.no_grad():"
            "（或 inference_mode），或给函数加上 @torch.no_grad() 装饰器。",
            "Outside torch.no_grad() or torch.inference_mode(), autograd records a graph for every operation, "
            "costing memory and time that validation and prediction never use. Put evaluation inside "
            "with torch.no_grad(): (or inference_mode), or decorate the function with @torch.no_grad().",
            "no-grad-detach",
        ),
        Rule(
            "dot-data",
            "warning",
            "用 .data 绕开 autograd",
            ".data used to dodge autograd",
            "t.data 和 t.detach() 一样返回不带梯度、共享内存的张量，但 autograd 不会知道之后对它的原地修改："
            "版本计数不变，反向传播可能用到已被改掉的值而不报错，梯度悄悄出错。要脱离计算图用 t.detach()；"
            "要在不记录梯度的情况下修改参数，用 with torch.no_grad():。",
            "t.data returns a tensor without grad that shares memory, like t.detach(), but autograd is not told "
            "about later in-place changes to it: the version counter stays the same, so backward may use "
            "overwritten values without an error and the gradients are silently wrong. Use t.detach() to leave "
            "the graph, and with torch.no_grad(): to change parameters without recording.",
            "no-grad-detach",
        ),
        Rule(
            "loss-tensor-kept",
            "warning",
            "跨步累积的是损失张量，而不是 .item()",
            "a loss tensor accumulated across steps instead of .item()",
            "损失张量连着它的整个计算图。把它加进总和或放进列表，每一步的计算图都被留在内存里，"
            "内存随训练步数增长，直到用完。记录或累加数值时用 loss.item()（或 loss.detach()）。",
            "A loss tensor holds on to its whole graph. Adding it to a running total or appending it to a list "
            "keeps every step's graph alive, so memory grows with every step until it runs out. Log and sum "
            "numbers with loss.item() (or loss.detach()).",
            "no-grad-detach",
        ),
        Rule(
            "hard-coded-cuda",
            "info",
            '硬编码了 "cuda" / .cuda()',
            'hard-coded "cuda" / .cuda()',
            '写死 "cuda" 或 .cuda() 的代码在没有 GPU 的机器上直接报错，也没法挑选别的设备。'
            '先定义一个设备变量，例如 device = torch.device("cuda" if torch.cuda.is_available() else "cpu")，'
            "再用 .to(device) 和 device=device。",
            'Code that hard-codes "cuda" or .cuda() fails on a machine without a GPU and cannot be pointed at '
            'another device. Choose a device once, e.g. device = torch.device("cuda" if '
            'torch.cuda.is_available() else "cpu"), then use .to(device) and device=device.',
            "tensor-basics",
        ),
        Rule(
            "torch-load-weights-only",
            "warning",
            "torch.load 没有写 weights_only",
            "torch.load without weights_only",
            "torch.load 底层是 pickle：weights_only=False 时，加载一个文件就可能执行文件里藏着的任意代码。"
            "加载权重时写明 weights_only=True（它只接受张量和基本容器）；只有在完全信任文件来源时才写 False。"
            "（同 TorchFix 的 TOR102。）",
            "torch.load is pickle underneath: with weights_only=False, loading a file can run any code hidden "
            "in it. Say weights_only=True when loading weights (it accepts only tensors and plain containers); "
            "write False only for files you fully trust. (TorchFix's TOR102.)",
            "export",
        ),
        Rule(
            "tensor-from-tensor",
            "warning",
            "对已有张量调用 torch.tensor()",
            "torch.tensor() on an existing tensor",
            "torch.tensor(t) 总会复制数据，并且把结果从计算图上断开，PyTorch 也会为此发出警告。"
            "要复制用 t.clone().detach()，要改类型或设备用 t.to(...)，要在不复制的情况下得到张量用 torch.as_tensor(t)。",
            "torch.tensor(t) always copies and cuts the result off the autograd graph, and PyTorch warns about "
            "it. To copy use t.clone().detach(); to change dtype or device use t.to(...); to get a tensor "
            "without a copy use torch.as_tensor(t).",
            "numpy-sharing",
        ),
        Rule(
            "requires-grad-typo",
            "warning",
            "requires_grad 拼错了",
            "requires_grad misspelled",
            "张量的属性叫 requires_grad（带 s）。x.require_grad = True 只是给 Python 对象添了一个新属性，"
            "不会报错，但梯度不会被计算，x.grad 一直是 None。工厂函数里的拼错参数则会直接报 TypeError。"
            "（同 TorchFix 的 TOR002。）",
            "The attribute is requires_grad, with an s. x.require_grad = True just adds a new attribute to the "
            "Python object without an error, and no gradient is ever computed: x.grad stays None. A misspelled "
            "keyword to a factory function raises a TypeError. (TorchFix's TOR002.)",
            "autograd",
        ),
        Rule(
            "view-after-transpose",
            "warning",
            "transpose/permute 之后直接用 view",
            "view after transpose/permute",
            "transpose、permute、.T 只改变步长（stride），不移动数据，结果通常不是连续（contiguous）的。"
            "view 要求内存连续，于是报错“view size is not compatible with input tensor's size and stride”。"
            "用 .reshape(...)，或先 .contiguous() 再 .view(...)。",
            "transpose, permute and .T change the strides without moving data, so the result is usually not "
            'contiguous. view needs contiguous memory and fails with "view size is not compatible with input '
            "tensor's size and stride\". Use .reshape(...), or .contiguous() before .view(...).",
            "tensor-basics",
        ),
        Rule(
            "scheduler-step-per-batch",
            "warning",
            "按轮次的学习率调度器在批次循环里 step()",
            "an epoch scheduler stepped inside the batch loop",
            "StepLR、MultiStepLR、ExponentialLR、CosineAnnealingLR 和 ReduceLROnPlateau 的参数以“轮（epoch）”为单位："
            "step_size=5 指每 5 轮衰减一次。在批次循环里调用 scheduler.step()，学习率会按批次衰减，"
            "几轮之后几乎为零。把它移到批次循环之后，每轮调用一次（OneCycleLR、CyclicLR 这类才按批次调用）。",
            "StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR and ReduceLROnPlateau count in epochs: "
            "step_size=5 means decay every 5 epochs. Calling scheduler.step() inside the batch loop decays the "
            "learning rate per batch, so it is almost zero after a few epochs. Call it once per epoch, after "
            "the batch loop (OneCycleLR and CyclicLR are the ones stepped per batch).",
            "lr-schedulers",
        ),
        Rule(
            "clip-before-unscale",
            "warning",
            "在 scaler.unscale_() 之前裁剪梯度",
            "gradient clipping before scaler.unscale_()",
            "使用 GradScaler 时，backward 得到的梯度被乘上了一个很大的缩放系数（例如 65536）。"
            "不先调用 scaler.unscale_(optimizer) 就裁剪，max_norm 比较的是放大后的范数，几乎每一步都把梯度"
            "裁得极小，训练停滞。顺序应为：scaler.scale(loss).backward() → scaler.unscale_(optimizer) → "
            "clip_grad_norm_ → scaler.step(optimizer) → scaler.update()。",
            "With a GradScaler, backward produces gradients multiplied by a large scale (65536, say). Clipping "
            "before scaler.unscale_(optimizer) compares max_norm with the scaled norm, so nearly every step "
            "clips the gradients to almost nothing and training stalls. The order is: "
            "scaler.scale(loss).backward() → scaler.unscale_(optimizer) → clip_grad_norm_ → "
            "scaler.step(optimizer) → scaler.update().",
            "mixed-precision",
        ),
        Rule(
            "worker-seed-ignores-id",
            "warning",
            "worker_init_fn 没有用到 worker 编号",
            "a worker_init_fn that ignores the worker id",
            "DataLoader 的每个 worker 进程都会调用 worker_init_fn(worker_id)。如果所有 worker 用同一个种子"
            "设置 random / numpy，它们会产生完全相同的随机序列，“随机”增强在不同 worker 之间重复。"
            "用 worker_id，或用 torch.initial_seed()（每个 worker 不同）派生种子，"
            "或调用 torch.utils.data.get_worker_info()。",
            "Each DataLoader worker process calls worker_init_fn(worker_id). If every worker seeds random / "
            'numpy with the same seed, they produce the same random stream and the "random" augmentation '
            "repeats across workers. Derive the seed from worker_id, from torch.initial_seed() (which differs "
            "per worker), or from torch.utils.data.get_worker_info().",
            "reproducibility",
        ),
        Rule(
            "in-place-on-leaf",
            "warning",
            "对需要梯度的叶子张量做原地修改",
            "in-place change of a leaf tensor that requires grad",
            "requires_grad=True 的叶子张量（你自己创建的参数）不能在记录梯度时原地修改："
            "w -= lr * w.grad 或 w.add_(...) 会报“a leaf Variable that requires grad is being used in an "
            "in-place operation”。更新参数要放进 with torch.no_grad(): 里，之后再清空 w.grad。",
            "A leaf tensor with requires_grad=True (a parameter you created) cannot be changed in place while "
            'autograd records: w -= lr * w.grad or w.add_(...) fails with "a leaf Variable that requires grad '
            'is being used in an in-place operation". Update parameters inside with torch.no_grad():, then '
            "clear w.grad.",
            "autograd",
        ),
        Rule(
            "deprecated-api",
            "info",
            "用了已弃用或已移除的 PyTorch API",
            "a deprecated or removed PyTorch API",
            "这个接口在当前的 PyTorch 里已弃用（会发出警告，之后的版本会删除）或已经删除。对应的新写法："
            'torch.cuda.amp.GradScaler() → torch.amp.GradScaler("cuda")；torch.cuda.amp.autocast() → '
            'torch.autocast("cuda")；torch.range → torch.arange（注意终点不含）；torch.chain_matmul → '
            "torch.linalg.multi_dot；torch.qr / cholesky / symeig / eig / solve / lstsq / matrix_rank → "
            "torch.linalg 里的同名函数；nn.utils.weight_norm → nn.utils.parametrizations.weight_norm；"
            "torchvision 的 pretrained=True → weights=...。（同 TorchFix 的 TOR001、TOR101、TOR201。）",
            "This API is deprecated in current PyTorch (it warns, and a later release removes it) or already "
            'removed. The replacements: torch.cuda.amp.GradScaler() → torch.amp.GradScaler("cuda"); '
            'torch.cuda.amp.autocast() → torch.autocast("cuda"); torch.range → torch.arange (the end is '
            "excluded); torch.chain_matmul → torch.linalg.multi_dot; torch.qr / cholesky / symeig / eig / "
            "solve / lstsq / matrix_rank → their torch.linalg namesakes; nn.utils.weight_norm → "
            "nn.utils.parametrizations.weight_norm; torchvision's pretrained=True → weights=.... (TorchFix's "
            "TOR001, TOR101 and TOR201.)",
            "mixed-precision",
        ),
        Rule(
            "step-past-scaler",
            "warning",
            "缩放了损失，却直接调用 optimizer.step()",
            "a scaled loss, then optimizer.step() directly",
            "scaler.scale(loss).backward() 得到的梯度被放大了（例如 65536 倍）。直接 optimizer.step() 用的就是"
            "这些放大的梯度，每一步都迈得太远，还会踩过 inf/NaN。应调用 scaler.step(optimizer)"
            "（它先反缩放，遇到 inf/NaN 就跳过这一步），然后 scaler.update()。",
            "scaler.scale(loss).backward() leaves gradients multiplied by the scale (65536, say). "
            "optimizer.step() straight after uses those inflated gradients: every step goes far too far and "
            "steps over inf/NaN too. Call scaler.step(optimizer) (it unscales first and skips a step with "
            "inf/NaN), then scaler.update().",
            "mixed-precision",
        ),
        Rule(
            "lightning-manual-step",
            "warning",
            "在 training_step 里自己做 backward / step / zero_grad",
            "backward / step / zero_grad inside training_step",
            "Lightning 默认自动优化：training_step 只需返回损失，Trainer 会替你调用 backward、"
            "optimizer.step() 和 zero_grad()。自己再做一遍，每个批次就会被反向、更新两次，或者和 Trainer 的"
            "顺序打架。要手动优化，请在 __init__ 里设 self.automatic_optimization = False 并使用 "
            "self.manual_backward(loss)。",
            "Lightning optimises automatically: training_step returns the loss and the Trainer calls "
            "backward, optimizer.step() and zero_grad() for you. Doing it again yourself updates each batch "
            "twice or fights the Trainer's order. For manual optimisation set self.automatic_optimization = "
            "False in __init__ and use self.manual_backward(loss).",
            "lightning",
        ),
        Rule(
            "training-step-returns-float",
            "warning",
            "training_step 返回了 loss.item()",
            "training_step returns loss.item()",
            "Lightning 用 training_step 返回的张量做反向传播。loss.item() 是一个 Python 浮点数，"
            "已经和计算图断开：Trainer 没有东西可以 backward，参数永远不会更新。返回损失张量本身；"
            "要记录数值用 self.log(...)。",
            "Lightning backpropagates the tensor training_step returns. loss.item() is a Python float cut off "
            "from the graph: the Trainer has nothing to backpropagate and the parameters never change. Return "
            "the loss tensor itself, and record numbers with self.log(...).",
            "lightning",
        ),
        Rule(
            "plateau-step-without-metric",
            "warning",
            "ReduceLROnPlateau.step() 没有传入指标",
            "ReduceLROnPlateau.step() without the metric",
            "ReduceLROnPlateau 根据你传入的指标（通常是验证损失）决定是否降低学习率，"
            "所以它的 step 必须写成 scheduler.step(val_loss)。不传指标会报 TypeError；把异常吞掉则学习率永远不会变。",
            "ReduceLROnPlateau decides from the metric you pass (usually the validation loss) whether to lower "
            "the learning rate, so its step is scheduler.step(val_loss). Without the metric it raises a "
            "TypeError, and swallowing that leaves the learning rate unchanged forever.",
            "lr-schedulers",
        ),
        Rule(
            "metric-to-epoch-scheduler",
            "warning",
            "把指标传给了不需要它的调度器",
            "a metric passed to a scheduler that takes none",
            "只有 ReduceLROnPlateau 的 step 需要指标。StepLR 等调度器的 step(x) 会把 x 当作轮次（epoch）编号"
            "（已弃用的参数）：传入验证损失 0.73 会把调度跳到“第 0.73 轮”，学习率不按计划变化。"
            "按类型分开：isinstance(scheduler, ReduceLROnPlateau) 时 step(val_loss)，否则 step()。",
            "Only ReduceLROnPlateau's step takes a metric. StepLR and the others read step(x) as an epoch "
            'number (a deprecated argument): a validation loss of 0.73 jumps the schedule to "epoch 0.73" and '
            "the learning rate stops following the plan. Tell them apart: step(val_loss) when "
            "isinstance(scheduler, ReduceLROnPlateau), step() otherwise.",
            "lr-schedulers",
        ),
        Rule(
            "layers-in-plain-list",
            "warning",
            "子层放在普通的 Python 列表里",
            "layers kept in a plain Python list",
            "nn.Module 只登记直接赋给属性的模块、参数，以及 nn.ModuleList / nn.ModuleDict / nn.Sequential 里的模块。"
            "放在普通 list 里的层不会出现在 model.parameters() 中：优化器不会训练它们，.to(device) 不会移动它们，"
            "state_dict 也不保存它们。用 nn.ModuleList([...]) 或 nn.Sequential(...)。",
            "nn.Module registers modules and parameters assigned to attributes, and those inside nn.ModuleList, "
            "nn.ModuleDict or nn.Sequential. Layers in a plain list are missing from model.parameters(): the "
            "optimizer never trains them, .to(device) does not move them and state_dict does not save them. "
            "Use nn.ModuleList([...]) or nn.Sequential(...).",
            "custom-module",
        ),
        Rule(
            "super-init-missing",
            "warning",
            "__init__ 没有调用 super().__init__()",
            "__init__ without super().__init__()",
            "nn.Module.__init__ 建立了登记子模块和参数的内部字典。不先调用 super().__init__()，"
            "第一次给 self 赋一个层就会报“cannot assign module before Module.__init__() call”。"
            "把 super().__init__() 写在 __init__ 的第一行。",
            "nn.Module.__init__ sets up the dictionaries that register submodules and parameters. Without "
            'super().__init__() first, the first layer assigned to self fails with "cannot assign module '
            'before Module.__init__() call". Make super().__init__() the first line of __init__.',
            "custom-module",
        ),
        Rule(
            "flatten-drops-batch",
            "warning",
            "forward 里的 view(-1) 把整个批次压成一维",
            "view(-1) in forward flattens the whole batch",
            "x.view(-1) / x.reshape(-1) / torch.flatten(x) 把所有维度连同批次维一起展平成一个向量，"
            "之后的线性层要么报形状错误，要么把不同样本的数据混在一起。保留批次维："
            "x.view(x.size(0), -1)、x.flatten(1) 或 nn.Flatten()。",
            "x.view(-1) / x.reshape(-1) / torch.flatten(x) flatten every dimension, the batch included, into "
            "one vector: the next linear layer fails on the shape or mixes samples together. Keep the batch "
            "dimension: x.view(x.size(0), -1), x.flatten(1) or nn.Flatten().",
            "custom-module",
        ),
        Rule(
            "train-mode-not-restored",
            "warning",
            "验证后没有切回 model.train()",
            "model.train() not restored after validation",
            "model.eval() 会一直生效，直到再次调用 model.train()。如果 model.train() 只在训练循环之前调用一次，"
            "第一次验证之后的每一轮都会在评估模式下训练：dropout 关闭，BatchNorm 不再更新统计量。"
            "在每轮训练开始时调用 model.train()。",
            "model.eval() lasts until model.train() is called again. With model.train() called once before the "
            "training loop, every epoch after the first validation trains in eval mode: dropout is off and "
            "BatchNorm stops updating its statistics. Call model.train() at the start of every epoch.",
            "train-loop",
        ),
        Rule(
            "export-in-train-mode",
            "warning",
            "导出模型前没有调用 model.eval()",
            "a model exported without model.eval()",
            "torch.jit.trace、torch.onnx.export 和 torch.export 按模型当前的模式记录计算：训练模式下 dropout "
            "仍在随机丢弃，BatchNorm 用每批自己的统计量，导出的文件会带着这些行为上线。导出前调用 model.eval()。",
            "torch.jit.trace, torch.onnx.export and torch.export record the model in its current mode: in "
            "training mode dropout still drops at random and BatchNorm uses each batch's own statistics, and "
            "the exported file ships that behaviour. Call model.eval() before exporting.",
            "export",
        ),
    ]
}
