// The build page, live: stage and step states from the build's event stream, durations ticking while they
// run, and the log viewer (log-viewer.js) for the selected step. Without JavaScript the page is complete,
// only frozen at the moment it was served.
(function () {
  "use strict";

  const page = document.getElementById("build");
  if (!page) return;
  const texts = JSON.parse(page.dataset.statusText || "{}"); // status -> [icon, label]
  const DONE = new Set(["success", "failure", "killed", "error", "skipped", "declined"]);
  const FAILED = new Set(["failure", "killed", "error"]);

  function formatDuration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + "s";
    const pad = (n) => String(n).padStart(2, "0");
    if (seconds < 3600) return Math.floor(seconds / 60) + "m " + pad(seconds % 60) + "s";
    return Math.floor(seconds / 3600) + "h " + pad(Math.floor((seconds % 3600) / 60)) + "m";
  }

  function setStatus(element, status) {
    if (!element || !status || element.dataset.status === status) return;
    element.className = element.className.replace(/\bstatus-\S+/, "status-" + status);
    element.dataset.status = status;
    const [icon, label] = texts[status] || ["?", status];
    element.querySelector(".icon").textContent = icon;
    element.querySelector(".label").textContent = label;
  }

  function showText(element, text) {
    if (!element) return;
    element.textContent = text || "";
    element.hidden = !text;
  }

  function setTimes(element, started, finished) {
    if (!element) return;
    element.dataset.started = started || "";
    element.dataset.finished = finished || "";
    tick(element);
  }

  function tick(element) {
    const started = parseFloat(element.dataset.started);
    if (!started) return;
    const finished = parseFloat(element.dataset.finished) || Date.now() / 1000;
    element.textContent = formatDuration(finished - started);
  }

  function applyBuild(build) {
    setStatus(document.getElementById("build-status"), build.status);
    setTimes(document.getElementById("build-duration"), build.started, build.finished);
    const started = document.getElementById("build-started");
    if (started && build.started && !started.querySelector("time")) {
      const time = document.createElement("time");
      time.dateTime = new Date(build.started * 1000).toISOString();
      time.title = time.dateTime;
      time.textContent = "just now";
      started.replaceChildren(time);
    }
    const error = document.getElementById("build-error");
    const blocked = build.status === "blocked";
    showText(error, blocked ? "" : build.error); // a blocked build's reason is in the approval box
    if (error) error.className = error.className.replace(/\b(problem|note)\b/, FAILED.has(build.status) ? "problem" : "note");
    const approval = document.getElementById("approval");
    if (approval && !blocked) approval.hidden = true;
    const cancel = document.getElementById("cancel-form");
    if (cancel && !blocked && !DONE.has(build.status)) cancel.hidden = false;
    const noStages = document.getElementById("no-stages");
    if (noStages && build.error) noStages.textContent = "No stages: the pipeline could not be compiled.";
    document.title = document.title.replace(/^#(\d+) \S+/, "#$1 " + ((texts[build.status] || [])[1] || build.status));
    if (DONE.has(build.status) && build.finished) finish();
  }

  function applyStage(stage) {
    const section = document.getElementById("stage-" + stage.number);
    if (!section) return reloadOnce(); // stages the page was drawn without (the build was still compiling)
    const heading = section.querySelector("h2");
    setStatus(heading.querySelector(".status"), stage.status);
    setTimes(heading.querySelector(".duration"), stage.started, stage.finished);
    const restart = section.querySelector(".restart-stage");
    if (restart) restart.hidden = !stage.finished;
    // why it waits for its pipeline's concurrency limit: in snapshots; a stage that moved on waits no more
    const waiting = section.querySelector(".stage-waiting");
    if ("waiting" in stage) showText(waiting, stage.waiting);
    else if (stage.status !== "pending") showText(waiting, "");
  }

  function applyStep(step) {
    const item = document.getElementById("step-" + step.stage + "-" + step.number);
    if (!item) return;
    setStatus(item.querySelector(".status"), step.status);
    setTimes(item.querySelector(".duration"), step.started, step.finished);
    if (step.status === "running" && !item.classList.contains("selected")) followRunningStep(item);
    if (item.classList.contains("selected")) {
      setStatus(document.getElementById("log-status"), step.status);
      const failed = step.exit_code !== null && step.exit_code !== undefined && step.status !== "success";
      showText(document.getElementById("log-exit"), failed ? "exit code " + step.exit_code : "");
      showText(document.getElementById("log-error"), step.error);
    }
  }

  function reloadOnce() {
    // At most once a minute per page, so a stage that never shows up cannot make the page reload for ever.
    const key = "hangar-reloaded:" + location.pathname;
    if (Date.now() - Number(sessionStorage.getItem(key) || 0) > 60000) {
      sessionStorage.setItem(key, String(Date.now()));
      location.reload();
    }
  }

  // Whether the reader has scrolled, clicked or typed in the log: then the page stays on its step.
  let readerBusy = false;
  const logPanel = document.getElementById("log");
  for (const kind of ["wheel", "mousedown", "keydown", "touchstart"]) {
    if (logPanel) logPanel.addEventListener(kind, () => { readerBusy = true; }, { passive: true });
  }

  function followRunningStep(item) {
    // Opened as the build's page (no step chosen), the page moves on to the step that runs now, once the one
    // it shows has finished, unless the reader is busy with the log.
    if (page.dataset.stepChosen === "1" || readerBusy) return;
    const shown = document.getElementById("log-status");
    if (shown && !DONE.has(shown.dataset.status)) return;
    const link = item.querySelector("a");
    if (link) location.replace(link.href + "?auto");
  }

  function applySnapshot(build) {
    for (const stage of build.stages || []) {
      applyStage(stage);
      for (const step of stage.steps || []) applyStep(Object.assign({ stage: stage.number }, step));
    }
    applyBuild(build);
  }

  let source = null;
  let finished = page.dataset.done === "1";

  function finish() {
    finished = true;
    page.dataset.done = "1";
    if (source) source.close();
    const cancel = document.getElementById("cancel-form");
    if (cancel) cancel.hidden = true;
    const restart = document.getElementById("restart-form");
    if (restart) restart.hidden = false;
    const promote = document.getElementById("promote");
    if (promote) promote.hidden = false;
    const cancelling = document.getElementById("cancelling");
    if (cancelling) cancelling.hidden = true;
  }

  function listen() {
    if (finished) return;
    source = new EventSource(page.dataset.eventsUrl);
    const handle = (apply) => (event) => apply(JSON.parse(event.data));
    source.addEventListener("snapshot", handle(applySnapshot));
    source.addEventListener("build", handle(applyBuild));
    source.addEventListener("stage", handle(applyStage));
    source.addEventListener("step", handle(applyStep));
    source.onerror = () => {
      // A closed stream (the server answered an error, e.g. while restarting) is opened again;
      // the browser itself retries a dropped connection, and the snapshot then brings the page up to date.
      if (source.readyState === EventSource.CLOSED && !finished) setTimeout(listen, 2000);
    };
  }

  setInterval(() => {
    for (const element of document.querySelectorAll('.duration[data-finished=""]')) tick(element);
  }, 1000);

  const log = document.getElementById("log");
  if (log && window.HangarLog) {
    for (const element of log.querySelectorAll(".js-only")) element.hidden = false;
    // The log fills the window below where it starts, so followed lines are never under the fold.
    const fit = () => {
      const top = log.querySelector(".log-body").getBoundingClientRect().top + window.scrollY;
      log.style.setProperty("--log-height", Math.max(240, window.innerHeight - top - 16) + "px");
    };
    fit();
    window.addEventListener("resize", fit);
    window.HangarLog.mount(log);
    // A failed step opens at its end, where the failure is (unless a line was asked for with #L…).
    const failed = ["failure", "error", "killed"].includes((document.getElementById("log-status") || {}).dataset?.status);
    if (failed && !location.hash && log.hangarLog) log.hangarLog.scrollToLine(log.hangarLog.totalLines());
  }
  listen();
})();
