"""Another valid CutMix: its own λ and box for every sample (timm's "elem" mode), built with masks."""

import math

import torch


def cutmix(images, labels, alpha, generator):
    n, _, height, width = images.shape
    partner = torch.as_tensor(generator.permutation(n), dtype=torch.long)
    rows = torch.arange(height).view(height, 1)
    columns = torch.arange(width).view(1, width)
    masks = []
    for lam in generator.beta(alpha, alpha, size=n):
        ratio = math.sqrt(1.0 - float(lam))
        cut_h, cut_w = round(height * ratio), round(width * ratio)
        cy, cx = int(generator.integers(height)), int(generator.integers(width))
        top, bottom = max(cy - cut_h // 2, 0), min(cy + (cut_h - cut_h // 2), height)
        left, right = max(cx - cut_w // 2, 0), min(cx + (cut_w - cut_w // 2), width)
        masks.append((rows >= top) & (rows < bottom) & (columns >= left) & (columns < right))
    mask = torch.stack(masks)  # (n, height, width): True where the partner shows through
    mixed = torch.where(mask.unsqueeze(1), images[partner], images)
    area = mask.flatten(1).to(labels.dtype).mean(dim=1, keepdim=True)
    return mixed, (1 - area) * labels + area * labels[partner]


WRITEUP = """
复现对象：CutMix（Yun 等，ICCV 2019）。我先读了论文的算法 A1，又对照了官方仓库 clovaai/CutMix-PyTorch 的 train.py
和 timm 的 Mixup/CutMix 实现，然后自己写了一个版本。

和论文、官方代码的差异：
1. 官方代码整批只抽一个 λ、一个框；我让每个样本各抽一个 λ 和一个框（timm 里叫 elem 模式），用布尔掩码 torch.where
   一次完成粘贴。这样同一批里补丁大小各不相同，增强更多样，代价是要循环生成掩码。
2. 官方代码框被边界裁剪后会重新计算 λ，论文伪代码里没有写这一步。我按掩码的真实面积算每个样本的权重，
   所以标签和图像永远一致；不做这一步时，靠近角落的框会让标签把伙伴类别的权重多算很多。
3. 官方代码用全局的 np.random 和 torch.randperm；我只用传进来的 numpy Generator，同一个种子结果完全相同。
4. 官方把损失写成 lam * CE(out, a) + (1 - lam) * CE(out, b)；我直接返回软标签，配合
   F.cross_entropy(logits, soft_labels) 效果相同。
5. 我的框边长用 round 而不是 int 截断，所以面积更接近 1 - λ；这不影响正确性，因为标签按真实面积计算。

自检：我把每个像素编码成它自己的下标，调用 cutmix 后再解码，确认每个补丁都是从唯一伙伴的同一位置复制来的矩形，
标签权重等于真实粘贴的面积，贴在角落、被裁剪的框也一样。下一步想在放大的 digits 上训练小 CNN，比较加不加 CutMix
时训练和测试准确率的差距，再和 Mixup 对比。
"""
