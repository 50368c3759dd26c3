// The island's own strings, in the page's language (<html lang>): zh-Hans is the source, English the other.

const en = {
  ready: "Ready: run or submit your code.",
  sending: "Sending…",
  queued: "Queued",
  queuedAhead: "Queued: {n} ahead of you",
  queuedNext: "Queued: you are next",
  running: "Running…",
  runningOn: "Running on {device}…",
  elapsed: "{seconds} s",
  logHeading: "Output log",
  finishing: "Finishing…",
  reconnecting: "Connection lost, reconnecting…",
  connectionFailed: "Lost the live connection. Reload the page to see the result.",
  notFound: "This submission was not found.",
  loadFailed: "Could not load the submission: {message}",
  requestFailed: "The request failed: {message}",
  networkError: "network error",
  saving: "Saving…",
  saved: "Draft saved {time}",
  saveFailed: "Not saved: {message}",
  draftRestored: "Restored your last edit from this browser (it had not reached the server); saving it now",
  resetConfirm: "Replace your code with the starter code? Your current code will be lost.",
  splitLabel: "Drag to resize the statement and the editor (arrow keys too)",
  fullScreen: "Full screen",
  exitFullScreen: "Leave full screen",
  tabsLabel: "Trial",
  "tab.statement": "Statement",
  "tab.code": "Code",
  "tab.results": "Results",
  resetDone: "Starter code restored",
  verdictLabel: "Verdict",
  score: "Score {score}",
  checksHeading: "Checks",
  sharedReason: "(the same reason for {n} more below)",
  sameReason: "Same reason as above.",
  checkPassed: "passed",
  checkFailed: "failed",
  noChecks: "No checks ran.",
  tracebackHeading: "Your code raised an error",
  resourcesHeading: "Resources",
  wallTime: "Time",
  cpuTime: "CPU time",
  peakMemory: "Peak memory",
  device: "Device",
  peakGpuMemory: "Peak GPU memory",
  artifactsHeading: "Images from the run",
  chartsHeading: "Metrics",
  terminalLabel: "Output of the run",
  noOutput: "(no output yet)",
  noOutputDone: "(the run printed nothing)",
  loading: "Loading…",
  hintsShown: "{shown} of {total} hints shown",
  noMoreHints: "No more hints",
  referenceLoading: "Loading the reference solution…",
  modeRun: "Run (visible checks)",
  modeSubmit: "Submit (all checks)",
  step: "step",
  seedRun: "run {n}",
  cohortMedian: "cohort median ({n} passed runs)",
  referenceCurve: "reference solution",
  showCurves: "Show the curves to compare against",
  standing: "At step {step}, this run's {metric} is {ratio}× the cohort median ({n} passed runs).",
  standingReference: "At step {step}, this run's {metric} is {ratio}× the reference solution's.",
  "verdict.passed": "Passed",
  "verdict.failed": "Not passed",
  "verdict.error": "Your code raised an error",
  "verdict.time_limit": "Time limit exceeded",
  "verdict.memory_limit": "Memory limit exceeded",
  "verdict.output_limit": "Output limit exceeded",
  "verdict.gpu_oom": "Out of GPU memory",
  "verdict.sandbox_violation": "Sandbox rule broken",
  "verdict.internal_error": "Platform error",
} as const;

export type MessageKey = keyof typeof en;

const zh: Record<MessageKey, string> = {
  ready: "准备就绪：运行或提交你的代码。",
  sending: "正在发送……",
  queued: "排队中",
  queuedAhead: "排队中：前面还有 {n} 个",
  queuedNext: "排队中：下一个就是你",
  running: "运行中……",
  runningOn: "正在 {device} 上运行……",
  elapsed: "{seconds} 秒",
  logHeading: "运行日志",
  finishing: "即将完成……",
  reconnecting: "连接中断，正在重连……",
  connectionFailed: "实时连接已断开。刷新页面即可查看结果。",
  notFound: "没有找到这次提交。",
  loadFailed: "无法载入这次提交：{message}",
  requestFailed: "请求失败：{message}",
  networkError: "网络错误",
  saving: "正在保存……",
  saved: "草稿已保存 {time}",
  saveFailed: "未能保存：{message}",
  draftRestored: "已从本浏览器恢复最后一次修改（它还没保存到服务器），正在保存",
  resetConfirm: "用初始代码替换你的代码？当前代码将会丢失。",
  splitLabel: "拖动以调整题目与编辑器的宽度（也可用方向键）",
  fullScreen: "全屏",
  exitFullScreen: "退出全屏",
  tabsLabel: "试炼",
  "tab.statement": "题目",
  "tab.code": "代码",
  "tab.results": "结果",
  resetDone: "已恢复初始代码",
  verdictLabel: "结果",
  score: "得分 {score}",
  checksHeading: "检查项",
  sharedReason: "（下面还有 {n} 项检查同此原因）",
  sameReason: "原因同上。",
  checkPassed: "通过",
  checkFailed: "未通过",
  noChecks: "没有运行任何检查。",
  tracebackHeading: "你的代码抛出了错误",
  resourcesHeading: "资源用量",
  wallTime: "用时",
  cpuTime: "CPU 时间",
  peakMemory: "内存峰值",
  device: "设备",
  peakGpuMemory: "显存峰值",
  artifactsHeading: "运行生成的图片",
  chartsHeading: "指标",
  terminalLabel: "运行输出",
  noOutput: "（暂无输出）",
  noOutputDone: "（这次运行没有输出）",
  loading: "正在载入……",
  hintsShown: "已查看 {shown} / {total} 条提示",
  noMoreHints: "没有更多提示了",
  referenceLoading: "正在载入参考答案……",
  modeRun: "运行（公开检查）",
  modeSubmit: "提交（全部检查）",
  step: "步",
  seedRun: "第 {n} 次训练",
  cohortMedian: "班级中位数（{n} 次通过的运行）",
  referenceCurve: "参考答案",
  showCurves: "显示对照曲线",
  standing: "第 {step} 步时，这次运行的 {metric} 是班级中位数的 {ratio} 倍（{n} 次通过的运行）。",
  standingReference: "第 {step} 步时，这次运行的 {metric} 是参考答案的 {ratio} 倍。",
  "verdict.passed": "通过",
  "verdict.failed": "未通过",
  "verdict.error": "运行出错",
  "verdict.time_limit": "超时",
  "verdict.memory_limit": "内存超限",
  "verdict.output_limit": "输出超限",
  "verdict.gpu_oom": "显存不足",
  "verdict.sandbox_violation": "违反沙箱规则",
  "verdict.internal_error": "平台内部错误",
};

export type Language = "zh" | "en";

export function pageLanguage(doc: Document = document): Language {
  return (doc.documentElement.lang || "").toLowerCase().startsWith("en") ? "en" : "zh";
}

export function t(key: MessageKey, params: Record<string, string | number> = {}, language?: Language): string {
  const table: Record<MessageKey, string> = (language ?? pageLanguage()) === "en" ? en : zh;
  return table[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** The text of a {zh, en} pair in the page's language (English falls back to Chinese when missing). */
export function pick(pair: unknown, language: Language = pageLanguage()): string {
  if (pair === null || typeof pair !== "object") return "";
  const record = pair as Record<string, unknown>;
  const wanted = record[language];
  if (typeof wanted === "string" && wanted !== "") return wanted;
  const other = record[language === "en" ? "zh" : "en"];
  return typeof other === "string" ? other : "";
}

export function verdictText(verdict: string): string {
  const key = `verdict.${verdict}` as MessageKey;
  return key in en ? t(key) : verdict;
}
