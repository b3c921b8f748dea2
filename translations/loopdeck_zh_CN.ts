<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ConnectionDialog</name>
    <message>
        <source>Connection</source>
        <translation>连接</translation>
    </message>
    <message>
        <source>Connect LoopDeck to a Label Studio server. Find your token in Label Studio under Account &amp; Settings → Personal Access Token (or Legacy Token).</source>
        <translation>将 LoopDeck 连接到 Label Studio 服务器。令牌可在 Label Studio 的“账户与设置”→“个人访问令牌”（或“旧版令牌”）中找到。</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>名称(&amp;N)：</translation>
    </message>
    <message>
        <source>e.g. Team server</source>
        <translation>例如：团队服务器</translation>
    </message>
    <message>
        <source>Server &amp;URL:</source>
        <translation>服务器地址(&amp;U)：</translation>
    </message>
    <message>
        <source>http://localhost:8080</source>
        <translation>http://localhost:8080</translation>
    </message>
    <message>
        <source>&amp;Token:</source>
        <translation>令牌(&amp;T)：</translation>
    </message>
    <message>
        <source>&amp;Show</source>
        <translation>显示(&amp;S)</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>仪表盘</translation>
    </message>
    <message>
        <source>&amp;Refresh every:</source>
        <translation>刷新间隔(&amp;R)：</translation>
    </message>
    <message>
        <source>Projects are refreshed in the background; the window never waits for the server.</source>
        <translation>项目在后台刷新，窗口不会因等待服务器而卡住。</translation>
    </message>
    <message>
        <source>Storage</source>
        <translation>存储</translation>
    </message>
    <message>
        <source>&amp;Data directory:</source>
        <translation>数据目录(&amp;D)：</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <source>Progress history and models are kept here.</source>
        <translation>进度历史和模型保存在这里。</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>&amp;Interface language:</source>
        <translation>界面语言(&amp;I)：</translation>
    </message>
    <message>
        <source>A new language takes effect the next time LoopDeck starts.</source>
        <translation>更改的语言将在下次启动 LoopDeck 时生效。</translation>
    </message>
</context>
<context>
    <name>loopdeck::client::InProcessLoopClient</name>
    <message>
        <source>this computer</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>The loop on this computer has stopped.</source>
        <translation>本机上的循环已停止。</translation>
    </message>
</context>
<context>
    <name>loopdeck::client::LoopClient</name>
    <message>
        <source>The loop sent an answer LoopDeck cannot read: field &quot;%1&quot; %2.</source>
        <translation>循环返回了 LoopDeck 无法解析的响应：字段“%1”%2。</translation>
    </message>
</context>
<context>
    <name>loopdeck::client::RemoteLoopClient</name>
    <message>
        <source>%1 runs LoopDeck %2, this window is %3: use the same version on both (major and minor).</source>
        <translation>%1 运行的是 LoopDeck %2，本窗口是 %3：请在两端使用相同的版本（主版本号和次版本号）。</translation>
    </message>
    <message>
        <source>(unknown)</source>
        <translation>（未知）</translation>
    </message>
    <message>
        <source>Disconnected from %1.</source>
        <translation>已与 %1 断开连接。</translation>
    </message>
    <message>
        <source>The TLS connection to %1 failed: %2. If its certificate comes from your team&apos;s own certificate authority, give that CA&apos;s file in the connection.</source>
        <translation>与 %1 的 TLS 连接失败：%2。如果其证书由你们团队自己的证书颁发机构签发，请在连接中指定该 CA 的文件。</translation>
    </message>
    <message>
        <source>Nothing answers at %1 (connection refused): is `loopdeck serve` running there, on this port?</source>
        <translation>%1 没有响应（连接被拒绝）：`loopdeck serve` 是否正在该主机的这个端口上运行？</translation>
    </message>
    <message>
        <source>The host name of %1 is not known.</source>
        <translation>无法识别 %1 的主机名。</translation>
    </message>
    <message>
        <source>%1 did not answer in time.</source>
        <translation>%1 未能及时响应。</translation>
    </message>
    <message>
        <source>%1 closed the connection before answering.</source>
        <translation>%1 在响应之前关闭了连接。</translation>
    </message>
    <message>
        <source>Could not reach %1: %2.</source>
        <translation>无法访问 %1：%2。</translation>
    </message>
    <message>
        <source>%1 refused the operator token: %2 On the server, `loopdeck operator-token` prints the current one.</source>
        <translation>%1 拒绝了操作员令牌：%2 在服务器上运行 `loopdeck operator-token` 可显示当前令牌。</translation>
    </message>
    <message>
        <source>HTTP 401.</source>
        <translation>HTTP 401。</translation>
    </message>
    <message>
        <source>%1 answered 404: is it a LoopDeck server (`loopdeck serve`) of this version?</source>
        <translation>%1 返回 404：它是否为此版本的 LoopDeck 服务器（`loopdeck serve`）？</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>%1 redirects (HTTP %2); give the address it redirects to (the token is not sent on).</source>
        <translation>%1 发生了重定向（HTTP %2）；请填写重定向后的地址（令牌不会被转发过去）。</translation>
    </message>
    <message>
        <source>%1 answered HTTP %2.</source>
        <translation>%1 返回 HTTP %2。</translation>
    </message>
    <message>
        <source>The connection to %1 was lost; reconnecting.</source>
        <translation>与 %1 的连接已中断，正在重新连接。</translation>
    </message>
    <message>
        <source>Not connected to a LoopDeck server.</source>
        <translation>未连接到 LoopDeck 服务器。</translation>
    </message>
    <message>
        <source>Could not read the CA file %1: %2.</source>
        <translation>无法读取 CA 文件 %1：%2。</translation>
    </message>
    <message>
        <source>The CA file %1 holds no PEM certificate.</source>
        <translation>CA 文件 %1 中没有 PEM 证书。</translation>
    </message>
    <message>
        <source>Connected to LoopDeck %1 at %2.</source>
        <translation>已连接到 %2 上的 LoopDeck %1。</translation>
    </message>
    <message>
        <source>The operator token has characters a token cannot have (spaces, line breaks or non-ASCII); paste it again.</source>
        <translation>操作员令牌中含有令牌不可能有的字符（空格、换行或非 ASCII 字符）；请重新粘贴。</translation>
    </message>
    <message>
        <source>The connection to %1 changed before the answer came.</source>
        <translation>在收到答复之前，与 %1 的连接已改变。</translation>
    </message>
    <message>
        <source>%1 answered /loop/events with %2, not an event stream: is it a LoopDeck server (a proxy&apos;s page?)</source>
        <translation>%1 对 /loop/events 的答复是 %2，而不是事件流：它是 LoopDeck 服务器吗（还是代理的页面？）</translation>
    </message>
    <message>
        <source>no content type</source>
        <translation>没有内容类型</translation>
    </message>
    <message>
        <source>%1 sent an event larger than %2 MiB; reconnecting.</source>
        <translation>%1 发送了大于 %2 MiB 的事件；正在重新连接。</translation>
    </message>
</context>
<context>
    <name>loopdeck::demo::DemoSession</name>
    <message>
        <source>Label Studio stopped unexpectedly (exit status %1); its log is in %2.</source>
        <translation>Label Studio 意外停止(退出状态 %1);日志位于 %2。</translation>
    </message>
    <message>
        <source>Label Studio was not found. Run scripts/quickstart.sh app, which prepares a Python venv with label-studio 1.23.2, or install it (pip install label-studio==1.23.2) and set LOOPDECK_LABEL_STUDIO to the label-studio program.</source>
        <translation>未找到 Label Studio。请运行 scripts/quickstart.sh app(它会准备一个装有 label-studio 1.23.2 的 Python 虚拟环境),或自行安装(pip install label-studio==1.23.2)并将 LOOPDECK_LABEL_STUDIO 设为 label-studio 程序的路径。</translation>
    </message>
    <message>
        <source>Cannot create a temporary folder for the demo&apos;s Label Studio.</source>
        <translation>无法为演示用的 Label Studio 创建临时文件夹。</translation>
    </message>
    <message>
        <source>Starting Label Studio on %1 (the first start takes up to a minute)…</source>
        <translation>正在 %1 上启动 Label Studio(首次启动最多需要一分钟)…</translation>
    </message>
    <message>
        <source>Label Studio did not answer within 3 minutes; its log is in %1.</source>
        <translation>Label Studio 在 3 分钟内没有响应;日志位于 %1。</translation>
    </message>
    <message>
        <source>Creating a demo project with %1 sample reviews…</source>
        <translation>正在创建包含 %1 条示例评论的演示项目…</translation>
    </message>
    <message>
        <source>LoopDeck demo: product reviews</source>
        <translation>LoopDeck 演示:商品评论</translation>
    </message>
    <message>
        <source>Cannot create the demo project: %1</source>
        <translation>无法创建演示项目:%1</translation>
    </message>
    <message>
        <source>Cannot import the sample reviews: %1</source>
        <translation>无法导入示例评论:%1</translation>
    </message>
    <message>
        <source>The loop is not running.</source>
        <translation>闭环未在运行。</translation>
    </message>
    <message>
        <source>Cannot start the backend: %1</source>
        <translation>无法启动后端:%1</translation>
    </message>
    <message>
        <source>Label Studio did not accept the backend: %1</source>
        <translation>Label Studio 未接受该后端:%1</translation>
    </message>
    <message>
        <source>A simulated annotator labels a review every %1 s; the loop retrains every %2 annotations.</source>
        <translation>模拟标注员每 %1 秒标注一条评论;每新增 %2 条标注,闭环就重新训练一次。</translation>
    </message>
    <message>
        <source>The simulated annotator is done (%1 reviews); the demo keeps running until you stop it.</source>
        <translation>模拟标注员已完成(%1 条评论);演示会一直运行,直到你停止它。</translation>
    </message>
    <message>
        <source>The demo stopped; its Label Studio and data are gone.</source>
        <translation>演示已停止;其 Label Studio 和数据均已删除。</translation>
    </message>
    <message>
        <source>Starting the demo&apos;s own backend and connecting it to the project (its data is in %1 until the demo stops)…</source>
        <translation>正在启动演示自己的后端并将其连接到项目(演示停止前,其数据保存在 %1)…</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::AccuracyChart</name>
    <message>
        <source>Training examples</source>
        <translation>训练样本</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>Macro-F1</source>
        <translation>宏平均 F1</translation>
    </message>
    <message>
        <source>Live acceptance</source>
        <translation>实际采纳率</translation>
    </message>
    <message>
        <source>Active version</source>
        <translation>当前版本</translation>
    </message>
    <message>
        <source>Score</source>
        <translation>得分</translation>
    </message>
    <message>
        <source>Examples</source>
        <translation>样本数</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt;%2 — %3</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;%2 — %3</translation>
    </message>
    <message>
        <source> (active)</source>
        <translation>（当前）</translation>
    </message>
    <message>
        <source>Accuracy: %1</source>
        <translation>准确率：%1</translation>
    </message>
    <message>
        <source>Macro-F1: %1</source>
        <translation>宏平均 F1：%1</translation>
    </message>
    <message>
        <source>Live acceptance: %1</source>
        <translation>实际采纳率：%1</translation>
    </message>
    <message>
        <source>Training examples: %1</source>
        <translation>训练样本：%1</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::BackendPanel</name>
    <message>
        <source>Connected</source>
        <translation>已连接</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>已断开</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练中</translation>
    </message>
    <message>
        <source>Predicting</source>
        <translation>预测中</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 毫秒</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>none yet</source>
        <translation>暂无</translation>
    </message>
    <message>
        <source>Backend server</source>
        <translation>后端服务</translation>
    </message>
    <message>
        <source>Address to listen on; 127.0.0.1 keeps the backend on this machine</source>
        <translation>监听地址；127.0.0.1 表示后端只在本机可访问</translation>
    </message>
    <message>
        <source>Port:</source>
        <translation>端口：</translation>
    </message>
    <message>
        <source>Listen on:</source>
        <translation>监听：</translation>
    </message>
    <message>
        <source>State:</source>
        <translation>状态：</translation>
    </message>
    <message>
        <source>Start the backend to get its URL</source>
        <translation>启动后端后即可获得其地址</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Copy the URL to paste it into Label Studio&apos;s Model settings</source>
        <translation>复制地址，粘贴到 Label Studio 的模型设置中</translation>
    </message>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>URL:</source>
        <translation>地址：</translation>
    </message>
    <message>
        <source>Label Studio project</source>
        <translation>Label Studio 项目</translation>
    </message>
    <message>
        <source>Connect to this project</source>
        <translation>连接到此项目</translation>
    </message>
    <message>
        <source>Register this backend in the project&apos;s Model settings (an existing registration for the same URL is reused)</source>
        <translation>在该项目的模型设置中注册此后端（若已有相同地址的注册则直接复用）</translation>
    </message>
    <message>
        <source>Check again</source>
        <translation>重新检查</translation>
    </message>
    <message>
        <source>Ask Label Studio how it sees this backend now</source>
        <translation>向 Label Studio 查询此后端的当前状态</translation>
    </message>
    <message>
        <source>Fetch predictions</source>
        <translation>获取预测</translation>
    </message>
    <message>
        <source>Ask Label Studio to get predictions from this backend for all the project&apos;s tasks</source>
        <translation>让 Label Studio 为该项目的所有任务向此后端请求预测</translation>
    </message>
    <message>
        <source>Label Studio says:</source>
        <translation>Label Studio 显示：</translation>
    </message>
    <message>
        <source>Predictions:</source>
        <translation>预测：</translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation>流量</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>请求数</translation>
    </message>
    <message>
        <source>Errors</source>
        <translation>错误数</translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation>预测数</translation>
    </message>
    <message>
        <source>Latency p50</source>
        <translation>延迟 p50</translation>
    </message>
    <message>
        <source>Latency p99</source>
        <translation>延迟 p99</translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation>运行时长</translation>
    </message>
    <message>
        <source>Recent requests</source>
        <translation>最近的请求</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>路径</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态码</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>延迟</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Client</source>
        <translation>客户端</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Failed to start</source>
        <translation>启动失败</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Stop backend</source>
        <translation>停止后端</translation>
    </message>
    <message>
        <source>Start backend</source>
        <translation>启动后端</translation>
    </message>
    <message>
        <source>Use port %1</source>
        <translation>改用端口 %1</translation>
    </message>
    <message>
        <source>Select a project on the Projects tab to connect this backend to it.</source>
        <translation>请在“项目”页中选择一个项目，以便将此后端连接到该项目。</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt; (#%2) — %3 tasks, %4 predictions in Label Studio</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;（#%2）— Label Studio 中有 %3 个任务、%4 条预测</translation>
    </message>
    <message>
        <source>Connect to a Label Studio server first</source>
        <translation>请先连接 Label Studio 服务器</translation>
    </message>
    <message>
        <source>LoopDeck&apos;s built-in text classifier</source>
        <translation>LoopDeck 内置文本分类器</translation>
    </message>
    <message>
        <source>Registering…</source>
        <translation>正在注册…</translation>
    </message>
    <message>
        <source>Request failed</source>
        <translation>请求失败</translation>
    </message>
    <message>
        <source>Not connected to this project</source>
        <translation>尚未连接到此项目</translation>
    </message>
    <message>
        <source>Press “Connect to this project” to register the backend.</source>
        <translation>点击“连接到此项目”以注册后端。</translation>
    </message>
    <message>
        <source>Start the backend, then connect it to the project.</source>
        <translation>请先启动后端，再将其连接到项目。</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>Registered as “%1” at %2</source>
        <translation>已注册为“%1”，地址 %2</translation>
    </message>
    <message>
        <source>Model version: %1</source>
        <translation>模型版本：%1</translation>
    </message>
    <message>
        <source>Label Studio reports: %1</source>
        <translation>Label Studio 报告：%1</translation>
    </message>
    <message>
        <source>Not requested yet</source>
        <translation>尚未请求</translation>
    </message>
    <message>
        <source>Asking Label Studio to fetch predictions…</source>
        <translation>正在请 Label Studio 获取预测…</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <source>At %1 Label Studio asked for predictions for %2 tasks; the counts update on the next refresh.</source>
        <translation>%1 时 Label Studio 为 %2 个任务请求了预测；计数将在下次刷新时更新。</translation>
    </message>
    <message>
        <source>Label Studio fetched predictions at %1; the counts update on the next refresh.</source>
        <translation>Label Studio 已于 %1 获取预测；计数将在下次刷新时更新。</translation>
    </message>
    <message>
        <source>%1 — project %2, model version %3</source>
        <translation>%1 — 项目 %2，模型版本 %3</translation>
    </message>
    <message>
        <source>not yet</source>
        <translation>尚未调用</translation>
    </message>
    <message>
        <source>Label Studio calls /setup when it connects to the backend or opens the project</source>
        <translation>Label Studio 连接后端或打开项目时会调用 /setup</translation>
    </message>
    <message>
        <source>Last /setup:</source>
        <translation>最近一次 /setup：</translation>
    </message>
    <message>
        <source>Webhooks from Label Studio</source>
        <translation>来自 Label Studio 的 Webhook</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>动作</translation>
    </message>
    <message>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>What Label Studio told the loop: new, changed and deleted annotations, “Start training”</source>
        <translation>Label Studio 通知循环的事件：新建、修改和删除的标注，以及“开始训练”</translation>
    </message>
    <message>
        <source>Copy operator token</source>
        <translation>复制操作员令牌</translation>
    </message>
    <message>
        <source>The credential another window needs to operate this loop (kept in operator-token in the data folder; `loopdeck operator-token --rotate` replaces it)</source>
        <translation>其他窗口操作此循环所需的凭据（保存在数据文件夹的 operator-token 中；`loopdeck operator-token --rotate` 可更换它）</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::ClassMetricsModel</name>
    <message>
        <source>Of the examples of this class, the share found</source>
        <translation>该类别的样本中，被找出的比例</translation>
    </message>
    <message>
        <source>Harmonic mean of precision and recall</source>
        <translation>精确率与召回率的调和平均</translation>
    </message>
    <message>
        <source>Held-out examples of this class</source>
        <translation>该类别的留出样本数</translation>
    </message>
    <message>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精确率</translation>
    </message>
    <message>
        <source>Recall</source>
        <translation>召回率</translation>
    </message>
    <message>
        <source>F1</source>
        <translation>F1</translation>
    </message>
    <message>
        <source>Support</source>
        <translation>样本数</translation>
    </message>
    <message>
        <source>Of the examples predicted as this class, the share that belong to it</source>
        <translation>预测为该类别的样本中，真正属于该类别的比例</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::ConfusionModel</name>
    <message>
        <source>%1: %2 (%3% of the class&apos;s examples)</source>
        <translation>%1：%2（占该类别样本的 %3%）</translation>
    </message>
    <message>
        <source>True %1, predicted %2: %3 examples (%4% of the row)</source>
        <translation>真实为 %1，预测为 %2：%3 个样本（占该行的 %4%）</translation>
    </message>
    <message>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>True class</source>
        <translation>真实类别</translation>
    </message>
    <message>
        <source>Predicted class</source>
        <translation>预测类别</translation>
    </message>
    <message>
        <source>TN</source>
        <translation>真负</translation>
    </message>
    <message>
        <source>FP</source>
        <translation>假正</translation>
    </message>
    <message>
        <source>FN</source>
        <translation>假负</translation>
    </message>
    <message>
        <source>TP</source>
        <translation>真正</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::ConnectionDialog</name>
    <message>
        <source>Detected: legacy token</source>
        <translation>检测到：旧版令牌</translation>
    </message>
    <message>
        <source>Detected: Personal Access Token</source>
        <translation>检测到：个人访问令牌</translation>
    </message>
    <message>
        <source>Detected: short-lived access token — it will expire; use a Personal Access Token for a lasting connection</source>
        <translation>检测到：短期访问令牌 — 它会过期；如需长期连接，请使用个人访问令牌</translation>
    </message>
    <message>
        <source>Add connection</source>
        <translation>添加连接</translation>
    </message>
    <message>
        <source>Paste the token from Label Studio</source>
        <translation>粘贴 Label Studio 中的令牌</translation>
    </message>
    <message>
        <source>Label Studio</source>
        <translation>Label Studio</translation>
    </message>
    <message>
        <source>Edit connection</source>
        <translation>编辑连接</translation>
    </message>
    <message>
        <source>Leave empty to keep the saved token</source>
        <translation>留空则保留已保存的令牌</translation>
    </message>
    <message>
        <source>No system keychain is available: the token is kept for this session only.</source>
        <translation>系统密钥环不可用：令牌仅在本次会话中保留。</translation>
    </message>
    <message>
        <source>The token is stored in the system keychain, never in a settings file.</source>
        <translation>令牌保存在系统密钥环中，绝不会写入设置文件。</translation>
    </message>
    <message>
        <source>Enter the address of the Label Studio server.</source>
        <translation>请输入 Label Studio 服务器的地址。</translation>
    </message>
    <message>
        <source>The saved token is kept.</source>
        <translation>将保留已保存的令牌。</translation>
    </message>
    <message>
        <source>A token is needed to read projects.</source>
        <translation>读取项目需要令牌。</translation>
    </message>
    <message>
        <source>Give the connection a name.</source>
        <translation>请为连接命名。</translation>
    </message>
    <message>
        <source>Another connection is already called “%1”.</source>
        <translation>已有名为“%1”的连接。</translation>
    </message>
    <message>
        <source>The server address changed: the token saved for %1 will be deleted, so that it is never sent to another server. Paste a token for the new server.</source>
        <translation>服务器地址已更改：为 %1 保存的令牌将被删除，以免它被发送到其他服务器。请粘贴新服务器的令牌。</translation>
    </message>
    <message>
        <source>Paste a token for the new server</source>
        <translation>粘贴新服务器的令牌</translation>
    </message>
    <message>
        <source>Names starting with “loopdeck-server/” are LoopDeck&apos;s own; choose another.</source>
        <translation>以“loopdeck-server/”开头的名称为 LoopDeck 自用；请另选一个名称。</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::DashboardSession</name>
    <message>
        <source>Cannot create the data directory %1.</source>
        <translation>无法创建数据目录 %1。</translation>
    </message>
    <message>
        <source>Cannot open the local store in %1.</source>
        <translation>无法打开 %1 中的本地存储。</translation>
    </message>
    <message>
        <source>Could not record progress: %1</source>
        <translation>无法记录进度：%1</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::LoopServerDialog</name>
    <message>
        <source>Connect to a LoopDeck server</source>
        <translation>连接到 LoopDeck 服务器</translation>
    </message>
    <message>
        <source>Team server</source>
        <translation>团队服务器</translation>
    </message>
    <message>
        <source>`loopdeck operator-token` on the server prints it</source>
        <translation>在服务器上运行 `loopdeck operator-token` 可显示令牌</translation>
    </message>
    <message>
        <source>Optional: your team&apos;s CA certificate (PEM)</source>
        <translation>可选：你们团队的 CA 证书（PEM）</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>CA certificate</source>
        <translation>CA 证书</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt *.cer);;All files (*)</source>
        <translation>证书 (*.pem *.crt *.cer);;所有文件 (*)</translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation>名称(&amp;N)：</translation>
    </message>
    <message>
        <source>&amp;Address:</source>
        <translation>地址(&amp;A)：</translation>
    </message>
    <message>
        <source>Operator &amp;token:</source>
        <translation>操作员令牌(&amp;T)：</translation>
    </message>
    <message>
        <source>&amp;CA certificate:</source>
        <translation>CA 证书(&amp;C)：</translation>
    </message>
    <message>
        <source>&amp;Test</source>
        <translation>测试(&amp;T)</translation>
    </message>
    <message>
        <source>Connect</source>
        <translation>连接</translation>
    </message>
    <message>
        <source>Operate the loop of a &lt;tt&gt;loopdeck serve&lt;/tt&gt; that runs next to your team&apos;s Label Studio. See docs/deploy.md for HTTPS and the operator token.</source>
        <translation>操作与你们团队的 Label Studio 一同运行的 &lt;tt&gt;loopdeck serve&lt;/tt&gt; 的闭环。有关 HTTPS 和操作员令牌，请参阅 docs/deploy.md。</translation>
    </message>
    <message>
        <source>Stored in the keychain; leave empty to keep it</source>
        <translation>已保存在密钥环中；留空则保留</translation>
    </message>
    <message>
        <source>Give the server a name.</source>
        <translation>请为服务器命名。</translation>
    </message>
    <message>
        <source>A server named &quot;%1&quot; is saved already.</source>
        <translation>已保存了名为“%1”的服务器。</translation>
    </message>
    <message>
        <source>Give the server&apos;s address, e.g. https://loopdeck.example.org.</source>
        <translation>请输入服务器的地址，例如 https://loopdeck.example.org。</translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a server address.</source>
        <translation>“%1”不是服务器地址。</translation>
    </message>
    <message>
        <source>The address must start with https:// (or http://).</source>
        <translation>地址必须以 https://（或 http://）开头。</translation>
    </message>
    <message>
        <source>Leave the user name and password out of the address; the operator token is the credential.</source>
        <translation>请勿在地址中包含用户名和密码；操作员令牌即为凭据。</translation>
    </message>
    <message>
        <source>Leave ?… and #… out of the address.</source>
        <translation>请勿在地址中包含 ?… 和 #…。</translation>
    </message>
    <message>
        <source>Paste the server&apos;s operator token.</source>
        <translation>请粘贴服务器的操作员令牌。</translation>
    </message>
    <message>
        <source>Plain http: the operator token would cross the network unencrypted. Put the server behind HTTPS.</source>
        <translation>明文 http：操作员令牌将以未加密的形式在网络上传输。请为服务器配置 HTTPS。</translation>
    </message>
    <message>
        <source>Testing…</source>
        <translation>正在测试…</translation>
    </message>
    <message>
        <source>The address points to another server: paste that server&apos;s operator token (the stored one is not sent there).</source>
        <translation>该地址指向另一台服务器：请粘贴那台服务器的操作员令牌（已保存的令牌不会发往那里）。</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::MainWindow</name>
    <message>
        <source>legacy token</source>
        <translation>旧版令牌</translation>
    </message>
    <message>
        <source>Personal Access Token</source>
        <translation>个人访问令牌</translation>
    </message>
    <message>
        <source>short-lived access token</source>
        <translation>短期访问令牌</translation>
    </message>
    <message>
        <source>no token</source>
        <translation>无令牌</translation>
    </message>
    <message>
        <source>token saved in keychain</source>
        <translation>令牌已存入密钥环</translation>
    </message>
    <message>
        <source>not saved — session only</source>
        <translation>未保存 — 仅限本次会话</translation>
    </message>
    <message>
        <source>from LOOPDECK_TOKEN — not saved</source>
        <translation>来自 LOOPDECK_TOKEN — 未保存</translation>
    </message>
    <message>
        <source>LoopDeck</source>
        <translation>LoopDeck</translation>
    </message>
    <message>
        <source>Refreshing…</source>
        <translation>正在刷新…</translation>
    </message>
    <message>
        <source>Last refresh at %1</source>
        <translation>上次刷新：%1</translation>
    </message>
    <message>
        <source>Refresh failed at %1; retrying automatically</source>
        <translation>%1 刷新失败，将自动重试</translation>
    </message>
    <message>
        <source>&amp;Add connection…</source>
        <translation>添加连接(&amp;A)…</translation>
    </message>
    <message>
        <source>Add a Label Studio connection</source>
        <translation>添加一个 Label Studio 连接</translation>
    </message>
    <message>
        <source>&amp;Edit connection…</source>
        <translation>编辑连接(&amp;E)…</translation>
    </message>
    <message>
        <source>Change the URL or token of this connection</source>
        <translation>修改此连接的地址或令牌</translation>
    </message>
    <message>
        <source>&amp;Remove connection</source>
        <translation>删除连接(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>刷新(&amp;R)</translation>
    </message>
    <message>
        <source>Fetch the projects again now (%1)</source>
        <translation>立即重新获取项目（%1）</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;About LoopDeck</source>
        <translation>关于 LoopDeck(&amp;A)</translation>
    </message>
    <message>
        <source>About LoopDeck</source>
        <translation>关于 LoopDeck</translation>
    </message>
    <message>
        <source>&lt;h3&gt;LoopDeck %1&lt;/h3&gt;&lt;p&gt;A desktop control panel for the Label Studio labeling loop: project progress, a built-in ML backend and its model.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;LoopDeck %1&lt;/h3&gt;&lt;p&gt;Label Studio 标注闭环的桌面控制面板：项目进度、内置机器学习后端及其模型。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Connection</source>
        <translation>连接(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>Connection:</source>
        <translation>连接：</translation>
    </message>
    <message>
        <source>Saved Label Studio connections</source>
        <translation>已保存的 Label Studio 连接</translation>
    </message>
    <message>
        <source>Projects</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>ML backend</source>
        <translation>机器学习后端</translation>
    </message>
    <message>
        <source>Filter projects by title…</source>
        <translation>按标题筛选项目…</translation>
    </message>
    <message>
        <source>Auto-refresh every %1 s</source>
        <translation>每 %1 秒自动刷新</translation>
    </message>
    <message>
        <source>No connection yet</source>
        <translation>尚无连接</translation>
    </message>
    <message>
        <source>No connection yet — choose “Add connection…” to connect to a Label Studio server.</source>
        <translation>尚无连接 — 请选择“添加连接…”以连接 Label Studio 服务器。</translation>
    </message>
    <message>
        <source>No token for “%1” — choose “Edit connection…” to enter it.</source>
        <translation>“%1”没有令牌 — 请选择“编辑连接…”输入令牌。</translation>
    </message>
    <message>
        <source>Label Studio %1</source>
        <translation>Label Studio %1</translation>
    </message>
    <message>
        <source>Remove connection</source>
        <translation>删除连接</translation>
    </message>
    <message>
        <source>Remove the connection “%1” and forget its token?</source>
        <translation>删除连接“%1”并清除其令牌？</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <source>Connecting to %1…</source>
        <translation>正在连接 %1…</translation>
    </message>
    <message>
        <source>Connected to %1</source>
        <translation>已连接到 %1</translation>
    </message>
    <message>
        <source>Disconnected — %1</source>
        <translation>已断开 — %1</translation>
    </message>
    <message>
        <source>Connection failed — %1</source>
        <translation>连接失败 — %1</translation>
    </message>
    <message>
        <source>Label Studio —</source>
        <translation>Label Studio —</translation>
    </message>
    <message>
        <source>User —</source>
        <translation>用户 —</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>No projects</source>
        <translation>没有项目</translation>
    </message>
    <message>
        <source>Projects: %1</source>
        <translation>项目：%1</translation>
    </message>
    <message>
        <source>Showing %1 of %2</source>
        <translation>显示 %1 / %2</translation>
    </message>
    <message>
        <source>Could not read the progress history: %1</source>
        <translation>无法读取进度历史：%1</translation>
    </message>
    <message>
        <source>Loop &amp;notifications</source>
        <translation>循环通知(&amp;N)</translation>
    </message>
    <message>
        <source>Tell me when a training run finishes or fails, the backend stops answering or missed annotations are recovered</source>
        <translation>在训练完成或失败、后端停止响应、或找回遗漏的标注时通知我</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Try the &amp;demo</source>
        <translation>试用演示(&amp;D)</translation>
    </message>
    <message>
        <source>Start a local Label Studio with a sample project and watch the loop train</source>
        <translation>启动一个带示例项目的本地 Label Studio,观看闭环训练</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Welcome to LoopDeck&lt;/h3&gt;</source>
        <translation>&lt;h3&gt;欢迎使用 LoopDeck&lt;/h3&gt;</translation>
    </message>
    <message>
        <source>&lt;ol&gt;&lt;li&gt;&lt;b&gt;Connect&lt;/b&gt; to your Label Studio: &lt;i&gt;Add connection…&lt;/i&gt; with its URL and a token from &lt;i&gt;Account &amp;amp; Settings&lt;/i&gt; (a Personal Access Token is best).&lt;/li&gt;&lt;li&gt;&lt;b&gt;Start the backend&lt;/b&gt; on the &lt;i&gt;ML backend&lt;/i&gt; tab and press &lt;i&gt;Connect to this project&lt;/i&gt;; start Label Studio with ML_BLOCK_LOCAL_IP=false and SSRF_PROTECTION_ENABLED=false so it may call it.&lt;/li&gt;&lt;li&gt;&lt;b&gt;Label.&lt;/b&gt; Every 50 new annotations a new version trains by itself; the &lt;i&gt;Model&lt;/i&gt; tab shows its accuracy, and Label Studio shows its predictions.&lt;/li&gt;&lt;/ol&gt;&lt;p&gt;No Label Studio at hand? The demo starts one on this computer with sample reviews and a simulated annotator, and the first version trains within about a minute.&lt;/p&gt;</source>
        <translation>&lt;ol&gt;&lt;li&gt;&lt;b&gt;连接&lt;/b&gt;到你的 Label Studio:&lt;i&gt;添加连接…&lt;/i&gt;,填写其 URL 以及在 &lt;i&gt;Account &amp;amp; Settings&lt;/i&gt; 中获取的令牌(最好使用个人访问令牌)。&lt;/li&gt;&lt;li&gt;在 &lt;i&gt;机器学习后端&lt;/i&gt; 标签页中&lt;b&gt;启动后端&lt;/b&gt;,并点击&lt;i&gt;连接到此项目&lt;/i&gt;;启动 Label Studio 时请设置 ML_BLOCK_LOCAL_IP=false 和 SSRF_PROTECTION_ENABLED=false,使其可以调用本机后端。&lt;/li&gt;&lt;li&gt;&lt;b&gt;标注。&lt;/b&gt;每新增 50 条标注,就会自动训练一个新版本;&lt;i&gt;模型&lt;/i&gt;标签页显示其准确率,Label Studio 会显示它的预测。&lt;/li&gt;&lt;/ol&gt;&lt;p&gt;手边没有 Label Studio?演示会在本机启动一个,带有示例评论和模拟标注员,大约一分钟内就会训练出第一个版本。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Add connection…</source>
        <translation>添加连接…</translation>
    </message>
    <message>
        <source>Try the demo</source>
        <translation>试用演示</translation>
    </message>
    <message>
        <source>Stop the &amp;demo</source>
        <translation>停止演示(&amp;D)</translation>
    </message>
    <message>
        <source>Demo: %1</source>
        <translation>演示:%1</translation>
    </message>
    <message>
        <source>&lt;span style=&quot;color:#c62828&quot;&gt;The demo could not start: %1&lt;/span&gt;</source>
        <translation>&lt;span style=&quot;color:#c62828&quot;&gt;演示无法启动:%1&lt;/span&gt;</translation>
    </message>
    <message>
        <source>The demo stopped; its Label Studio and data are gone.</source>
        <translation>演示已停止;其 Label Studio 和数据均已删除。</translation>
    </message>
    <message>
        <source>Loop</source>
        <translation>闭环</translation>
    </message>
    <message>
        <source>&lt;h3&gt;The loop cannot open its data folder&lt;/h3&gt;&lt;p&gt;&lt;b&gt;Folder:&lt;/b&gt; %1&lt;/p&gt;&lt;p&gt;&lt;b&gt;Reason:&lt;/b&gt; %2&lt;/p&gt;&lt;p&gt;Without it the built-in ML backend, training and the model history are off; the Projects tab still works, and so does the demo.&lt;/p&gt;&lt;p&gt;&lt;b&gt;What to do:&lt;/b&gt; choose another data directory in &lt;i&gt;Settings…&lt;/i&gt; (the loop starts there at once), or make this folder writable, or move a damaged &lt;tt&gt;loopdeck.sqlite3&lt;/tt&gt; out of it and restart LoopDeck. A store written by a newer LoopDeck needs that version.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;闭环无法打开其数据文件夹&lt;/h3&gt;&lt;p&gt;&lt;b&gt;文件夹:&lt;/b&gt; %1&lt;/p&gt;&lt;p&gt;&lt;b&gt;原因:&lt;/b&gt; %2&lt;/p&gt;&lt;p&gt;没有它,内置机器学习后端、训练和模型历史均不可用;“项目”标签页仍可使用,演示也可以运行。&lt;/p&gt;&lt;p&gt;&lt;b&gt;怎么办:&lt;/b&gt;在&lt;i&gt;设置…&lt;/i&gt;中选择另一个数据目录(闭环会立即在那里启动),或让此文件夹可写,或将损坏的 &lt;tt&gt;loopdeck.sqlite3&lt;/tt&gt; 移出此文件夹后重启 LoopDeck。由更新版本的 LoopDeck 写入的存储需要使用该版本。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Open Settings…</source>
        <translation>打开设置…</translation>
    </message>
    <message>
        <source>The demo runs a backend of its own; this tab is for yours once the demo stops.</source>
        <translation>演示运行着自己的后端;演示停止后,此标签页用于您自己的后端。</translation>
    </message>
    <message>
        <source>&amp;Loop</source>
        <translation>闭环(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;This computer</source>
        <translation>本机(&amp;T)</translation>
    </message>
    <message>
        <source>The loop of this window&apos;s own engine and ML backend</source>
        <translation>本窗口自己的引擎和机器学习后端的闭环</translation>
    </message>
    <message>
        <source>&amp;Connect to a LoopDeck server…</source>
        <translation>连接到 LoopDeck 服务器(&amp;C)…</translation>
    </message>
    <message>
        <source>&amp;Edit this server…</source>
        <translation>编辑此服务器(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Forget this server</source>
        <translation>忘记此服务器(&amp;F)</translation>
    </message>
    <message>
        <source>Forget this server</source>
        <translation>忘记此服务器</translation>
    </message>
    <message>
        <source>Forget the LoopDeck server &quot;%1&quot; and its operator token? The window goes back to this computer&apos;s loop; the server and its loop are not changed.</source>
        <translation>忘记 LoopDeck 服务器“%1”及其操作员令牌？窗口将回到本机的闭环；服务器及其闭环不受影响。</translation>
    </message>
    <message>
        <source>No LoopDeck server named &quot;%1&quot; is saved.</source>
        <translation>没有保存名为“%1”的 LoopDeck 服务器。</translation>
    </message>
    <message>
        <source>No operator token is stored for &quot;%1&quot;; edit the server and paste it.</source>
        <translation>“%1”没有保存操作员令牌；请编辑该服务器并粘贴令牌。</translation>
    </message>
    <message>
        <source>Loop: this computer</source>
        <translation>闭环：本机</translation>
    </message>
    <message>
        <source>Loop: %1 — connected</source>
        <translation>闭环：%1 — 已连接</translation>
    </message>
    <message>
        <source>Loop: %1 — connecting…</source>
        <translation>闭环：%1 — 正在连接…</translation>
    </message>
    <message>
        <source>Loop: %1 — not answering</source>
        <translation>闭环：%1 — 没有响应</translation>
    </message>
    <message>
        <source>Loop: %1 — no operator token (Loop → Edit this server…)</source>
        <translation>闭环：%1 — 没有操作员令牌（闭环 → 编辑此服务器…）</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::ModelPage</name>
    <message>
        <source>Evaluation</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Schedule</source>
        <translation>计划</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>Training failed: %1</source>
        <translation>训练失败：%1</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Train now</source>
        <translation>立即训练</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop the run in progress; the active version keeps serving</source>
        <translation>停止正在进行的训练；当前版本继续提供服务</translation>
    </message>
    <message>
        <source>Versions</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Activate</source>
        <translation>启用</translation>
    </message>
    <message>
        <source>Serve the selected version to Label Studio</source>
        <translation>让所选版本为 Label Studio 提供预测</translation>
    </message>
    <message>
        <source>Roll back</source>
        <translation>回滚</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Save the metrics of every version as a CSV file</source>
        <translation>将每个版本的指标保存为 CSV 文件</translation>
    </message>
    <message>
        <source>Rows: true class; columns: predicted class. Shading: share of the row.</source>
        <translation>行：真实类别；列：预测类别。底色深浅：占该行的比例。</translation>
    </message>
    <message>
        <source>Confusion matrix (rows: true, columns: predicted)</source>
        <translation>混淆矩阵（行：真实，列：预测）</translation>
    </message>
    <message>
        <source>Per class</source>
        <translation>各类别</translation>
    </message>
    <message>
        <source>Model of “%1”</source>
        <translation>“%1”的模型</translation>
    </message>
    <message>
        <source>project %1</source>
        <translation>项目 %1</translation>
    </message>
    <message>
        <source>Select a project on the Projects tab</source>
        <translation>请在“项目”标签页中选择一个项目</translation>
    </message>
    <message>
        <source>No project selected</source>
        <translation>未选择项目</translation>
    </message>
    <message>
        <source>Select a project first.</source>
        <translation>请先选择一个项目。</translation>
    </message>
    <message>
        <source>Not in the loop</source>
        <translation>不在循环中</translation>
    </message>
    <message>
        <source>The loop does not serve this project yet: start the backend and choose “Connect to this project” on the ML backend tab.</source>
        <translation>循环尚未服务此项目：请在“机器学习后端”标签页中启动后端并选择“连接到此项目”。</translation>
    </message>
    <message>
        <source>Training (%1) — %2 s</source>
        <translation>训练中（%1）— %2 秒</translation>
    </message>
    <message>
        <source>A training run is in progress; wait for it or cancel it.</source>
        <translation>正在训练；请等待其完成或取消。</translation>
    </message>
    <message>
        <source>Queued (%1)</source>
        <translation>排队中（%1）</translation>
    </message>
    <message>
        <source>A run is already queued and starts after the cooldown.</source>
        <translation>已有一次训练在排队，冷却时间结束后开始。</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>Off — trains only when you press “Train now”</source>
        <translation>已关闭 — 仅在按下“立即训练”时训练</translation>
    </message>
    <message>
        <source>Starting a training run…</source>
        <translation>正在开始训练…</translation>
    </message>
    <message>
        <source>Train a new version from every annotation now</source>
        <translation>立即用全部标注训练一个新版本</translation>
    </message>
    <message>
        <source>%1 annotations · %2 usable examples · %3 new since the last training</source>
        <translation>%1 条标注 · %2 个可用样本 · 上次训练后新增 %3 条</translation>
    </message>
    <message>
        <source>Next scheduled run: %1</source>
        <translation>下次计划训练：%1</translation>
    </message>
    <message>
        <source>Last run: %1</source>
        <translation>上次训练：%1</translation>
    </message>
    <message>
        <source>Reconcile: %1</source>
        <translation>对账：%1</translation>
    </message>
    <message>
        <source>Webhook: %1</source>
        <translation>Webhook：%1</translation>
    </message>
    <message>
        <source>Prediction refresh: %1</source>
        <translation>预测刷新：%1</translation>
    </message>
    <message>
        <source>No version yet: the first one trains when enough annotations arrive, or press “Train now”.</source>
        <translation>还没有版本：标注足够时会自动训练第一个版本，也可以按“立即训练”。</translation>
    </message>
    <message>
        <source>%1: accuracy %2, macro-F1 %3 (%4)</source>
        <translation>%1：准确率 %2，宏平均 F1 %3（%4）</translation>
    </message>
    <message>
        <source>The selected version is already active</source>
        <translation>所选版本已是当前版本</translation>
    </message>
    <message>
        <source>Serve %1 again instead of %2</source>
        <translation>重新使用 %1 代替 %2 提供预测</translation>
    </message>
    <message>
        <source>There is no older version to roll back to</source>
        <translation>没有可回滚到的更早版本</translation>
    </message>
    <message>
        <source>no version</source>
        <translation>无版本</translation>
    </message>
    <message>
        <source>v%1 (accuracy unknown)</source>
        <translation>v%1（准确率未知）</translation>
    </message>
    <message>
        <source>v%1 (accuracy %2)</source>
        <translation>v%1（准确率 %2）</translation>
    </message>
    <message>
        <source>Training started.</source>
        <translation>训练已开始。</translation>
    </message>
    <message>
        <source>Training queued: it starts when the current run and the cooldown are over.</source>
        <translation>训练已排队：当前训练和冷却时间结束后开始。</translation>
    </message>
    <message>
        <source>Cancelling the training run…</source>
        <translation>正在取消训练…</translation>
    </message>
    <message>
        <source>Activate version</source>
        <translation>启用版本</translation>
    </message>
    <message>
        <source>Make %1 the active version in place of %2?

Label Studio gets its predictions from %1 from now on.</source>
        <translation>将 %1 设为当前版本以取代 %2？

此后 Label Studio 将从 %1 获取预测。</translation>
    </message>
    <message>
        <source>%1 is active.</source>
        <translation>%1 已启用。</translation>
    </message>
    <message>
        <source>Roll back from %1 to %2?

Label Studio gets its predictions from %2 from now on.</source>
        <translation>从 %1 回滚到 %2？

此后 Label Studio 将从 %2 获取预测。</translation>
    </message>
    <message>
        <source>Rolled back: %1 is active.</source>
        <translation>已回滚：当前版本为 %1。</translation>
    </message>
    <message>
        <source>No project selected.</source>
        <translation>未选择项目。</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>Export metrics history</source>
        <translation>导出指标历史</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Saved %1 versions to %2.</source>
        <translation>已将 %1 个版本保存到 %2。</translation>
    </message>
    <message>
        <source>Not saved: %1</source>
        <translation>未保存：%1</translation>
    </message>
    <message>
        <source>Saved at %1; in force now.</source>
        <translation>已于 %1 保存，立即生效。</translation>
    </message>
    <message>
        <source>stratified %1-fold cross-validation</source>
        <translation>分层 %1 折交叉验证</translation>
    </message>
    <message>
        <source>stratified %1 % holdout</source>
        <translation>分层 %1% 留出验证</translation>
    </message>
    <message>
        <source>Training cancelled; the active version keeps serving.</source>
        <translation>训练已取消；当前版本继续提供服务。</translation>
    </message>
    <message>
        <source>The loop does not answer</source>
        <translation>循环没有响应</translation>
    </message>
    <message>
        <source>The loop at %1 does not answer: %2</source>
        <translation>%1 上的循环没有响应：%2</translation>
    </message>
    <message>
        <source>on %1</source>
        <translation>位于 %1</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::NotificationBanner</name>
    <message>
        <source>Dismiss</source>
        <translation>关闭</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::Notifier</name>
    <message>
        <source>LoopDeck</source>
        <translation>LoopDeck</translation>
    </message>
    <message>
        <source>Project %1</source>
        <translation>项目 %1</translation>
    </message>
    <message>
        <source>v%1: %2 → %3</source>
        <translation>v%1：%2 → %3</translation>
    </message>
    <message>
        <source>%1: new model version</source>
        <translation>%1：新的模型版本</translation>
    </message>
    <message>
        <source>%1: new version not activated</source>
        <translation>%1：新版本未启用</translation>
    </message>
    <message>
        <source>%1 — kept inactive; the active version keeps serving (the model page&apos;s log says why).</source>
        <translation>%1 — 未启用；当前版本继续提供服务（原因见模型页面的日志）。</translation>
    </message>
    <message>
        <source>%1: training failed</source>
        <translation>%1：训练失败</translation>
    </message>
    <message>
        <source>%1: missed annotations recovered</source>
        <translation>%1：已找回遗漏的标注</translation>
    </message>
    <message>
        <source>The reconcile with Label Studio recovered %1 annotations the backend had missed.</source>
        <translation>与 Label Studio 对账时找回了后端遗漏的 %1 条标注。</translation>
    </message>
    <message>
        <source>The ML backend is not answering</source>
        <translation>机器学习后端没有响应</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::ProjectDetailPane</name>
    <message>
        <source>Select a project to see its details.</source>
        <translation>选择一个项目以查看详情。</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Annotated tasks</source>
        <translation>已标注任务</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成度</translation>
    </message>
    <message>
        <source>Finished tasks</source>
        <translation>已完成任务</translation>
    </message>
    <message>
        <source>Annotations</source>
        <translation>标注</translation>
    </message>
    <message>
        <source>Useful annotations</source>
        <translation>有效标注</translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <source>Ground truth</source>
        <translation>真值</translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation>预测数</translation>
    </message>
    <message>
        <source>Model version</source>
        <translation>模型版本</translation>
    </message>
    <message>
        <source>Label config</source>
        <translation>标注配置</translation>
    </message>
    <message>
        <source>Annotations over time</source>
        <translation>标注数量变化</translation>
    </message>
    <message>
        <source>(untitled #%1)</source>
        <translation>（未命名 #%1）</translation>
    </message>
    <message>
        <source>Project #%1</source>
        <translation>项目 #%1</translation>
    </message>
    <message>
        <source>created by %1</source>
        <translation>创建者 %1</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>The built-in text classifier can serve this project.</source>
        <translation>内置文本分类器可以为此项目提供预测。</translation>
    </message>
    <message>
        <source>The built-in text classifier cannot serve this project.</source>
        <translation>内置文本分类器无法为此项目提供预测。</translation>
    </message>
    <message>
        <source>Text classification targets</source>
        <translation>文本分类目标</translation>
    </message>
    <message>
        <source>multiple choice</source>
        <translation>多选</translation>
    </message>
    <message>
        <source>single choice</source>
        <translation>单选</translation>
    </message>
    <message>
        <source>reads $%1</source>
        <translation>读取 $%1</translation>
    </message>
    <message>
        <source>no choices</source>
        <translation>没有选项</translation>
    </message>
    <message>
        <source>Objects:</source>
        <translation>对象：</translation>
    </message>
    <message>
        <source>Controls:</source>
        <translation>控件：</translation>
    </message>
    <message>
        <source>Not served</source>
        <translation>不支持</translation>
    </message>
    <message>
        <source>This project has no label config yet.</source>
        <translation>此项目尚无标注配置。</translation>
    </message>
    <message>
        <source>No progress recorded yet; each refresh adds a point.</source>
        <translation>尚未记录进度；每次刷新都会添加一个数据点。</translation>
    </message>
    <message>
        <source>Snapshots: %1 · since %2 · a new one each time the counts change</source>
        <translation>快照：%1 · 始于 %2 · 计数每次变化时新增</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::ProjectsModel</name>
    <message>
        <source>(untitled #%1)</source>
        <translation>（未命名 #%1）</translation>
    </message>
    <message>
        <source>Project #%1</source>
        <translation>项目 #%1</translation>
    </message>
    <message>
        <source>Project #%1 — %2</source>
        <translation>项目 #%1 — %2</translation>
    </message>
    <message>
        <source>%1 of %2 tasks have at least one annotation</source>
        <translation>%2 个任务中有 %1 个至少有一条标注</translation>
    </message>
    <message>
        <source>Tasks in the project</source>
        <translation>项目中的任务数</translation>
    </message>
    <message>
        <source>Tasks with at least one annotation</source>
        <translation>至少有一条标注的任务数</translation>
    </message>
    <message>
        <source>Share of tasks with at least one annotation</source>
        <translation>至少有一条标注的任务所占比例</translation>
    </message>
    <message>
        <source>Annotations, all tasks together</source>
        <translation>所有任务的标注总数</translation>
    </message>
    <message>
        <source>Annotations that were skipped</source>
        <translation>被跳过的标注数</translation>
    </message>
    <message>
        <source>Predictions stored in Label Studio</source>
        <translation>Label Studio 中保存的预测数</translation>
    </message>
    <message>
        <source>When these counts were fetched</source>
        <translation>这些计数的获取时间</translation>
    </message>
    <message>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Annotated</source>
        <translation>已标注</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成度</translation>
    </message>
    <message>
        <source>Annotations</source>
        <translation>标注</translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation>预测数</translation>
    </message>
    <message>
        <source>Last refresh</source>
        <translation>上次刷新</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练中</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>已关闭</translation>
    </message>
    <message>
        <source>The loop does not serve this project; connect the ML backend to it</source>
        <translation>循环未服务此项目；请将机器学习后端连接到该项目</translation>
    </message>
    <message>
        <source>The model version that answers Label Studio</source>
        <translation>为 Label Studio 提供预测的模型版本</translation>
    </message>
    <message>
        <source>Accuracy of the active model version</source>
        <translation>当前模型版本的准确率</translation>
    </message>
    <message>
        <source>What the loop is doing for this project</source>
        <translation>循环当前为此项目所做的事</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>Loop</source>
        <translation>循环</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::ScheduleEditor</name>
    <message>
        <source>Retrain this project by itself</source>
        <translation>自动重新训练此项目</translation>
    </message>
    <message>
        <source>Off: only “Train now” trains; the active version keeps serving</source>
        <translation>关闭时：只有“立即训练”会训练；当前版本继续提供服务</translation>
    </message>
    <message>
        <source>Every</source>
        <translation>每</translation>
    </message>
    <message>
        <source>new or changed annotations</source>
        <translation>条新增或修改的标注</translation>
    </message>
    <message>
        <source>minutes (when something changed)</source>
        <translation>分钟（有变化时）</translation>
    </message>
    <message>
        <source>Daily at</source>
        <translation>每天</translation>
    </message>
    <message>
        <source>When Label Studio asks (“Start training”)</source>
        <translation>Label Studio 请求时（“开始训练”）</translation>
    </message>
    <message>
        <source>A new version becomes active unless it is worse than the active one by more than this, with 95 % confidence, on the labelled tasks the active one was not trained on</source>
        <translation>除非在当前版本未训练过的已标注任务上，新版本以 95% 的置信度比当前版本差出此值以上，否则新版本将被启用</translation>
    </message>
    <message>
        <source>Activation margin:</source>
        <translation>启用容差：</translation>
    </message>
    <message>
        <source>With fewer annotated tasks, nothing trains by itself</source>
        <translation>已标注任务少于此数时，不会自动训练</translation>
    </message>
    <message>
        <source>Minimum examples:</source>
        <translation>最少样本数：</translation>
    </message>
    <message>
        <source>Older versions are deleted; the active one never is</source>
        <translation>更早的版本会被删除；当前版本永不删除</translation>
    </message>
    <message>
        <source>Versions kept:</source>
        <translation>保留版本数：</translation>
    </message>
    <message>
        <source>Refresh Label Studio&apos;s predictions after a new version</source>
        <translation>有新版本后刷新 Label Studio 中的预测</translation>
    </message>
    <message>
        <source>Uncertainty sampling (least certain tasks first)</source>
        <translation>不确定性采样（最不确定的任务优先）</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::SettingsDialog</name>
    <message>
        <source> seconds</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>Choose the data directory</source>
        <translation>选择数据目录</translation>
    </message>
    <message>
        <source>Data directory</source>
        <translation>数据目录</translation>
    </message>
    <message>
        <source>The directory %1 cannot be created. Choose another one.</source>
        <translation>无法创建目录 %1，请选择其他目录。</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>loopdeck::gui::VersionsModel</name>
    <message>
        <source>Threshold</source>
        <translation>阈值</translation>
    </message>
    <message>
        <source>Schedule</source>
        <translation>定时</translation>
    </message>
    <message>
        <source>Daily</source>
        <translation>每日</translation>
    </message>
    <message>
        <source>Label Studio</source>
        <translation>Label Studio</translation>
    </message>
    <message>
        <source>Manual</source>
        <translation>手动</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>No annotation has been compared with this version&apos;s predictions yet</source>
        <translation>尚无标注与此版本的预测进行比较</translation>
    </message>
    <message>
        <source>%1 of %2 annotations kept this version&apos;s prediction</source>
        <translation>%2 条标注中有 %1 条保留了此版本的预测</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>当前</translation>
    </message>
    <message>
        <source>What started the training run</source>
        <translation>触发训练的原因</translation>
    </message>
    <message>
        <source>Annotated tasks the version was trained on</source>
        <translation>训练此版本所用的已标注任务数</translation>
    </message>
    <message>
        <source>Share of held-out examples classified correctly</source>
        <translation>留出样本中分类正确的比例</translation>
    </message>
    <message>
        <source>F1 score averaged over the classes, each class counting the same</source>
        <translation>各类别 F1 的平均值，每个类别权重相同</translation>
    </message>
    <message>
        <source>Share of annotations that kept the label this version predicted</source>
        <translation>保留了此版本预测标签的标注所占比例</translation>
    </message>
    <message>
        <source>The version that answers Label Studio now</source>
        <translation>当前为 Label Studio 提供预测的版本</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Trained</source>
        <translation>训练时间</translation>
    </message>
    <message>
        <source>Trigger</source>
        <translation>触发方式</translation>
    </message>
    <message>
        <source>Examples</source>
        <translation>样本数</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>Macro-F1</source>
        <translation>宏平均 F1</translation>
    </message>
    <message>
        <source>Live</source>
        <translation>实际采纳</translation>
    </message>
    <message>
        <source>Serving</source>
        <translation>服务中</translation>
    </message>
</context>
<context>
    <name>loopdeck::labelconfig::LabelConfig</name>
    <message>
        <source>The labeling configuration is empty.</source>
        <translation>标注配置为空。</translation>
    </message>
    <message>
        <source>The labeling configuration must start with &lt;View&gt;, not &lt;%1&gt;.</source>
        <translation>标注配置必须以 &lt;View&gt; 开头，而不是 &lt;%1&gt;。</translation>
    </message>
    <message>
        <source>%1 &quot;%2&quot; is not a Choices control, so the text classifier cannot serve it.</source>
        <translation>%1 “%2” 不是 Choices 控件，内置文本分类器无法为其提供预测。</translation>
    </message>
    <message>
        <source>The labeling configuration is not valid XML (line %1, column %2): %3.</source>
        <translation>标注配置不是有效的 XML（第 %1 行，第 %2 列）：%3。</translation>
    </message>
    <message>
        <source>Choices &quot;%1&quot; has an empty toName.</source>
        <translation>Choices “%1” 的 toName 为空。</translation>
    </message>
    <message>
        <source>Choices &quot;%1&quot; is bound to several objects (%2); only one Text object is supported.</source>
        <translation>Choices “%1” 绑定了多个对象（%2）；只支持一个 Text 对象。</translation>
    </message>
    <message>
        <source>Choices &quot;%1&quot; points to &quot;%2&quot;, but the configuration has no object with that name.</source>
        <translation>Choices “%1” 指向 “%2”，但配置中没有这个名称的对象。</translation>
    </message>
    <message>
        <source>Choices &quot;%1&quot; classifies the %2 object &quot;%3&quot;, but the built-in model only reads Text.</source>
        <translation>Choices “%1” 分类的是 %2 对象 “%3”，但内置模型只能读取 Text。</translation>
    </message>
    <message>
        <source>Text &quot;%1&quot; shows fixed text (value=&quot;%2&quot;) instead of a task field like &quot;$text&quot;.</source>
        <translation>Text “%1” 显示的是固定文本（value=&quot;%2&quot;），而不是 &quot;$text&quot; 这样的任务字段。</translation>
    </message>
    <message>
        <source>Text &quot;%1&quot; loads its content from a URL (valueType=&quot;url&quot;), which the model does not download.</source>
        <translation>Text “%1” 从 URL 加载内容（valueType=&quot;url&quot;），模型不会下载这些内容。</translation>
    </message>
    <message>
        <source>Choices &quot;%1&quot; takes its options from task data (value=&quot;%2&quot;), which the model cannot learn.</source>
        <translation>Choices “%1” 的选项来自任务数据（value=&quot;%2&quot;），模型无法学习。</translation>
    </message>
    <message>
        <source>Choices &quot;%1&quot; has an unknown choice mode &quot;%2&quot;.</source>
        <translation>Choices “%1” 的选择模式 “%2” 无法识别。</translation>
    </message>
    <message>
        <source>Choices &quot;%1&quot; offers %2 option(s); a classifier needs at least two.</source>
        <translation>Choices “%1” 只有 %2 个选项；分类器至少需要两个。</translation>
    </message>
    <message>
        <source>The configuration has no controls, so there is nothing to predict.</source>
        <translation>配置中没有任何控件，因此没有可预测的内容。</translation>
    </message>
    <message>
        <source>The configuration has no Choices control bound to a Text object.</source>
        <translation>配置中没有绑定到 Text 对象的 Choices 控件。</translation>
    </message>
</context>
<context>
    <name>loopdeck::labelstudio::LsError</name>
    <message>
        <source> The server said: %1</source>
        <translation>服务器返回：%1</translation>
    </message>
    <message>
        <source>Cannot reach the Label Studio server%1: %2. Check the URL and that the server is running.</source>
        <translation>无法访问 Label Studio 服务器%1：%2。请检查地址，并确认服务器正在运行。</translation>
    </message>
    <message>
        <source>The Label Studio server%1 did not answer in time. It may be overloaded or the network is slow.</source>
        <translation>Label Studio 服务器%1 未能及时响应，可能负载过高或网络较慢。</translation>
    </message>
    <message>
        <source>The secure connection to%1 failed: %2. Check the certificate or use the right http/https scheme.</source>
        <translation>与%1 的安全连接失败：%2。请检查证书，或确认使用了正确的 http/https 协议。</translation>
    </message>
    <message>
        <source>Label Studio rejected the token (401).%1 Copy a fresh token from Account &amp; Settings.</source>
        <translation>Label Studio 拒绝了该令牌（401）。%1 请从“账户与设置”中复制新的令牌。</translation>
    </message>
    <message>
        <source>The Personal Access Token has expired or was revoked (401).%1 Create a new one in Account &amp; Settings.</source>
        <translation>个人访问令牌已过期或已被撤销（401）。%1 请在“账户与设置”中新建一个。</translation>
    </message>
    <message>
        <source>This organization has legacy tokens switched off (401). Use a Personal Access Token instead, or ask an owner to enable legacy tokens in Organization &gt; API Tokens Settings.</source>
        <translation>该组织已禁用旧版令牌（401）。请改用个人访问令牌，或请组织所有者在“组织 &gt; API 令牌设置”中启用旧版令牌。</translation>
    </message>
    <message>
        <source>Label Studio refuses to call an address on this machine or a private network (403: %1). Start Label Studio with ML_BLOCK_LOCAL_IP=false (and SSRF_PROTECTION_ENABLED=false so that webhooks reach LoopDeck), or serve the backend on an address Label Studio may call.</source>
        <translation>Label Studio 拒绝访问本机或私有网络中的地址（403：%1）。请使用 ML_BLOCK_LOCAL_IP=false 启动 Label Studio（并设置 SSRF_PROTECTION_ENABLED=false，使 Webhook 能到达 LoopDeck），或将后端部署在 Label Studio 可以访问的地址上。</translation>
    </message>
    <message>
        <source>The token&apos;s user may not do this (403).%1</source>
        <translation>该令牌所属用户无权执行此操作（403）。%1</translation>
    </message>
    <message>
        <source>Not found (404)%1. Check that the URL points to a Label Studio server and the project still exists.%2</source>
        <translation>未找到（404）%1。请确认地址指向 Label Studio 服务器，且项目仍然存在。%2</translation>
    </message>
    <message>
        <source>Label Studio refused the request (%1).%2</source>
        <translation>Label Studio 拒绝了该请求（%1）。%2</translation>
    </message>
    <message>
        <source>Label Studio had an internal error (%1)%2. Try again; if it persists, check the server&apos;s log.</source>
        <translation>Label Studio 发生内部错误（%1）%2。请重试；如果问题持续存在，请查看服务器日志。</translation>
    </message>
    <message>
        <source>Label Studio sent an answer LoopDeck cannot read: %1.</source>
        <translation>Label Studio 返回了 LoopDeck 无法解析的响应：%1。</translation>
    </message>
    <message>
        <source>Label Studio sent an answer LoopDeck cannot read: field &quot;%1&quot; %2.</source>
        <translation>Label Studio 返回了 LoopDeck 无法解析的响应：字段“%1”%2。</translation>
    </message>
    <message>
        <source>The request was cancelled.</source>
        <translation>请求已取消。</translation>
    </message>
    <message>
        <source>legacy token</source>
        <translation>旧版令牌</translation>
    </message>
    <message>
        <source>Personal Access Token</source>
        <translation>个人访问令牌</translation>
    </message>
    <message>
        <source>short-lived access token</source>
        <translation>短期访问令牌</translation>
    </message>
    <message>
        <source>no token</source>
        <translation>无令牌</translation>
    </message>
    <message>
        <source>The Label Studio server redirected LoopDeck to %1, which is another server (scheme, host or port). LoopDeck does not send the token there; if that is the right address, put it in the connection&apos;s URL.</source>
        <translation>Label Studio 服务器将 LoopDeck 重定向到 %1，这是另一台服务器（协议、主机或端口不同）。LoopDeck 不会把令牌发送到那里；如果这是正确的地址，请把它填入连接的 URL。</translation>
    </message>
</context>
<context>
    <name>loopdeck::settings::ConnectionProfiles</name>
    <message>
        <source>Enter the server address, for example http://localhost:8080.</source>
        <translation>请输入服务器地址，例如 http://localhost:8080。</translation>
    </message>
    <message>
        <source>The address must start with http:// or https://.</source>
        <translation>地址必须以 http:// 或 https:// 开头。</translation>
    </message>
    <message>
        <source>The address has no host name.</source>
        <translation>地址中缺少主机名。</translation>
    </message>
    <message>
        <source>Do not put a user name or password in the address; use the token field.</source>
        <translation>请勿在地址中包含用户名或密码，请使用令牌字段。</translation>
    </message>
</context>
<context>
    <name>loopdeck::settings::TokenStore</name>
    <message>
        <source>The system keychain is not available (%1); the token is kept for this session only.</source>
        <translation>系统密钥环不可用（%1）；令牌仅在本次会话中保留。</translation>
    </message>
    <message>
        <source>No system keychain is available; the token is kept for this session only and not saved.</source>
        <translation>没有可用的系统密钥环；令牌仅在本次会话中保留，不会保存。</translation>
    </message>
    <message>
        <source>The token could not be saved in the system keychain (%1); it is kept for this session only.</source>
        <translation>无法将令牌保存到系统密钥环（%1）；令牌仅在本次会话中保留。</translation>
    </message>
    <message>
        <source>LOOPDECK_TOKEN is ignored because LOOPDECK_URL does not say which server it is for.</source>
        <translation>已忽略 LOOPDECK_TOKEN：LOOPDECK_URL 未指明它属于哪个服务器。</translation>
    </message>
    <message>
        <source>LOOPDECK_TOKEN is ignored because it was given for %1, not for %2.</source>
        <translation>已忽略 LOOPDECK_TOKEN：它是为 %1 提供的，而不是为 %2。</translation>
    </message>
</context>
</TS>
