<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>BackendPanel</name>
    <message>
        <source>Connected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Training</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predicting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio set up project %1 (model version: %2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Backend server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Address to listen on; 127.0.0.1 keeps the backend on this machine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Port:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Listen on:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>State:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start the backend to get its URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy the URL to paste it into Label Studio&apos;s Model settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connect to this project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Register this backend in the project&apos;s Model settings (an existing registration for the same URL is reused)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Check again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask Label Studio how it sees this backend now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fetch predictions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ask Label Studio to get predictions from this backend for all the project&apos;s tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio says:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predictions:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Traffic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Requests</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Errors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Latency p50</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Latency p99</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uptime</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Recent requests</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Path</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Latency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Client</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Running</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed to start</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use port %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select a project on the Projects tab to connect this backend to it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt; (#%2) — %3 tasks, %4 predictions in Label Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connect to a Label Studio server first</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LoopDeck&apos;s built-in text classifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Registering…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Request failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not connected to this project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Press “Connect to this project” to register the backend.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start the backend, then connect it to the project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Registered as “%1” at %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model version: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio reports: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not requested yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Asking Label Studio to fetch predictions…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Label Studio processed %n task(s) at %1; the counts update on the next refresh.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Label Studio fetched predictions at %1; the counts update on the next refresh.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConnectionDialog</name>
    <message>
        <source>Connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connect LoopDeck to a Label Studio server. Find your token in Label Studio under Account &amp; Settings → Personal Access Token (or Legacy Token).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>e.g. Team server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Server &amp;URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>http://localhost:8080</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Token:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Show</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Detected: legacy token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Detected: Personal Access Token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Detected: short-lived access token — it will expire; use a Personal Access Token for a lasting connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paste the token from Label Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edit connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Leave empty to keep the saved token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No system keychain is available: the token is kept for this session only.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The token is stored in the system keychain, never in a settings file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Enter the address of the Label Studio server.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The saved token is kept.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A token is needed to read projects.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Give the connection a name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Another connection is already called “%1”.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConnectionProfiles</name>
    <message>
        <source>Enter the server address, for example http://localhost:8080.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The address must start with http:// or https://.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The address has no host name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Do not put a user name or password in the address; use the token field.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DashboardSession</name>
    <message>
        <source>Cannot create the data directory %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot open the local store in %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not record progress: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>LsError</name>
    <message>
        <source> The server said: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot reach the Label Studio server%1: %2. Check the URL and that the server is running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The Label Studio server%1 did not answer in time. It may be overloaded or the network is slow.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The secure connection to%1 failed: %2. Check the certificate or use the right http/https scheme.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio rejected the token (401).%1 Copy a fresh token from Account &amp; Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The Personal Access Token has expired or was revoked (401).%1 Create a new one in Account &amp; Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This organization has legacy tokens switched off (401). Use a Personal Access Token instead, or ask an owner to enable legacy tokens in Organization &gt; API Tokens Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio refuses to call an address on this machine or a private network (403: %1). Start Label Studio with ML_BLOCK_LOCAL_IP=false (and SSRF_PROTECTION_ENABLED=false so that webhooks reach LoopDeck), or serve the backend on an address Label Studio may call.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The token&apos;s user may not do this (403).%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not found (404)%1. Check that the URL points to a Label Studio server and the project still exists.%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio refused the request (%1).%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio had an internal error (%1)%2. Try again; if it persists, check the server&apos;s log.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio sent an answer LoopDeck cannot read: %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio sent an answer LoopDeck cannot read: field &quot;%1&quot; %2.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The request was cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>token saved in keychain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not saved — session only</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>from LOOPDECK_TOKEN — not saved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LoopDeck</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refreshing…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last refresh at %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Refresh failed at %1; retrying automatically</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Add connection…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add a Label Studio connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit connection…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Change the URL or token of this connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Remove connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fetch the projects again now (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About LoopDeck</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About LoopDeck</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;LoopDeck %1&lt;/h3&gt;&lt;p&gt;A desktop control panel for the Label Studio labeling loop: project progress, a built-in ML backend and its model.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved Label Studio connections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Projects</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ML backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Filter projects by title…</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Auto-refresh every %n second(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>No connection yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No connection yet — choose “Add connection…” to connect to a Label Studio server.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No token for “%1” — choose “Edit connection…” to enter it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove the connection “%1” and forget its token?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connecting to %1…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connected to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Disconnected — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connection failed — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label Studio —</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>User —</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No projects</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n project(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n project(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ProjectDetailPane</name>
    <message>
        <source>Select a project to see its details.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Progress</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Annotated tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Finished tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Annotations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Useful annotations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ground truth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model version</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Label config</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Annotations over time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(untitled #%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Project #%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>created by %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The built-in text classifier can serve this project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The built-in text classifier cannot serve this project.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Text classification targets</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>multiple choice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>single choice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>reads $%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no choices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Objects:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Controls:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not served</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This project has no label config yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No progress recorded yet; each refresh adds a point.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n snapshot(s) since %1.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ProjectsModel</name>
    <message>
        <source>(untitled #%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Project #%1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Project #%1 — %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 tasks have at least one annotation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tasks in the project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tasks with at least one annotation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Share of tasks with at least one annotation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Annotations, all tasks together</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Annotations that were skipped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predictions stored in Label Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>When these counts were fetched</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Project</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Annotated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Done</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Annotations</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last refresh</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Refresh every:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Projects are refreshed in the background; the window never waits for the server.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Storage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Data directory:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Progress history and models are kept here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> seconds</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose the data directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Data directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The directory %1 cannot be created. Choose another one.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TokenStore</name>
    <message>
        <source>The system keychain is not available (%1); the token is kept for this session only.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No system keychain is available; the token is kept for this session only and not saved.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The token could not be saved in the system keychain (%1); it is kept for this session only.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>loopdeck::labelstudio</name>
    <message>
        <source>legacy token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Personal Access Token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>short-lived access token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no token</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
