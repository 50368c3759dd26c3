"""Another valid shape: datetime.date objects, tuples, a cadence in days, and Chinese text."""

import datetime

TOPICS = (
    {
        "name": "计算机视觉",
        "why": "想做医学影像方向，需要扎实的检测与分割基础。",
        "resources": ("Stanford CS231n", "《动手学深度学习》（d2l.ai）第 7、14 章", "Kaggle 图像分割比赛"),
    },
    {
        "name": "自监督学习",
        "why": "医学影像标注昂贵，自监督预训练能减少对标注的依赖。",
        "resources": ("SimCLR、MoCo、MAE 三篇论文精读",),
    },
    {
        "name": "模型部署",
        "why": "希望模型能在医院的内网服务器上稳定运行。",
        "resources": ("ONNX Runtime 官方教程", "TorchServe / FastAPI 部署实践"),
    },
)

ROADMAP = {
    "topics": TOPICS,
    "milestones": (
        {
            "title": "复现 U-Net 并在公开数据集上达到论文指标",
            "due": datetime.date(2027, 1, 31),
            "topic": "计算机视觉",
            "deliverable": "代码仓库 + 复现报告（指标对比与差异分析）",
        },
        {
            "title": "用 MAE 预训练并对比从零训练",
            "due": datetime.date(2027, 5, 31),
            "topic": "自监督学习",
            "deliverable": "对比实验表格和一篇博客",
        },
        {
            "title": "把分割模型导出为 ONNX 并上线内网演示",
            "due": datetime.date(2027, 8, 31),
            "topic": "模型部署",
            "deliverable": "Docker 镜像、接口文档、延迟与准确率的测试报告",
        },
    ),
    "review": {
        "every_days": 7,
        "questions": ("这一周完成了什么？证据是什么？", "下一周最重要的一件事是什么？", "计划需要调整吗？"),
    },
}
